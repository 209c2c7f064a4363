"""The command line: bad input is one `error:` line and exit status 2, never a traceback."""

import json
import socket

import pytest

from qa.serve.cli import main


@pytest.mark.parametrize("argv,fragment", [
    (["eval", "tests/data/seed_questions.jsonl", "--alpha", "2"], "alpha must be between 0 and 1"),
    (["eval", "tests/data/seed_questions.jsonl", "--feedback", "-1"], "feedback must be 0 or more"),
    (["eval", "tests/data/seed_questions.jsonl", "--window", "2", "--stride", "3"], "stride"),
    (["eval", "tests/data/seed_questions.jsonl", "--article-depth", "0"], "article depth must be 1 or more"),
    (["eval", "tests/data/seed_questions.jsonl", "--article-weight", "-1"], "article weight must be 0 or more"),
    (["eval", "tests/data/seed_questions.jsonl", "--distractors", "no/such/folder"], "no/such/folder"),
    (["eval", "no/such/file.jsonl"], "no/such/file.jsonl"),
    (["serve", "--port", "70000"], "port must be from 0 to 65535"),
    (["serve", "--threads", "0"], "threads must be 1 or more"),
    (["serve", "--host", "999.1.1.1"], "cannot listen on 999.1.1.1:8000"),  # before the corpus is read
    (["ask", "  "], "a non-empty question is required"),                 # before the model loads
    (["ask", "Who?", "-k", "0"], "k must be from 1 to 50"),
    (["articles", "--limit", "0"], "--limit must be from 1 to 100"),         # before the index is opened
    (["index", "--corpus-name", "desk//b"], "corpus name must be"),
])
def test_bad_input_is_one_error_line(argv, fragment, capsys, tmp_path):
    assert main(argv + ["--index-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and fragment in err[0]


@pytest.mark.parametrize("blocked", ["index", "index/qa.sqlite3"])
def test_an_index_that_cannot_be_opened_is_one_error_line(blocked, tmp_path, capsys):
    (tmp_path / blocked).parent.mkdir(parents=True, exist_ok=True)
    if blocked == "index":
        (tmp_path / blocked).write_text("a file where the index folder should be")
    else:
        (tmp_path / blocked).mkdir()  # a folder where the database file should be
    assert main(["remove", "anything", "--index-dir", str(tmp_path / "index")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "index" in err[0]


@pytest.mark.parametrize("name,value", [("QA_ANN", "hnsw"), ("QA_PORT", "eighty")])
def test_bad_settings_in_the_environment_are_one_error_line(name, value, monkeypatch, capsys):
    monkeypatch.setenv(name, value)
    assert main(["eval", "tests/data/seed_questions.jsonl"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {name} must be " + err[0].split(" must be ", 1)[1]] and repr(value) in err[0]


def test_add_stores_good_files_and_names_each_file_without_sentences(tmp_path, capsys):
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text("Bridge Reopens\n\nThe old bridge reopened on Monday after two years of repairs. "
                    "Traffic flowed freely again by the evening.")
    bad.write_text("... !!! ???")
    argv = ["--index-dir", str(tmp_path / "index"), "--corpus-dir", str(tmp_path / "corpus")]
    assert main(["add", str(good), str(bad), "--json"] + argv) == 1
    out, err = capsys.readouterr()
    assert [json.loads(line)["id"] for line in out.splitlines()] == ["good"]
    assert [line for line in err.splitlines() if line.startswith("error:")] == [f"error: {bad}: no sentences to index"]
    assert main(["ask", "When did the bridge reopen?"] + argv) == 0
    assert "reopened on Monday" in capsys.readouterr().out
    assert main(["articles", "--title", "BRIDGE"] + argv) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == ["good  ----------  Bridge Reopens  (2 passages)"]
    assert err.splitlines()[-1] == "1-1 of 1 articles whose titles hold 'BRIDGE'"
    assert main(["articles", "good", "--json"] + argv) == 0
    assert json.loads(capsys.readouterr().out)["text"] == good.read_text()


def test_add_refuses_only_the_file_that_would_change_a_corpus_article(tmp_path, capsys):
    corpus, incoming = tmp_path / "corpus", tmp_path / "in"
    corpus.mkdir()
    incoming.mkdir()
    (corpus / "ferry.txt").write_text("Ferry\n\nThe ferry runs hourly again. Tickets cost two pounds.")
    (incoming / "ferry.txt").write_text("Ferry\n\nThe ferry is cancelled for the winter. Crews are retraining.")
    (incoming / "tram.txt").write_text("Tram\n\nThe tram line opens in May. It crosses the river twice.")
    argv = ["--index-dir", str(tmp_path / "index"), "--corpus-dir", str(corpus)]
    assert main(["index"] + argv) == 0
    capsys.readouterr()
    assert main(["add", str(incoming), "--json"] + argv) == 1
    out, err = capsys.readouterr()
    assert [json.loads(line)["id"] for line in out.splitlines()] == ["tram"]  # the other file is stored
    assert [line for line in err.splitlines() if line.startswith("error:")] == [
        f"error: {incoming / 'ferry.txt'}: article 'ferry' is a file in corpus/: edit that file, "
        "or add this one with another --id"]
    assert main(["remove", "ferry"] + argv) == 2
    assert "delete the file" in capsys.readouterr().err
    (corpus / "ferry.txt").unlink()  # once the file is gone, the article may go too
    assert main(["remove", "ferry"] + argv) == 0


def test_serve_on_a_port_in_use_is_one_error_line_before_the_corpus_is_read(tmp_path, capsys):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port), "--index-dir", str(tmp_path / "index")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: cannot listen on 127.0.0.1:{port}")
    assert not (tmp_path / "index").exists()  # nothing was opened or indexed
