"""The command line, mirroring the API: serve, ask, index, add, remove, eval.

Every command builds the same :class:`~qa.service.QAService` the server uses.
Expected failures print one ``error: ...`` line and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import socket
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

from qa.config import ANN_KINDS, BACKENDS, ENGINES, FILTER_DATES, FILTER_LISTS, FUSIONS, GROUPS, LEXICAL_NORMS, \
    LIST_ORDERS, MAX_OFFSET, MAX_PAGE, SORTS, Settings
from qa.errors import BadInput, QAError

log = logging.getLogger("qa")


def build_parser() -> argparse.ArgumentParser:
    # SUPPRESS: an option may stand before or after the command without one hiding the other.
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument("--model", help="embedding model: a name or a local folder (env QA_MODEL)")
    common.add_argument("--corpus-dir", type=Path, help="folder of article files (env QA_CORPUS_DIR)")
    common.add_argument("--corpus-name",
                        help="this folder's name when several corpus folders feed one shared engine (Milvus): a "
                             "sync then adds, changes and removes only the articles of its own folder "
                             "(env QA_CORPUS_NAME)")
    common.add_argument("--index-dir", type=Path, help="where the index is kept (env QA_INDEX_DIR)")
    common.add_argument("--backend", choices=BACKENDS,
                        help="run the model with PyTorch (default), ONNX Runtime, or ONNX int8 (env QA_BACKEND; "
                             "onnx needs pip install '.[onnx]')")
    common.add_argument("--ann", choices=ANN_KINDS,
                        help="vector search: exact (flat), approximate (ivf), or by corpus size (auto; env QA_ANN)")
    common.add_argument("--engine", choices=ENGINES,
                        help="where the index lives: SQLite + FAISS + tantivy in the index folder (local, the "
                             "default) or Milvus (env QA_ENGINE)")
    common.add_argument("--milvus-uri", help="a Milvus server (http://host:19530) or a Milvus Lite file "
                                             "(env QA_MILVUS_URI; default INDEX_DIR/milvus.db)")
    common.add_argument("--min-confidence", type=float,
                        help="give no answer below this confidence, 0-1 (env QA_MIN_CONFIDENCE; default: the "
                             "measured value shipped with the confidence model)")

    parser = argparse.ArgumentParser(prog="run.py", description="Question answering over news articles.",
                                     epilog="From a clone, `python run.py bench` runs the benchmark program "
                                            "(benchmarks/bench.py; `run.py bench --help`).", parents=[common])
    sub = parser.add_subparsers(dest="command")

    def command(name: str, help: str, example: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], help=help, description=help[:1].upper() + help[1:] + ".",
                              epilog=f"example: {example}", formatter_class=argparse.RawDescriptionHelpFormatter)

    serve = command("serve", "index corpus/ and serve HTTP (the default command)",
                    "python run.py serve --port 9000 --token \"$(openssl rand -hex 16)\"")
    _serve_options(serve)
    _serve_options(parser)

    ask = command("ask", "print the answer and the best passages for a question (through the running server, "
                         "if there is one)", 'python run.py ask "Who voted against the budget?" -k 3')
    ask.add_argument("question", help="the question, in plain words")
    ask.add_argument("-k", type=int, default=5, help="how many passages, 1-50 (default 5)")
    ask.add_argument("--json", action="store_true", help="print the API's JSON instead")
    only = ask.add_argument_group("only some articles (before ranking)")
    only.add_argument("--source", action="append", help="from this publication (repeatable)")
    only.add_argument("--author", action="append", help="by this author (repeatable)")
    only.add_argument("--article", action="append", metavar="ID", help="this article (repeatable)")
    only.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="dated on or after")
    only.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="dated on or before")
    ask.add_argument("--group", choices=GROUPS, help="article: one passage per article, its best")
    ask.add_argument("--sort", choices=SORTS, help="date: newest first (default: relevance)")

    add = command("add", "add (or replace) articles from files, folders or web pages (through the running server, "
                         "if there is one)", "python run.py add story.txt reports/ https://example.com/news/story.html")
    add.add_argument("paths", nargs="+", metavar="PATH",
                     help=".txt, .md, .html or .pdf files, folders of them, or http(s) addresses of pages")
    add.add_argument("--id", dest="article_id",
                     help="the article's id (one file or page only; default: the file name's slug, or the headline's)")
    add.add_argument("--json", action="store_true", help="one JSON object per file instead of a line of text")

    remove = command("remove", "remove an article by its id (through the running server, if there is one)",
                     "python run.py remove bridge-reopens")
    remove.add_argument("article_id", metavar="ID", help="the article's id, as `add` or the API printed it")
    remove.add_argument("--json", action="store_true", help="print a JSON object instead")

    articles = command("articles", "list the articles, or show one with its text (through the running server, if "
                                   "there is one)", "python run.py articles --title bridge --sort date")
    articles.add_argument("article_id", nargs="?", metavar="ID", help="show this article: its metadata and text")
    articles.add_argument("--title", default="", help="only articles whose titles hold this (any case)")
    articles.add_argument("--sort", choices=LIST_ORDERS, default="added",
                          help="added (default), date (newest first) or title")
    articles.add_argument("--offset", type=int, default=0, help="skip this many (default 0)")
    articles.add_argument("--limit", type=int, default=20, help=f"at most this many, 1-{MAX_PAGE} (default 20)")
    articles.add_argument("--json", action="store_true", help="print the API's JSON instead")

    jobs = command("jobs", "the latest queued writes (uploads sent with wait=false, re-reads of corpus/), or one "
                           "of them (through the running server, if there is one)", "python run.py jobs")
    jobs.add_argument("job_id", nargs="?", metavar="ID", help="show this job, as the API's status_url names it")
    jobs.add_argument("--json", action="store_true", help="print the API's JSON instead")

    index = command("index", "re-read corpus/ into the index: new, changed and deleted files (through the running "
                             "server, if there is one)", "python run.py index")
    index.add_argument("--rebuild", action="store_true",
                       help="re-embed every stored article with --model (after changing models; no server running)")
    index.add_argument("--migrate-to", choices=ENGINES, metavar="ENGINE",
                       help="copy this index (articles, passages, vectors: nothing re-embedded) into the other "
                            "engine, e.g. `--migrate-to milvus --milvus-uri http://host:19530` (no server running)")
    index.add_argument("--json", action="store_true", help="print a JSON object instead")
    feeds = command("feeds", "follow RSS and Atom feeds: the server polls them and adds new items",
                    "python run.py feeds add https://example.com/news/rss.xml --every 30")
    feed_actions = feeds.add_subparsers(dest="action", required=True)
    feed_add = feed_actions.add_parser("add", parents=[common], help="follow a feed (polled by the running server)")
    feed_add.add_argument("url", help="the feed's http(s) address")
    feed_add.add_argument("--every", type=int, default=30, metavar="MINUTES", help="poll interval (default 30)")
    feed_list = feed_actions.add_parser("list", parents=[common],
                                        help="the feeds followed, with their last poll, items added and last error")
    feed_remove = feed_actions.add_parser("remove", parents=[common], help="stop following a feed (its articles stay)")
    feed_remove.add_argument("feed_id", metavar="ID", help="the feed's id, as `feeds list` prints it")
    for action in (feed_add, feed_list, feed_remove):
        action.add_argument("--json", action="store_true", help="print JSON instead")
    for writing in (add, remove, index, feed_add, feed_list, feed_remove):
        _token_option(writing)

    evaluate = sub.add_parser("eval", parents=[common],
                              help="measure answer quality: a JSONL question set, a BEIR folder or a SQuAD file")
    evaluate.add_argument("path", type=Path, help="JSONL question set, BEIR folder, or SQuAD v1.1 .json")
    evaluate.add_argument("--split", default="test", help="BEIR qrels split (default test)")
    evaluate.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    evaluate.add_argument("--work-dir", type=Path,
                          help="keep the throw-away index here and reuse it next time (default: a temp folder)")
    evaluate.add_argument("--unanswerable", type=Path, metavar="PATH", action="append", default=[],
                          help="questions nothing in the corpus answers (JSONL, another question set, or a BEIR "
                               "folder's queries of --split), to measure how often no answer is given; repeatable")
    evaluate.add_argument("--distractors", type=Path, metavar="PATH", action="append", default=[],
                          help="a corpus on other subjects (a BEIR folder or a folder of articles) indexed beside "
                               "the dataset's own articles; repeatable")
    _ranking_options(evaluate)

    calibrate = sub.add_parser("calibrate", parents=[common],
                               help="fit the reader and the confidence model on labelled data (never the data "
                                    "you report)")
    calibrate.add_argument("plan", type=Path, nargs="?", default=Path("tests/data/calibration.json"),
                           help="a JSON list of the datasets to fit on (default tests/data/calibration.json)")
    calibrate.add_argument("--work-dir", type=Path, help="keep each dataset's index in a folder here, for reuse")
    calibrate.add_argument("--out", type=Path, help="where to write the model (default: the one the product ships)")

    return parser


def _ranking_options(parser: argparse.ArgumentParser) -> None:
    """Ranking and chunking knobs, for ablations; defaults are the product's."""
    group = parser.add_argument_group("ranking (defaults are the product's)")
    group.add_argument("--fusion", choices=FUSIONS)
    group.add_argument("--alpha", type=float, help="weight of the dense score in convex fusion")
    group.add_argument("--rrf-k", type=int)
    group.add_argument("--lexical-norm", choices=LEXICAL_NORMS,
                       help="scale BM25 by the question's idf sum (idf) or by the best score (max)")
    group.add_argument("--sentence-weight", type=float, help="weight of the best sentence in re-ranking")
    group.add_argument("--answer-weight", type=float,
                       help="weight of the reader's best sentence probability in re-ranking")
    group.add_argument("--answer-type-weight", type=float,
                       help="bonus for sentences holding the kind of answer asked for (number, date, person)")
    group.add_argument("--no-dedupe", dest="dedupe", action="store_false", default=None)
    group.add_argument("--feedback", type=float,
                       help="pseudo-relevance feedback: weight of the top passages' mean vector (0: off)")
    group.add_argument("--article-weight", type=float,
                       help="weight of the article's evidence (mean of its best candidates' scores) as a prior")
    group.add_argument("--article-depth", type=int, help="an article's best candidates that make its evidence")
    group.add_argument("--rerank-depth", type=int, help="fused candidates re-ranked by their best sentence")
    group.add_argument("--window", type=int, help="sentences per passage")
    group.add_argument("--stride", type=int, help="sentences between passage starts")
    group.add_argument("--no-title", dest="embed_title", action="store_false", default=None,
                       help="embed passages without their article title")


