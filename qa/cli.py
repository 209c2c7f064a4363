"""The command line, mirroring the API: serve, ask, index, add, remove, eval.

Every command builds the same :class:`~qa.service.QAService` the server uses.
Expected failures print one ``error: ...`` line and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from pathlib import Path

from qa.config import Settings
from qa.errors import QAError

log = logging.getLogger("qa")


def build_parser() -> argparse.ArgumentParser:
    # SUPPRESS: an option may stand before or after the command without one hiding the other.
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument("--model", help="embedding model: a name or a local folder (env QA_MODEL)")
    common.add_argument("--corpus-dir", type=Path, help="folder of article files (env QA_CORPUS_DIR)")
    common.add_argument("--index-dir", type=Path, help="where the index is kept (env QA_INDEX_DIR)")

    parser = argparse.ArgumentParser(prog="run.py", description="Question answering over news articles.",
                                     parents=[common])
    sub = parser.add_subparsers(dest="command")

    serve = sub.add_parser("serve", parents=[common], help="index corpus/ and serve HTTP (the default)")
    _serve_options(serve)
    _serve_options(parser)

    ask = sub.add_parser("ask", parents=[common], help="print the best passages for a question")
    ask.add_argument("question")
    ask.add_argument("-k", type=int, default=5, help="how many passages (1-50)")
    ask.add_argument("--json", action="store_true", help="print the API's JSON")

    index = sub.add_parser("index", parents=[common], help="sync corpus/ into the index")
    index.add_argument("--rebuild", action="store_true",
                       help="re-embed every stored article with --model (after changing models)")

    evaluate = sub.add_parser("eval", parents=[common], help="measure answer quality on a question set")
    evaluate.add_argument("path", type=Path, help="a JSONL question set")
    evaluate.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    return parser


def _serve_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=argparse.SUPPRESS, help="address to bind (env QA_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=argparse.SUPPRESS, help="port (env QA_PORT, default 8000)")
    parser.add_argument("--threads", type=int, default=argparse.SUPPRESS,
                        help="server threads (env QA_THREADS, default 8)")


def main(argv: list[str] | None = None, base_dir: Path | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("faiss", "sentence_transformers", "httpx", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings = Settings.from_env(base_dir).with_(
        **{name: getattr(args, name, None) for name in ("model", "corpus_dir", "index_dir", "host", "port", "threads")})
    command = args.command or "serve"
    try:
        return COMMANDS[command](args, settings)
    except QAError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _service(settings: Settings, **options):
    from qa.service import QAService

    return QAService(settings, **options)


def cmd_serve(args, settings: Settings) -> int:
    from waitress import create_server

    from qa.web import create_app

    service = _service(settings)
    try:
        report = service.sync(progress=sys.stderr.isatty())
        log.info("corpus %s: %s", settings.corpus_dir, report.as_dict())
        server = create_server(create_app(service), host=settings.host, port=settings.port,
                               threads=settings.threads, ident="qa")
        log.info("serving %s articles on http://%s:%s", service.stats()["articles"],
                 settings.host, server.effective_port)
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            server.run()
        except KeyboardInterrupt:
            log.info("stopping")
    finally:
        service.close()
    return 0


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def cmd_ask(args, settings: Settings) -> int:
    service = _service(settings)
    try:
        service.sync()
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


def cmd_index(args, settings: Settings) -> int:
    service = _service(settings, allow_model_change=args.rebuild)
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

    figures = evaluation.run(args.path, settings)
    print(evaluation.format_table(figures))
    if args.json:
        print(json.dumps(figures))
    return 0


COMMANDS = {"serve": cmd_serve, "ask": cmd_ask, "index": cmd_index, "eval": cmd_eval}
