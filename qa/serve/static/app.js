// Progressive enhancement for the page: questions and uploads without a page reload.
// Without JavaScript the same forms work as plain GET/POST forms. Every piece of
// text from the server is set with textContent, never parsed as HTML.
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

  function articleLink(result) {
    const params = new URLSearchParams({ start: result.start, end: result.end });
    return "/articles/" + encodeURIComponent(result.article.id) + "?" + params + "#passage";
  }

  function renderResult(result, topScore) {
    const a = result.answer_start - result.start;
    const b = result.answer_end - result.start;
    const text = result.text;
    const meta = [result.article.author, result.article.date, result.article.source].filter(Boolean).join(" · ");
    const width = topScore > 0 ? Math.round((100 * result.score) / topScore) : 0;
    const bar = el("span", { className: "bar" });
    bar.style.width = width + "%";
    return el("li", { className: "result" }, [
      el("h3", {}, [el("a", { href: articleLink(result), textContent: result.article.title })]),
      el("p", { className: "meta", textContent: meta }),
      el("p", { className: "passage" }, [
        text.slice(0, a),
        el("mark", { textContent: text.slice(a, b) }),
        text.slice(b),
      ]),
      el("div", { className: "score" }, [el("span", { className: "track", ariaHidden: "true" }, [bar]), el("span", { className: "muted", textContent: "score " + result.score.toFixed(3) })]),
      el("a", { className: "context", href: articleLink(result), textContent: "Read in context" }),
    ]);
  }

  function showStatus(target, message, kind) {
    target.replaceChildren(message ? el("p", { className: kind || "muted", textContent: message }) : "");
  }

  async function readError(response) {
    try {
      const body = await response.json();
      return body.error ? body.error.message : "request failed (" + response.status + ")";
    } catch (err) {
      return "request failed (" + response.status + ")";
    }
  }

  async function ask(question, push) {
    const status = $("#ask-status");
    const list = $("#results");
    if (!question.trim()) {
      showStatus(status, "Type a question first.", "error");
      return;
    }
    showStatus(status, "Searching…");
    list.setAttribute("aria-busy", "true");
    try {
      const response = await fetch("/api/ask?" + new URLSearchParams({ q: question, k: 5 }));
      if (!response.ok) {
        showStatus(status, await readError(response), "error");
        list.replaceChildren();
        return;
      }
      const body = await response.json();
      const top = body.results.length ? body.results[0].score : 1;
      list.replaceChildren(...body.results.map((r) => renderResult(r, top)));
      if (!body.results.length) {
        list.append(el("li", { className: "empty", textContent: "No passage matches that question." }));
      }
      const count = body.results.length;
      showStatus(status, count + " passage" + (count === 1 ? "" : "s") + " in " + body.took_ms + " ms");
      document.title = question + " · Ask the articles";
      if (push) {
        history.pushState({ q: question }, "", "/?" + new URLSearchParams({ q: question }));
      }
    } catch (err) {
      showStatus(status, "The server could not be reached.", "error");
    } finally {
      list.removeAttribute("aria-busy");
    }
  }

  async function refreshCorpus() {
    const [health, listing] = await Promise.all([
      fetch("/api/health").then((r) => r.json()),
      fetch("/api/articles?limit=100").then((r) => r.json()),
    ]);
    $("#stats").textContent = health.articles + " article" + (health.articles === 1 ? "" : "s") + ", " +
      health.passages + " passages indexed";
    $("#article-list").replaceChildren(...listing.articles.map((art) => {
      const details = [art.author, art.date].filter(Boolean).concat([art.passages + " passages"]).join(" · ");
      return el("li", {}, [
        el("a", { href: "/articles/" + encodeURIComponent(art.id), textContent: art.title }),
        " ",
        el("span", { className: "muted", textContent: details }),
      ]);
    }));
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
    if (!data.get("file") && !String(data.get("text") || "").trim()) {
      showStatus(status, "Paste the article text or choose a file.", "error");
      return;
    }
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/articles");
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
          showStatus(status, "Indexing…");
        }
      }
    });
    xhr.addEventListener("load", async () => {
      progress.hidden = true;
      let body = {};
      try {
        body = JSON.parse(xhr.responseText);
      } catch (err) {
        body = {};
      }
      if (xhr.status >= 400) {
        showStatus(status, body.error ? body.error.message : "request failed (" + xhr.status + ")", "error");
        return;
      }
      const message = body.status === "unchanged"
        ? "“" + body.id + "” was already indexed; nothing changed."
        : "Article “" + body.id + "” " + body.status + ": " + body.passages + " passages, searchable now.";
      showStatus(status, message, "success");
      form.reset();
      await refreshCorpus();
    });
    xhr.addEventListener("error", () => {
      progress.hidden = true;
      showStatus(status, "The server could not be reached.", "error");
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
      window.addEventListener("popstate", (event) => {
        const question = (event.state && event.state.q) || new URLSearchParams(location.search).get("q") || "";
        $("#q").value = question;
        if (question) {
          ask(question, false);
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
    const passage = document.getElementById("passage");
    if (passage) {
      passage.focus({ preventScroll: true });
      passage.scrollIntoView({ block: "center" });
    }
  });
})();
