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
from pathlib import Path

from qa.config import ANN_KINDS, BACKENDS, FUSIONS, LEXICAL_NORMS, Settings
from qa.errors import BadInput, QAError

log = logging.getLogger("qa")


def build_parser() -> argparse.ArgumentParser:
    # SUPPRESS: an option may stand before or after the command without one hiding the other.
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument("--model", help="embedding model: a name or a local folder (env QA_MODEL)")
    common.add_argument("--corpus-dir", type=Path, help="folder of article files (env QA_CORPUS_DIR)")
    common.add_argument("--index-dir", type=Path, help="where the index is kept (env QA_INDEX_DIR)")
    common.add_argument("--backend", choices=BACKENDS,
                        help="run the model with PyTorch (default), ONNX Runtime, or ONNX int8 (env QA_BACKEND; "
                             "onnx needs pip install '.[onnx]')")
    common.add_argument("--ann", choices=ANN_KINDS,
                        help="vector search: exact (flat), approximate (ivf), or by corpus size (auto; env QA_ANN)")
    common.add_argument("--min-confidence", type=float,
                        help="give no answer below this confidence, 0-1 (env QA_MIN_CONFIDENCE; default: the "
                             "measured value shipped with the confidence model)")

    parser = argparse.ArgumentParser(prog="run.py", description="Question answering over news articles.",
                                     epilog="From a clone, `python run.py bench` runs the benchmark program "
                                            "(benchmarks/bench.py; `run.py bench --help`).", parents=[common])
    sub = parser.add_subparsers(dest="command")

    serve = sub.add_parser("serve", parents=[common], help="index corpus/ and serve HTTP (the default)")
    _serve_options(serve)
    _serve_options(parser)

    ask = sub.add_parser("ask", parents=[common], help="print the best passages for a question")
    ask.add_argument("question")
    ask.add_argument("-k", type=int, default=5, help="how many passages (1-50)")
    ask.add_argument("--json", action="store_true", help="print the API's JSON")

    add = sub.add_parser("add", parents=[common], help="add (or replace) articles from files or folders")
    add.add_argument("paths", nargs="+", type=Path, metavar="PATH", help=".txt, .md, .html or .pdf files, or folders")
    add.add_argument("--id", dest="article_id", help="article id (one file only; default: the file name)")

    remove = sub.add_parser("remove", parents=[common], help="remove an article by id")
    remove.add_argument("article_id", metavar="ID")

    index = sub.add_parser("index", parents=[common], help="sync corpus/ into the index")
    index.add_argument("--rebuild", action="store_true",
                       help="re-embed every stored article with --model (after changing models)")

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
    group.add_argument("--window", type=int, help="sentences per passage")
    group.add_argument("--stride", type=int, help="sentences between passage starts")
    group.add_argument("--no-title", dest="embed_title", action="store_false", default=None,
                       help="embed passages without their article title")


RANKING_OPTIONS = ("fusion", "alpha", "rrf_k", "lexical_norm", "sentence_weight", "answer_weight",
                   "answer_type_weight", "dedupe", "feedback", "embed_title")
SETTING_OPTIONS = ("model", "backend", "corpus_dir", "index_dir", "ann", "host", "port", "threads", "api_token",
                   "min_confidence")


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


def _service(settings: Settings, allow_rebuild: bool = False):
    from qa.service import QAService

    return QAService(settings, allow_rebuild=allow_rebuild)


