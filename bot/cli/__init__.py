"""The ``bot`` command: a thin edge that turns domain errors into friendly messages."""

from __future__ import annotations

import argparse
import functools
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import __version__
from bot.exit_codes import EXIT_CONFIG, exit_code_for
from index.errors import BackissueError

log = logging.getLogger(__name__)


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, not {value!r}") from None
    if not seconds >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more seconds, not {value}")
    return seconds


def _user_id(value: str) -> int:
    if not value.isdigit() or int(value) == 0:
        raise argparse.ArgumentTypeError(f"expected a Discord user ID (a positive number), not {value!r}")
    return int(value)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bot", description="backissue: answers questions from a newsletter's past issues.")
    p.add_argument("--config", type=Path, help="TOML settings file (default: $BACKISSUE_CONFIG or ./config.toml)")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    p.add_argument("--version", action="version", version=f"backissue {__version__}")
    # the same two options after the command too (`bot status --config x.toml`)
    anywhere = argparse.ArgumentParser(add_help=False)
    anywhere.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="TOML settings file")
    anywhere.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS, help="more log output")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add = functools.partial(sub.add_parser, parents=[anywhere])

    r = add("reindex", help="index new and changed issues (incremental)")
    r.add_argument("--full", action="store_true",
                   help="re-read and re-embed every issue, in place (answers keep coming meanwhile)")
    r.add_argument("--source", metavar="NAME", help="only this source")
    r.add_argument("--wait", type=_seconds, default=0.0, metavar="SECONDS",
                   help="wait this long for another process to release the data folder")

    s = add("status", help="what the index holds")
    s.add_argument("--json", action="store_true", help="machine-readable output")

    add("run", help="connect to Discord and serve /ask, /reindex and /status")
    add("health", help="exit 0 when the running bot is connected to Discord (for HEALTHCHECK)")

    an = add("announce", help="see or set what the announcer has posted")
    group = an.add_mutually_exclusive_group(required=True)
    group.add_argument("--dry-run", action="store_true", help="show what would be posted and why")
    group.add_argument("--mark-all-announced", action="store_true",
                       help="record every indexed issue as announced without posting (a migration)")

    g = add("gaps", help="what readers asked that the archive did not answer, by topic; forget a reader")
    g.add_argument("--since", metavar="YYYY-MM-DD", help="only questions asked from this day on (UTC)")
    g.add_argument("--until", metavar="YYYY-MM-DD", help="only questions asked up to this day (UTC, included)")
    g.add_argument("--json", action="store_true", help="machine-readable output")
    g.add_argument("--forget-user", type=_user_id, metavar="ID",
                   help="delete every record of this Discord user (all of them: --since and --until do not apply)")

    a = add("ask", help="answer a question from the indexed issues")
    a.add_argument("question", help='the question, or "-" to read one per line from standard input')
    a.add_argument("--k", type=int, default=3, help="how many sections (1–10, default 3)")
    a.add_argument("--source", metavar="NAME", help="only this source")
    a.add_argument("--since", metavar="YYYY-MM-DD", help="only issues from this date on")
    a.add_argument("--until", metavar="YYYY-MM-DD", help="only issues up to this date")
    a.add_argument("--json", action="store_true", help="one JSON object per question")
    a.add_argument("--wait", type=_seconds, default=0.0, metavar="SECONDS",
                   help="wait this long for a reindex in another process to finish")
    return p


def _setup_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if verbosity < 2:
        noisy = ("chromadb", "httpx", "sentence_transformers", "transformers", "huggingface_hub", "bm25s")
        for name in noisy:
            logging.getLogger(name).setLevel(logging.WARNING)
        # some of them reset their own level when imported: filter at the handler too
        quiet = logging.Filter()
        quiet.filter = lambda r: r.levelno >= logging.WARNING or not r.name.startswith(noisy)  # type: ignore[method-assign]
        for handler in logging.getLogger().handlers:
            handler.addFilter(quiet)


def _err(message: str) -> None:
    print(f"bot: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # models are never downloaded at run time
    # numpy's OpenBLAS threads fight PyTorch's for the same cores: a query's small matrix product
    # then stalls the next encode by ~100 ms (measured). One BLAS thread is plenty for it.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "gaps" and args.forget_user is not None and (args.since or args.until):
        parser.error("gaps --forget-user deletes every record of that reader: --since and --until do not apply")
    _setup_logging(args.verbose)

    from bot.settings import load_settings

    try:
        settings = load_settings(args.config)
        if args.command == "reindex":
            from bot.cli.reindex import run_reindex

            return run_reindex(settings, full=args.full, only=args.source, wait=args.wait)
        if args.command == "health":
            from bot.health import check_health

            return check_health(settings.health_path)
        if args.command == "run":
            from bot.run import run_bot

            return run_bot(settings)
        if args.command == "announce":
            from bot.cli.announce import run_announce

            return run_announce(settings, dry_run=args.dry_run)
        if args.command == "status":
            from bot.cli.status import run_status

            return run_status(settings, as_json=args.json)
        if args.command == "gaps":
            from bot.cli.gaps import run_gaps

            return run_gaps(settings, forget_user=args.forget_user, since=args.since, until=args.until,
                            as_json=args.json)
        if args.command == "ask":
            from bot.cli.ask import run_ask

            return run_ask(settings, args.question, k=args.k, source=args.source, since=args.since,
                           until=args.until, as_json=args.json, wait=args.wait)
    except BackissueError as exc:
        _err(str(exc))
        return exit_code_for(exc)
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except BrokenPipeError:  # `bot status | head`: the reader has gone; nothing more to say to it
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nor at exit, when Python flushes
        return 141  # as a shell reports a process ended by SIGPIPE
    return EXIT_CONFIG