RANKING_OPTIONS = ("fusion", "alpha", "rrf_k", "lexical_norm", "sentence_weight", "answer_weight",
                   "answer_type_weight", "dedupe", "feedback", "article_weight", "article_depth", "rerank_depth",
                   "embed_title")
SETTING_OPTIONS = ("model", "backend", "corpus_dir", "corpus_name", "index_dir", "ann", "engine", "milvus_uri", "host",
                   "port", "threads", "api_token", "min_confidence")


def _settings(args, base_dir: Path | None) -> Settings:
    """The environment's settings with this command's options laid over them."""
    options = {name: getattr(args, name, None) for name in SETTING_OPTIONS + RANKING_OPTIONS}
    if getattr(args, "window", None) is not None:
        options["size"] = args.window
    if getattr(args, "stride", None) is not None:
        options["stride"] = args.stride
    return Settings.from_env(base_dir).with_(**options)


def _serve_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=argparse.SUPPRESS, help="address to bind (env QA_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=argparse.SUPPRESS, help="port (env QA_PORT, default 8000)")
    parser.add_argument("--threads", type=int, default=argparse.SUPPRESS,
                        help="server threads (env QA_THREADS, default 8)")
    parser.add_argument("--token", dest="api_token", default=argparse.SUPPRESS,
                        help="API token that writes must present as a Bearer token (env QA_API_TOKEN)")


