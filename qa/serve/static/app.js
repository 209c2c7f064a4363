// Progressive enhancement for the page: questions and uploads without a page reload.
// Without JavaScript the same forms work as plain GET/POST forms. The answer is the same HTML the
// server renders for the page (escaped by its templates); every other text from the server is set
// with textContent, never parsed as HTML.
"use strict";

(function () {
  const $ = (selector) => document.querySelector(selector);

  function el(tag, props, children) {
    const node = document.createElement(tag);
    Object.assign(node, props || {});
    for (const child of children || []) {
      node.append(child);
    }
    return node;
  }

  function showStatus(target, message, kind) {
    target.replaceChildren(message ? el("p", { className: kind || "muted", textContent: message }) : "");
  }

  // The ask form's question, filters, grouping and order as query parameters (empty fields left out).
  function askParams() {
    const params = new URLSearchParams();
    for (const [name, value] of new FormData($("#ask-form"))) {
      if (String(value).trim()) {
        params.append(name, value);
      }
    }
    return params;
  }

  // Set the ask form's controls from query parameters (a facet link, or the history).
  function setControls(params) {
    const form = $("#ask-form");
    form.elements.q.value = params.get("q") || "";
    form.elements.source.value = params.get("source") || "";
    form.elements.from.value = params.get("from") || "";
    form.elements.to.value = params.get("to") || "";
    form.elements.sort.value = params.get("sort") || "";
    form.elements.group.checked = params.get("group") === "article";
  }

  async function ask(question, push) {
    const status = $("#ask-status");
    const region = $("#answer-region");
    if (!question.trim()) {
      showStatus(status, "Type a question first.", "error");
      return;
    }
    showStatus(status, "Searching the articles…");
    region.setAttribute("aria-busy", "true");
    const params = askParams();
    try {
      const response = await fetch("/results?" + params);
      if (!response.ok) {
        showStatus(status, "Something went wrong on the server (" + response.status + "). Please try again.", "error");
        return;
      }
      region.innerHTML = await response.text(); // rendered and escaped by the server's template
      showStatus(status, "");
      document.title = question + " · Ask the articles";
      if (push) {
        history.pushState({ q: question }, "", "/?" + params);
      }
    } catch (err) {
      showStatus(status, "The server could not be reached. Check that it is running and try again.", "error");
    } finally {
      region.removeAttribute("aria-busy");
    }
  }

  // The article list, as the server renders it (escaped by its template), for these parameters.
  async function showArticles(params) {
    const response = await fetch("/article-list?" + params);
    if (response.ok) {
      $("#articles-region").innerHTML = await response.text();
    }
  }

  async function refreshCorpus() {
    const [health] = await Promise.all([
      fetch("/api/health").then((r) => r.json()),
      showArticles(new URLSearchParams(new FormData($("#list-form")))),
    ]);
    $("#stats").textContent = health.articles + " article" + (health.articles === 1 ? "" : "s") + " to search";
  }

  function addedMessage(body) {
    if (body.status === "unchanged") {
      return "“" + body.title + "” is already in the collection; nothing changed.";
    }
    if (body.status === "replaced") {
      return "Updated “" + body.title + "”. Questions now find the new text.";
    }
    if (body.status === "duplicate") {
      return "Stored “" + body.title + "” as a copy of the article " + body.duplicate_of +
        ": answers show that story once and name this copy beside it.";
    }
    return "Added “" + body.title + "”. You can ask about it now.";
  }

  function errorText(body, status) {
    const message = body && body.error ? body.error.message : "something went wrong on the server (" + status + ")";
    return message.charAt(0).toUpperCase() + message.slice(1) + ".";
  }

  // Follow a background job to its end, showing its progress in passages; its final status.
  async function followJob(url, status, progress, doing) {
    for (;;) {
      const response = await fetch(url);
      const job = await response.json();
      if (!response.ok) {
        throw new Error(errorText(job, response.status));
      }
      if (job.state === "done") {
        return job;
      }
      if (job.state === "failed") {
        throw new Error(errorText({ error: job.error }, 400));
      }
      if (job.total) {
        progress.max = job.total;
        progress.value = job.done;
        showStatus(status, doing + ": " + job.done + " of " + job.total + " passages…");
      } else {
        showStatus(status, job.state === "queued" ? "Waiting for the writes ahead of it…" : doing + "…");
      }
      await new Promise((resolve) => setTimeout(resolve, 400));
    }
  }

  async function reindex(form) {
    const status = $("#reindex-status");
    const progress = $("#reindex-progress");
    const token = new FormData(form).get("token");
    showStatus(status, "Asking the server to re-read the folder…");
    try {
      const response = await fetch("/api/index", {
        method: "POST", headers: token ? { Authorization: "Bearer " + token } : {},
      });
      const body = await response.json();
      if (response.status !== 202) {
        showStatus(status, errorText(body, response.status), "error");
        return;
      }
      progress.hidden = false;
      const job = await followJob(body.status_url, status, progress, "Indexing new and changed files");
      const r = job.result;
      showStatus(status, "Corpus folder re-read: " + r.added + " added, " + r.updated + " updated, " + r.removed +
        " removed, " + r.unchanged + " unchanged" + (r.errors.length ? "; " + r.errors.join("; ") : "") + ".",
        r.errors.length ? "error" : "success");
      await refreshCorpus();
    } catch (err) {
      showStatus(status, err.message || "The server could not be reached.", "error");
    } finally {
      progress.hidden = true;
    }
  }

  function addArticle(form) {
    const status = $("#add-status");
    const progress = $("#add-progress");
    const data = new FormData(form);
    const token = data.get("token");
    data.delete("token");
    const file = data.get("file");
    if (file && !file.name) {
      data.delete("file");
    }
    if (!String(data.get("url") || "").trim()) {
      data.delete("url");
    }
    if (!data.get("file") && !data.get("url") && !String(data.get("text") || "").trim()) {
      showStatus(status, "Paste the article text, choose a file or give its address.", "error");
      return;
    }
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/articles?wait=false"); // answered once stored; the job is followed below
    if (token) {
      xhr.setRequestHeader("Authorization", "Bearer " + token);
    }
    progress.hidden = false;
    progress.removeAttribute("value");
    showStatus(status, "Uploading…");
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) {
        progress.value = Math.round((100 * event.loaded) / event.total);
        if (event.loaded === event.total) {
          progress.removeAttribute("value");
          showStatus(status, "Reading the article…");
        }
      }
    });
    xhr.addEventListener("load", async () => {
      let body = {};
      try {
        body = JSON.parse(xhr.responseText);
      } catch (err) {
        body = {};
      }
      if (xhr.status !== 202) {
        progress.hidden = true;
        showStatus(status, errorText(body, xhr.status), "error");
        return;
      }
      form.reset();
      try {
        const job = await followJob(body.status_url, status, progress, "Indexing the article");
        showStatus(status, addedMessage(job.result), "success");
        await refreshCorpus();
      } catch (err) {
        showStatus(status, err.message || "The server could not be reached.", "error");
      } finally {
        progress.hidden = true;
      }
    });
    xhr.addEventListener("error", () => {
      progress.hidden = true;
      showStatus(status, "The server could not be reached. Check that it is running and try again.", "error");
    });
    xhr.send(data);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const askForm = $("#ask-form");
    if (askForm) {
      askForm.addEventListener("submit", (event) => {
        event.preventDefault();
        ask($("#q").value, true);
      });
      for (const link of document.querySelectorAll("a.example")) {
        link.addEventListener("click", (event) => {
          event.preventDefault();
          $("#q").value = link.textContent;
          ask(link.textContent, true);
        });
      }
      for (const control of askForm.querySelectorAll("select, input[type=date], input[type=checkbox]")) {
        control.addEventListener("change", () => {
          if ($("#q").value.trim()) {
            ask($("#q").value, true);
          }
        });
      }
      $("#answer-region").addEventListener("click", (event) => {
        const chip = event.target.closest("a.chip");
        if (chip) {
          event.preventDefault();
          setControls(new URL(chip.href).searchParams);
          ask($("#q").value, true);
        }
      });
      window.addEventListener("popstate", () => {
        const params = new URLSearchParams(location.search);
        setControls(params);
        if (params.get("q")) {
          ask(params.get("q"), false);
        }
      });
    }
    const articles = $("#articles-region");
    if (articles) {
      articles.addEventListener("submit", (event) => {
        if (event.target.id === "list-form") {
          event.preventDefault();
          showArticles(new URLSearchParams(new FormData(event.target)));
        }
      });
      articles.addEventListener("click", (event) => {
        const link = event.target.closest(".pager a");
        if (link) {
          event.preventDefault();
          showArticles(new URL(link.href).searchParams);
        }
      });
    }
    const addForm = $("#add-form");
    if (addForm) {
      addForm.addEventListener("submit", (event) => {
        event.preventDefault();
        addArticle(addForm);
      });
    }
    const reindexForm = $("#reindex-form");
    if (reindexForm) {
      reindexForm.addEventListener("submit", (event) => {
        event.preventDefault();
        reindex(reindexForm);
      });
    }
    const passage = document.getElementById("passage");
    if (passage) {
      passage.focus({ preventScroll: true });
      passage.scrollIntoView({ block: "center" });
    }
  });
})();
