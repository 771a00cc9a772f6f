"""`bot reindex`: index what changed (or everything), or hand the job to the running bot; and the summary as text."""

from __future__ import annotations

import sys

from bot import control
from bot.exit_codes import EXIT_BUSY, EXIT_CONFIG, EXIT_OK, EXIT_SOME_FAILED
from bot.progress import Progress
from bot.services import build_services
from bot.settings import Settings
from bot.sources import SourceSync
from index.indexing.summary import ReindexSummary
from index.store.locks import StoreBusy


def format_summary(summary: ReindexSummary) -> str:
    again = f" {summary.reembedded} re-embedded," if summary.reembedded else ""
    lines = [
        f"issues: {summary.new} new, {summary.changed} changed,{again} {summary.unchanged} unchanged,"
        f" {summary.removed} removed, {len(summary.held_back)} held back, {len(summary.failed)} failed",
        f"sections: {summary.sections} indexed ({summary.chunks_embedded} chunks embedded this run)"
        f" in {summary.seconds:.1f} s",
    ]
    if summary.held_back:
        lines.append("held back (not published now):")
        lines.extend(f"  {r.source}/{r.path}: {r.reason}" for r in summary.held_back)
    if summary.warnings:
        lines.append("recovered with warnings:")
        lines.extend(f"  {r.source}/{r.path}: {r.reason}" for r in summary.warnings)
    if summary.missing:
        lines.append("sources with nothing to index (check `path`, `feed`, `export` or `git` in the configuration):")
        lines.extend(f"  {r.source}: {r.reason}" for r in summary.missing)
    if summary.failed:
        lines.append("failed:")
        lines.extend(f"  {r.source}/{r.path}: {r.reason}" if r.path else f"  {r.source}: {r.reason}"
                     for r in summary.failed)
    return "\n".join(lines)


def run_reindex(settings: Settings, *, full: bool, only: str | None, wait: float) -> int:
    try:
        services = build_services(settings, purpose="bot reindex", lock_wait=wait)
    except StoreBusy:
        # a running bot owns the store: hand it the job rather than open the store twice
        reply = control.send(settings.control_socket, {"command": "reindex", "full": full, "source": only})
        if reply is None:
            raise
        if not reply.get("ok"):
            print(f"bot: the running bot refused: {reply.get('error')}", file=sys.stderr)
            return EXIT_BUSY
        summary = ReindexSummary.from_dict(reply["summary"])
        print("(done by the running bot)")
        print(format_summary(summary))
        return exit_code(summary)
    progress = Progress("indexing")
    try:
        SourceSync(settings).sync(force=True, only=only)  # a failed fetch is logged once, as the bot logs it
        summary = services.indexer.reindex(settings.source_specs(), full=full, only=only, progress=progress)
    finally:
        progress.close()
        services.close()
    print(format_summary(summary))
    return exit_code(summary)


def exit_code(summary: ReindexSummary) -> int:
    """2 when a source's folder is missing (a configuration error), 1 when some files failed, else 0."""
    return EXIT_CONFIG if summary.missing else EXIT_SOME_FAILED if summary.failed else EXIT_OK