def _token_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--token", dest="api_token", default=argparse.SUPPRESS,
                        help="the server's API token, for writes through it (env QA_API_TOKEN)")


def main(argv: list[str] | None = None, base_dir: Path | None = None) -> int:
    from qa.serve import logs

    args = build_parser().parse_args(argv)
    logs.configure()
    settings = None
    try:
        settings = _settings(args, base_dir)
        logs.configure(settings.log_level, settings.log_format)
        return COMMANDS[args.command or "serve"](args, settings)
    except QAError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    except OSError as exc:  # a port in use, an unwritable index folder, ...
        print(f"error: {exc.strerror or exc}{f': {exc.filename}' if exc.filename else ''}", file=sys.stderr)
        return 2
    except sqlite3.Error as exc:  # an index folder that cannot be written, a damaged database
        where = f" in {settings.index_dir}" if settings else ""
        print(f"error: cannot use the index database{where}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def cmd_serve(args, settings: Settings) -> int:
    from qa.serve.server import serve
    from qa.service import QAService, passage_bar

    try:  # before the corpus is read: an address that cannot be bound (unknown, not local, in use) is known at once
        family, _, _, _, address = socket.getaddrinfo(settings.host, settings.port, type=socket.SOCK_STREAM)[0]
        socket.create_server(address[:2], family=family).close()
    except (OSError, UnicodeError, OverflowError) as exc:
        raise BadInput("invalid_setting", f"cannot listen on {settings.host}:{settings.port}: {exc}") from None
    log.info("starting: loading the model and opening the index in %s", settings.index_dir)
    service = QAService(settings)
    try:
        report = service.sync(passage_bar(sys.stderr.isatty()))
        log.info("corpus folder %s: %d added, %d updated, %d removed, %d unchanged", settings.corpus_dir,
                 report.added, report.updated, report.removed, report.unchanged)
        for problem in report.errors:
            log.warning("corpus file left out: %s", problem)
        service.claim()  # while serving, other processes cannot write to this index
        serve(service)
    finally:
        service.close()
        log.info("stopped; the index is saved")
    return 0


def cmd_ask(args, settings: Settings) -> int:
    from qa.serve.backends import open_backend
    from qa.service import check_k, check_question
    from qa.service.inputs import check_filter

    check_question(args.question, settings.max_question_chars)  # before the model loads
    check_k(args.k, settings.max_k)
    filters = {name: getattr(args, name) for name in (*FILTER_LISTS, *FILTER_DATES) if getattr(args, name)}
    check_filter(filters)
    with closing(open_backend(settings)) as backend:
        reply = backend.ask(args.question, args.k, filters, args.group, args.sort)
    if args.json:
        print(json.dumps(reply, ensure_ascii=False, indent=2))
        return 0
    answer = reply["answer"]
    if answer:
        print(f"answer: {answer['text']}\n  from {answer['article']['title']} ({round(100 * answer['confidence'])}% "
              "confident)\n")
    else:
        print("no confident answer" + ("; the closest passages:\n" if reply["results"] else ": nothing matches"))
    for r in reply["results"]:
        art = r["article"]
        byline = " · ".join(x for x in (art["author"], art["date"], art["source"]) if x)
        matches = f", {r['matches']} matching passages" if "matches" in r else ""
        print(f"{r['rank']}. {art['title']}" + (f" ({byline})" if byline else "") + f", {round(100 * r['confidence'])}%"
              + matches)
        print(f"   answer: {r['answer']}")
        print("   " + " ".join(r["text"].split()))
        print()
    return 0


def cmd_add(args, settings: Settings) -> int:
    from qa.ingest import slugify
    from qa.serve.backends import open_backend

    urls = [p for p in args.paths if p.startswith(("http://", "https://"))]
    files = [f for path in args.paths if path not in urls for f in _article_paths(Path(path))]
    if args.article_id and len(files) + len(urls) != 1:
        raise QAError("invalid_id", "--id names one article; give exactly one file or page with it")
    failed = 0
    with closing(open_backend(settings)) as backend:
        for added in backend.add([(path, args.article_id or slugify(path.stem)) for path in files]
                                 + [(url, args.article_id) for url in urls]):
            if added.error is not None:
                failed += 1
                print(f"error: {added.path}: {added.error.message}", file=sys.stderr)
            elif args.json:
                print(json.dumps({"path": str(added.path), **added.result}, ensure_ascii=False))
            else:
                r = added.result
                print(f"{added.path}: copy of {r['duplicate_of']}, stored as {r['id']} (not indexed again)"
                      if r["status"] == "duplicate" else f"{added.path}: {r['status']} as {r['id']} "
                                                         f"({r['passages']} passages)")
    return 1 if failed else 0


def _article_paths(path: Path) -> list[Path]:
    from qa.ingest import article_files

    if path.is_dir():
        return article_files(path)
    if not path.exists():
        raise QAError("not_found", f"{path}: no such file or folder")
    return [path]


def cmd_feeds(args, settings: Settings) -> int:
    from qa.serve.backends import open_backend

    with closing(open_backend(settings)) as backend:
        if args.action == "add":
            feeds = [backend.add_feed(args.url, args.every)]
        elif args.action == "remove":
            feeds = [backend.remove_feed(args.feed_id)]
        else:
            feeds = backend.feeds()
    if args.json:
        print(json.dumps(feeds if args.action == "list" else feeds[0], ensure_ascii=False))
        return 0
    verb = {"add": "following", "remove": "stopped following"}.get(args.action, "")
    for feed in feeds:
        polled = f"last polled {feed['last_poll']}" if feed["last_poll"] else "not polled yet"
        print(f"{verb + ' ' if verb else ''}{feed['id']} {feed['url']} every {feed['every_minutes']} min; {polled}, "
              f"{feed['items_added']} items added" + (f"; last error: {feed['last_error']}" if feed["last_error"] else ""))
    if not feeds:
        print("no feeds followed")
    return 0


def cmd_remove(args, settings: Settings) -> int:
    from qa.serve.backends import open_backend

    with closing(open_backend(settings)) as backend:
        removed = backend.remove(args.article_id)
    print(json.dumps({"id": args.article_id, "status": "removed", "passages": removed}) if args.json
          else f"removed {args.article_id} ({removed} passages)")
    return 0


def cmd_articles(args, settings: Settings) -> int:
    from qa.serve.backends import open_backend

    if not 1 <= args.limit <= MAX_PAGE or not 0 <= args.offset <= MAX_OFFSET:
        raise BadInput("invalid_option", f"--limit must be from 1 to {MAX_PAGE} and --offset from 0 to {MAX_OFFSET}")
    with closing(open_backend(settings)) as backend:
        shown = backend.article(args.article_id) if args.article_id else \
            backend.articles(args.offset, args.limit, args.title, args.sort)
    if args.json:
        print(json.dumps(shown, ensure_ascii=False))
    elif args.article_id:
        byline = ", ".join(part for part in (shown["author"], shown["source"], shown["date"]) if part)
        print(f"{shown['title']}\n{shown['id']}" + (f" | {byline}" if byline else "")
              + f" | {shown['passages']} passages, added {shown['added_at']} ({shown['origin']})"
              + (f" | copy of {shown['copy_of']}" if shown["copy_of"] else "") + f"\n\n{shown['text']}")
    else:
        for row in shown["articles"]:
            print(f"{row['id']}  {row['date'] or '----------'}  {row['title']}"
                  + (f"  (copy of {row['copy_of']})" if row["copy_of"] else f"  ({row['passages']} passages)"))
        last = shown["offset"] + len(shown["articles"])
        print(f"{shown['offset'] + 1 if shown['articles'] else 0}-{last} of {shown['total']} articles"
              + (f" whose titles hold {shown['title']!r}" if shown["title"] else ""), file=sys.stderr)
    return 0


def cmd_jobs(args, settings: Settings) -> int:
    from qa.serve.backends import open_backend

    with closing(open_backend(settings)) as backend:
        shown = [backend.job(args.job_id)] if args.job_id else backend.jobs()
    if args.json:
        print(json.dumps(shown[0] if args.job_id else shown, ensure_ascii=False))
        return 0
    for job in shown:
        if job["state"] == "failed":
            outcome = f"; {(job['error'] or {}).get('message', 'failed')}"
        elif job["state"] == "done" and job["kind"] == "add":
            outcome = f"; {job['result']['status']} {job['result']['id']}"
        else:
            outcome = ""
        print(f"{job['id']}  {job['kind']}  {job['state']}  {job['done']}/{job['total']} passages  "
              f"{job['created_at']}{outcome}")
    if not shown:
        print("no jobs yet")
    return 0


def cmd_index(args, settings: Settings) -> int:
    from qa.serve.backends import Local, open_backend

    if getattr(args, "migrate_to", None):
        return _migrate(args, settings)
    with closing(Local(settings, allow_rebuild=True) if args.rebuild else open_backend(settings)) as backend:
        if args.rebuild:
            print(f"re-embedded {backend.rebuild()} articles with {settings.model}")
        report = backend.index()
    for problem in report["errors"]:
        print(f"error: {problem}", file=sys.stderr)
    print(json.dumps(report) if args.json else
          f"corpus folder: {report['added']} added, {report['updated']} updated, {report['removed']} removed, "
          f"{report['unchanged']} unchanged, {report['copies']} copies; the index holds {report['articles']} articles ({report['passages']} "
          "passages)")
    return 1 if report["errors"] else 0


def cmd_eval(args, settings: Settings) -> int:
    from qa import evaluation

    figures = evaluation.run(args.path, settings, split=args.split, work_dir=args.work_dir,
                             unanswerable=args.unanswerable, distractors=args.distractors)
    print(evaluation.format_table(figures))
    if args.json:
        print(json.dumps(figures))
    return 0


def cmd_calibrate(args, settings: Settings) -> int:
    from qa.evaluation import calibration

    report = calibration.run(args.plan, settings, work_dir=args.work_dir, out=args.out)
    print(calibration.format_report(report))
    return 0


def _migrate(args, settings: Settings) -> int:
    """Copy the index of ``settings.engine`` into ``args.migrate_to``, re-embedding nothing."""
    from qa.service import QAService

    if args.migrate_to == settings.engine:
        raise BadInput("invalid_option", f"the index is already on the {settings.engine} engine: choose the other "
                                         "one with --engine and --migrate-to")
    source = QAService(settings)
    try:
        target = QAService(settings.with_(engine=args.migrate_to), encoder=source.encoder)
        try:
            copied = target.import_records(source.export())
            stats = target.stats()
        finally:
            target.close()
    finally:
        source.close()
    where = settings.milvus_uri_or_default if args.migrate_to == "milvus" else str(settings.index_dir)
    report = {"engine": args.migrate_to, "at": where, "copied": copied, "articles": stats["articles"],
              "passages": stats["passages"]}
    print(json.dumps(report) if args.json else
          f"copied {copied} articles into the {args.migrate_to} engine at {where}; it holds {stats['articles']} "
          f"articles ({stats['passages']} passages)")
    return 0


COMMANDS = {"serve": cmd_serve, "calibrate": cmd_calibrate, "ask": cmd_ask, "add": cmd_add, "remove": cmd_remove,
            "index": cmd_index, "articles": cmd_articles, "jobs": cmd_jobs, "eval": cmd_eval, "feeds": cmd_feeds}
