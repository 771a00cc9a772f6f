"""``bot ask``: answer questions from the terminal, as text or one JSON object per line."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import sys
import textwrap
from typing import TextIO

from bot import control
from bot.cli.reindex import format_summary
from bot.progress import Progress, slow_notice
from bot.services import Services, build_services
from bot.settings import Settings
from bot.sources import SourceSync
from index.errors import InvalidRequest
from index.search.query import clean_text
from index.search.retriever import MAX_K, Answer, BackwardsRange, Filters, Retriever, parse_day
from index.store.locks import OpenLock, StoreBusy
from index.store.vectors import StoreError

LOADING = "loading the embedding model and the index (once per `bot ask`; `bot ask -` reads many questions)"
WIDTH = 100


class UsageError(InvalidRequest):
    """A command-line argument is unusable; the message says which and why."""


def _day_option(value: str | None, option: str) -> dt.date | None:
    try:
        return parse_day(value)
    except ValueError:
        raise UsageError(f"{option} must be a date like 2024-10-26, not {value!r}") from None


def ensure_indexed(services: Services, wait: float = 0.0) -> None:
    """Index the configured sources first when nothing is indexed yet (a first run, the demo)."""
    if services.catalog.count("sections") > 0:
        return
    reader = services.lock is not None and services.lock.shared
    if reader:  # filling the index is writing: wait until no other reader reads
        services.lock.upgrade(wait)  # type: ignore[union-attr]
        if services.catalog.count("sections") > 0:  # another process filled it meanwhile
            services.lock.downgrade()  # type: ignore[union-attr]
            return
    print("The index is empty: indexing the configured sources first.", file=sys.stderr)
    progress = Progress("indexing")
    try:
        SourceSync(services.settings).sync()
        summary = services.indexer.reindex(services.settings.source_specs(), progress=progress)
    finally:
        progress.close()
        if reader:
            services.lock.downgrade()  # type: ignore[union-attr]
    print(format_summary(summary), file=sys.stderr)


def open_reader(settings: Settings, wait: float) -> tuple[Services, Retriever]:
    """Open the index to search beside other readers: the store is opened and warmed up (which writes
    files of Chroma's own) while no other reader opens it, then searched alongside them."""
    with contextlib.nullcontext() if settings.chroma.url else OpenLock(settings.data_dir):
        services = build_services(settings, purpose="bot ask", lock_wait=wait, reader=True)
        try:
            ensure_indexed(services, wait)
            retriever = services.retriever()
            retriever.warm_up()
        except BaseException:
            services.close()
            raise
    return services, retriever


class _RunningBot:
    """`bot run` holds the data folder: its control socket answers the questions instead."""

    def __init__(self, settings: Settings, k: int, source: str | None, since: str | None, until: str | None) -> None:
        self.path = settings.control_socket
        self.request = {"command": "ask", "k": k, "source": source, "since": since, "until": until}

    def search(self, question: str) -> Answer | None:
        reply = control.send(self.path, {**self.request, "question": question}, timeout=120)
        if reply is None:
            return None
        if not reply.get("ok"):
            raise StoreError(f"the running bot could not answer: {reply.get('error')}")
        return Answer.from_dict(reply["answer"])


def _quote(snippet: str) -> list[str]:
    """The snippet as ``   > `` lines: prose wrapped only at spaces (a link or a path is never split), code as is."""
    lines: list[str] = []
    in_code = False
    for para in snippet.splitlines():
        if para.startswith("```"):
            in_code = not in_code
            lines.append(f"   > {para}")
        elif in_code:
            lines.append(f"   > {para}".rstrip())
        else:
            lines.extend(textwrap.wrap(para, WIDTH, initial_indent="   > ", subsequent_indent="   > ",
                                       break_long_words=False, break_on_hyphens=False) or ["   >"])
    return lines


def render_text(answer: Answer) -> str:
    if not answer.results:
        why = f" ({answer.reason})" if answer.reason else ""
        return f"Nothing in the archive matches {answer.query!r}{why}."
    lines: list[str] = []
    if answer.no_match:
        lines.append(f"Nothing in the archive answers {answer.query!r} well ({answer.reason}).")
        lines.append("The closest sections, which may not help:")
        lines.append("")
    for n, r in enumerate(answer.results, start=1):
        date = f" ({r.date})" if r.date else ""
        label = {"preview": " [preview — paid post]", "paid": " [paid post — members only]"}.get(r.access, "")
        lines.append(f"{n}. {r.title}{date}{label}")  # the host's own terminal: quoted, and said to be paid
        lines.append(f"   § {r.heading or 'Introduction'}")
        lines.extend(_quote(r.snippet))
        lines.append(f"   {r.quote_url or r.url}")
        lines.append("")
    return "\n".join(lines).rstrip()


def ask_main(settings: Settings, question: str, *, k: int, source: str | None, since: str | None,
             until: str | None, as_json: bool, stdin: TextIO, stdout: TextIO, wait: float = 0.0) -> int:
    if not 1 <= k <= MAX_K:
        raise UsageError(f"--k must be between 1 and {MAX_K}, not {k}")
    if source is not None and source not in {s.name for s in settings.sources}:
        names = ", ".join(s.name for s in settings.sources)
        raise UsageError(f"--source {source!r} is not a configured source (sources: {names})")
    if question != "-" and not clean_text(question).strip():
        raise UsageError('the question is empty: ask something, e.g. bot ask "what is speculative decoding"')
    try:
        filters = Filters(source=source, since=_day_option(since, "--since"), until=_day_option(until, "--until"))
    except BackwardsRange as exc:
        raise UsageError(f"the date range is backwards: --since {exc.since} comes after --until {exc.until};"
                         " swap them") from None
    lines = (clean_text(line).strip() for line in stdin) if question == "-" else iter([question])
    questions = (q for q in lines if q)

    def write(answer: Answer) -> None:
        stdout.write(json.dumps(answer.to_dict(), ensure_ascii=False) + "\n" if as_json else render_text(answer) + "\n\n")
        stdout.flush()

    try:
        with slow_notice(LOADING):
            services, retriever = open_reader(settings, 0.0)
    except StoreBusy as busy:
        bot = _RunningBot(settings, k, source, since, until)
        first = next(questions, None)
        answer = bot.search(first) if first is not None else None
        if answer is not None:  # handed to the running bot, like `bot reindex`
            write(answer)
            for q in questions:
                write(bot.search(q) or _gone())
            return 0
        if not wait:
            raise StoreBusy(f"{busy} `bot ask --wait SECONDS` waits for it.") from None
        questions = itertools.chain([first] if first is not None else [], questions)
        with slow_notice(LOADING):
            services, retriever = open_reader(settings, wait)
    try:
        for q in questions:
            write(retriever.search(q, k=k, filters=filters))
    finally:
        services.close()
    return 0


def _gone() -> Answer:
    raise StoreError("the running bot stopped answering (it may have been stopped); ask again")


def run_ask(settings: Settings, question: str, *, k: int, source: str | None, since: str | None,
            until: str | None, as_json: bool, wait: float = 0.0) -> int:
    return ask_main(settings, question, k=k, source=source, since=since, until=until, as_json=as_json,
                    stdin=sys.stdin, stdout=sys.stdout, wait=wait)
