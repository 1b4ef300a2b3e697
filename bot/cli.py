"""The `advisor` command line (INTERFACES.md section 1).

Exit codes: 0 success, 1 invalid input or a failed check, 2 a usage error. Problems in the
knowledge base are printed as `file:line: message`, never as a traceback.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import __version__
from bot.errors import AdvisorError, KnowledgeError
from bot.kb.loader import KnowledgeBase, load_knowledge
from bot.settings import Settings


def _knowledge_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--knowledge",
        type=Path,
        metavar="DIR",
        help="knowledge directory (default: $ADVISOR_KNOWLEDGE or the bundled knowledge/)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="advisor",
        description="Framework Advisor: answers Flask vs FastAPI questions and recommends one.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    chat = commands.add_parser("chat", help="talk to the advisor in the terminal")
    chat.add_argument("--json", action="store_true", help="one JSON line per input line")
    chat.add_argument(
        "--store",
        metavar="URL",
        default="memory://",
        help="conversation store URL (default: memory://)",
    )
    _knowledge_option(chat)

    ask = commands.add_parser("ask", help="answer one fact question (or each line of stdin)")
    ask.add_argument("question", nargs="?", help="the question; omitted: read standard input")
    ask.add_argument("--json", action="store_true", help="one JSON object per question")
    _knowledge_option(ask)

    check = commands.add_parser("check", help="validate the knowledge base and prove the dialog")
    check.add_argument(
        "--diagram",
        type=Path,
        metavar="FILE",
        help="also write a Mermaid diagram of the dialog to FILE",
    )
    _knowledge_option(check)

    serve = commands.add_parser("serve", help="run the Slack app (HTTP or Socket Mode)")
    mode = serve.add_mutually_exclusive_group()
    mode.add_argument("--socket", action="store_true", help="Socket Mode (needs SLACK_APP_TOKEN)")
    mode.add_argument("--http", action="store_true", help="HTTP on /slack/events and /healthz")
    serve.add_argument("--port", type=int, help="HTTP port (default: $PORT or 3000)")
    serve.add_argument("--host", default="0.0.0.0", help="HTTP address (default: 0.0.0.0)")
    serve.add_argument(
        "--workers",
        type=int,
        help="HTTP worker processes (default: $ADVISOR_WORKERS, else one per CPU, at most 4)",
    )
    _knowledge_option(serve)

    bench = commands.add_parser("bench", help="measure latency, throughput, matching, stores")
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.add_argument("--quick", action="store_true", help="a shorter run (about a minute)")
    bench.add_argument(
        "--redis",
        default="redis://127.0.0.1:6379/11",
        metavar="URL",
        help="a Redis database the bench may flush (default: %(default)s)",
    )
    bench.add_argument(
        "--soak",
        type=float,
        metavar="SECONDS",
        help="instead: a soak run of SECONDS at --rate events/s, on the --redis store",
    )
    bench.add_argument(
        "--rate", type=float, default=50.0, help="events per second for --soak (default: 50)"
    )

    stats = commands.add_parser(
        "stats", help="usage report: answer rates, feedback, unmatched questions, dialog funnel"
    )
    stats.add_argument(
        "--since",
        type=_duration,
        default="7d",
        metavar="DURATION",
        help="how far back to look: 30m, 24h, 7d, 2w (default: 7d)",
    )
    stats.add_argument("--json", action="store_true", help="print one JSON object")
    stats.add_argument("--store", metavar="URL", help="the store to read (default: $ADVISOR_STORE)")
    stats.add_argument(
        "--export-unmatched",
        type=Path,
        metavar="FILE",
        help="instead: write the unmatched questions as a question file to label for eval",
    )
    _knowledge_option(stats)

    train = commands.add_parser(
        "train", help="train the matcher from knowledge/ and write its model (development)"
    )
    train.add_argument(
        "--compare",
        nargs="*",
        type=Path,
        metavar="FILE",
        help="instead: compare matchers side by side on labelled files (default: the test split)",
    )
    _knowledge_option(train)

    evaluate = commands.add_parser("eval", help="score the matcher on labelled questions")
    evaluate.add_argument(
        "files",
        nargs="*",
        type=Path,
        metavar="FILE",
        help="labelled question files (default: tests/data/questions*.yaml)",
    )
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    _knowledge_option(evaluate)
    return parser


def _duration(text: str) -> float:
    from bot.insights.report import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command in {"ask", "check", "eval", "train"}:
            from bot import cli_knowledge

            name = "evaluate" if args.command == "eval" else args.command
            code = int(getattr(cli_knowledge, name)(args))
            # A one-shot command is done: frozen, what it built is not walked again by the
            # interpreter's last garbage collection at exit.
            gc.freeze()
            return code
        handler = {
            "chat": _chat,
            "serve": _serve,
            "bench": _bench,
            "stats": _stats,
        }[args.command]
        return int(handler(args))
    except KnowledgeError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) found.", file=sys.stderr)
        return 1
    except AdvisorError as exc:
        print(f"advisor: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


def knowledge_of(args: argparse.Namespace, cached: bool = False) -> KnowledgeBase:
    """The knowledge base the command was pointed at; `cached` for the commands that answer
    (bot.kb.cache), never for those that check or train."""
    directory = args.knowledge or Settings().advisor_knowledge
    if cached:
        from bot.kb.cache import load_cached

        return load_cached(directory)
    return load_knowledge(directory)


def _chat(args: argparse.Namespace) -> int:
    from bot.adapters.terminal import run_chat
    from bot.core.advisor import Advisor
    from bot.insights.recorder import Recorder, RecordSettings
    from bot.store import open_store

    store = open_store(args.store)
    recorder = Recorder(store, RecordSettings.from_settings(Settings()))
    advisor = Advisor(knowledge_of(args, cached=True), store, recorder=recorder)
    try:
        return run_chat(advisor, as_json=args.json)
    finally:
        recorder.close()
        store.close()


def _serve(args: argparse.Namespace) -> int:
    from bot.adapters.slack.server import (
        Runtime,
        build_runtime,
        check_settings,
        choose_mode,
        serve_http,
        serve_socket,
    )
    from bot.adapters.slack.telemetry import configure_logging
    from bot.core.advisor import Advisor
    from bot.insights.recorder import Recorder, RecordSettings
    from bot.matching.matcher import Matcher
    from bot.store import open_store

    settings = Settings()
    configure_logging(json_lines=settings.log_format == "json", log_text=settings.log_text)
    mode = choose_mode(settings, args.socket, args.http)
    check_settings(settings, mode)
    asked = args.workers if args.workers is not None else settings.workers
    workers = _workers(asked, settings.advisor_store) if mode == "http" else 1
    kb = load_knowledge(args.knowledge or settings.advisor_knowledge)
    matcher = Matcher(kb)  # built once: with several workers, they share its memory
    if not (settings.hash_salt or settings.slack_signing_secret):
        print(
            "advisor: ADVISOR_HASH_SALT is not set: user hashes in the usage record change "
            "at each restart and differ between replicas",
            file=sys.stderr,
        )
    if workers > 1:
        open_store(settings.advisor_store).close()  # a bad store fails here, once, clearly

    def runtime() -> Runtime:
        """One process's runtime: its own store connection, threads and Bolt app."""
        store = open_store(settings.advisor_store, create=workers == 1)
        # Events are written once a second, off the request path (bot.insights.recorder).
        recorder = Recorder(store, RecordSettings.from_settings(settings, flush_interval=1.0))
        advisor = Advisor(kb, store, matcher=matcher, recorder=recorder)
        # Eight threads of work per replica, shared by its workers, at least four each: more
        # threads per process only contend for its interpreter lock (bench).
        return build_runtime(settings, advisor, mode, threads=max(4, 8 // workers))

    port = args.port or settings.port
    if mode == "socket":
        token = settings.slack_app_token or ""
        serve_socket(runtime(), token, args.host, port, settings.metrics_port)
        return 0
    return serve_http(runtime, args.host, port, workers, settings.metrics_port)


def _workers(asked: int | None, store: str) -> int:
    """The number of HTTP worker processes: as asked, else one per CPU (workers.py). A
    memory:// store lives in one process, and workers must share the store."""
    from bot.adapters.slack.workers import default_workers

    one_process = store.startswith("memory:")
    if asked is not None:
        if asked < 1:
            raise AdvisorError("--workers must be at least 1")
        if asked > 1 and one_process:
            raise AdvisorError(
                f"{asked} workers need a store they share (sqlite:///... or redis://...); "
                "memory:// lives in one process"
            )
        return asked
    return 1 if one_process else default_workers()


def _bench(args: argparse.Namespace) -> int:
    from bot.bench import report
    from bot.bench.run import Plan, run

    if args.soak:
        from bot.bench.soak import soak

        result = soak(args.soak, args.rate, args.redis, report.progress)
        report.done()
        print(json.dumps(result) if args.json else report.soak_table(result))
        ok = result["errors"] == 0 and result["duplicates"] == 0
        return 0 if ok and result["answered"] == result["sent"] else 1
    plan = Plan.quick() if args.quick else Plan.full()
    results = run(plan, args.redis, report.progress)
    report.done()
    print(json.dumps(results) if args.json else report.table(results))
    return 0 if all(t["met"] for t in results["targets"]) else 1


def _stats(args: argparse.Namespace) -> int:
    import time

    from bot.insights.export import export_unmatched
    from bot.insights.recorder import Recorder, RecordSettings
    from bot.insights.render import render
    from bot.insights.report import summarise
    from bot.matching.matcher import Matcher
    from bot.store import open_store

    settings = Settings()
    kb = knowledge_of(args)
    store = open_store(args.store or settings.advisor_store)
    try:
        Recorder(store, RecordSettings.from_settings(settings)).purge()  # retention first
        until = time.time()
        since = until - args.since
        report = summarise(kb, store.events_since(since), store.votes_since(since), since, until)
    finally:
        store.close()
    if args.export_unmatched:
        count = export_unmatched(report, Matcher(kb), args.export_unmatched)
        print(f"advisor: wrote {count} unmatched questions to {args.export_unmatched}")
        if not report.text_recorded:
            print(
                "advisor: no question text is recorded; set ADVISOR_RECORD_QUESTIONS=1 "
                "where the advisor runs to collect it",
                file=sys.stderr,
            )
        return 0
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        print(render(report), end="")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
