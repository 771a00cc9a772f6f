"""``bot ask``: answer questions from the terminal, as text or one JSON object per line."""

from __future__ import annotations

import datetime as dt
import json
import sys
import textwrap
from typing import TextIO

from bot.commands import format_summary, report_git
from bot.progress import Progress
from bot.services import Services, build_services
from bot.settings import Settings
from bot.sources import SourceSync
from index.search import MAX_K, Answer, Filters, parse_day


class UsageError(Exception):
    """A command-line argument is unusable; the message says which and why."""


def _day_option(value: str | None, option: str) -> dt.date | None:
    try:
        return parse_day(value)
    except ValueError:
        raise UsageError(f"{option} must be a date like 2024-10-26, not {value!r}") from None


def ensure_indexed(services: Services) -> None:
    """Index the configured sources first when nothing is indexed yet (a first run, the demo)."""
    if services.catalog.count("sections") > 0:
        return
    print("The index is empty: indexing the configured sources first.", file=sys.stderr)
    progress = Progress("indexing")
    try:
        report_git(SourceSync(services.settings).sync())
        summary = services.indexer.reindex(services.settings.source_specs(), progress=progress)
    finally:
        progress.close()
    print(format_summary(summary), file=sys.stderr)


def render_text(answer: Answer) -> str:
    if not answer.results:
        return f"Nothing in the archive matches {answer.query!r}."
    lines: list[str] = []
    if answer.no_match:
        lines.append(f"Nothing in the archive answers {answer.query!r} well ({answer.reason}).")
        lines.append("The closest sections, which may not help:")
        lines.append("")
    for n, r in enumerate(answer.results, start=1):
        date = f" ({r.date})" if r.date else ""
        lines.append(f"{n}. {r.title}{date}")
        lines.append(f"   § {r.heading or 'Introduction'}")
        for para in r.snippet.splitlines():
            lines.extend(textwrap.wrap(para, 100, initial_indent="   > ", subsequent_indent="   > ") or ["   >"])
        lines.append(f"   {r.url}")
        lines.append("")
    return "\n".join(lines).rstrip()


def ask_main(settings: Settings, question: str, *, k: int, source: str | None, since: str | None,
             until: str | None, as_json: bool, stdin: TextIO, stdout: TextIO) -> int:
    if not 1 <= k <= MAX_K:
        raise UsageError(f"--k must be between 1 and {MAX_K}, not {k}")
    if source is not None and source not in {s.name for s in settings.sources}:
        names = ", ".join(s.name for s in settings.sources)
        raise UsageError(f"--source {source!r} is not a configured source (sources: {names})")
    filters = Filters(source=source, since=_day_option(since, "--since"), until=_day_option(until, "--until"))
    services = build_services(settings, purpose="bot ask")
    try:
        ensure_indexed(services)
        retriever = services.retriever()
        questions = (line.strip() for line in stdin) if question == "-" else iter([question])
        for q in questions:
            if not q:
                continue
            answer = retriever.search(q, k=k, filters=filters)
            if as_json:
                stdout.write(json.dumps(answer.to_dict(), ensure_ascii=False) + "\n")
            else:
                stdout.write(render_text(answer) + "\n\n")
            stdout.flush()
    finally:
        services.close()
    return 0