def cmd_serve(args, settings: Settings) -> int:
    from qa.serve.server import serve

    try:  # before the corpus is read: an address that cannot be bound (unknown, not local, in use) is known at once
        family, _, _, _, address = socket.getaddrinfo(settings.host, settings.port, type=socket.SOCK_STREAM)[0]
        socket.create_server(address[:2], family=family).close()
    except (OSError, UnicodeError, OverflowError) as exc:
        raise BadInput("invalid_setting", f"cannot listen on {settings.host}:{settings.port}: {exc}") from None
    log.info("starting: loading the model and opening the index in %s", settings.index_dir)
    service = _service(settings)
    try:
        report = service.sync(progress=sys.stderr.isatty())
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
    from qa.service import check_k, check_question

    check_question(args.question, settings.max_question_chars)  # before the model loads
    check_k(args.k, settings.max_k)
    service = _service(settings)
    try:
        try:
            service.sync()
        except QAError as exc:
            if exc.code != "index_busy":
                raise
            log.warning("a running server holds the index; answering from it as it is")
        answer = service.ask(args.question, args.k)
    finally:
        service.close()
    if args.json:
        print(json.dumps(answer, ensure_ascii=False, indent=2))
        return 0
    if not answer["results"]:
        print("no passage matches that question")
    for r in answer["results"]:
        art = r["article"]
        byline = " · ".join(x for x in (art["author"], art["date"], art["source"]) if x)
        print(f"{r['rank']}. [{r['score']:.3f}] {art['title']}" + (f" ({byline})" if byline else ""))
        print(f"   answer: {r['answer']}")
        print("   " + " ".join(r["text"].split()))
        print()
    return 0


def cmd_add(args, settings: Settings) -> int:
    from qa.ingest import read_file

    files = [f for path in args.paths for f in _article_paths(path)]
    if args.article_id and len(files) != 1:
        raise QAError("invalid_id", "--id names one article; give exactly one file with it")
    loaded, failed = [], 0  # (path, article) pairs
    for path in files:
        try:
            loaded.append((path, read_file(path, args.article_id)))
        except (QAError, OSError) as exc:
            failed += 1
            print(f"error: {path}: {getattr(exc, 'message', exc)}", file=sys.stderr)
    service = _service(settings)
    try:
        results = service.add_many([article for _, article in loaded], progress=True)
        for (path, _), result in zip(loaded, results):
            if result.status in ("empty", "conflict"):
                failed += 1
                why = ("no sentences to index" if result.status == "empty" else
                       f"article {result.id!r} is a file in corpus/: edit that file, or add this one with another --id")
                print(f"error: {path}: {why}", file=sys.stderr)
            else:
                print(json.dumps(result.as_dict()))
    finally:
        service.close()
    return 1 if failed else 0


def _article_paths(path: Path) -> list[Path]:
    from qa.ingest import article_files

    if path.is_dir():
        return article_files(path)
    if not path.exists():
        raise QAError("not_found", f"{path}: no such file or folder")
    return [path]


def cmd_remove(args, settings: Settings) -> int:
    service = _service(settings)
    try:
        removed = service.remove(args.article_id)
    finally:
        service.close()
    print(json.dumps({"id": args.article_id, "status": "removed", "passages": removed}))
    return 0


def cmd_index(args, settings: Settings) -> int:
    service = _service(settings, allow_rebuild=args.rebuild)
    try:
        if args.rebuild:
            print(f"re-embedded {service.rebuild(progress=True)} articles with {settings.model}")
        report = service.sync(progress=True)
        print(json.dumps({**report.as_dict(), **service.stats()}))
    finally:
        service.close()
    return 1 if report.errors else 0


def cmd_eval(args, settings: Settings) -> int:
    from qa import evaluation

    figures = evaluation.run(args.path, settings, split=args.split, work_dir=args.work_dir,
                             unanswerable=args.unanswerable)
    print(evaluation.format_table(figures))
    if args.json:
        print(json.dumps(figures))
    return 0


def cmd_calibrate(args, settings: Settings) -> int:
    from qa.evaluation import calibration

    report = calibration.run(args.plan, settings, work_dir=args.work_dir, out=args.out)
    print(calibration.format_report(report))
    return 0


COMMANDS = {"serve": cmd_serve, "calibrate": cmd_calibrate, "ask": cmd_ask, "add": cmd_add, "remove": cmd_remove, "index": cmd_index,
            "eval": cmd_eval}
