"""What the CLI's subcommands do, with terminal output; errors are raised to cli.main."""

from __future__ import annotations

import json
import sys
from typing import Any

from bot.progress import Progress
from bot.services import build_services
from bot.settings import Settings
from index.indexer import ReindexSummary


def format_summary(summary: ReindexSummary) -> str:
    lines = [
        f"issues: {summary.new} new, {summary.changed} changed, {summary.unchanged} unchanged,"
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
    if summary.failed:
        lines.append("failed:")
        lines.extend(f"  {r.source}/{r.path}: {r.reason}" if r.path else f"  {r.source}: {r.reason}"
                     for r in summary.failed)
    return "\n".join(lines)


def run_reindex(settings: Settings, *, full: bool, only: str | None, wait: float) -> int:
    services = build_services(settings, purpose="bot reindex", lock_wait=wait)
    progress = Progress("indexing")
    try:
        summary = services.indexer.reindex(settings.source_specs(), full=full, only=only, progress=progress)
    finally:
        progress.close()
        services.close()
    print(format_summary(summary))
    return 1 if summary.failed else 0


def status_data(settings: Settings) -> dict[str, Any]:
    from index.catalog import Catalog

    catalog = Catalog(settings.catalog_path)
    try:
        stats = {s.name: s for s in catalog.stats()}
        model = catalog.get_meta("model")
    finally:
        catalog.close()
    sources = []
    for spec in settings.sources:
        st = stats.get(spec.name)
        sources.append({
            "name": spec.name, "path": str(spec.path),
            "issues": st.issues if st else 0, "sections": st.sections if st else 0,
            "held_back": st.held_back if st else 0, "last_indexed": st.last_indexed if st else None,
        })
    return {"sources": sources, "model": model or settings.embedding.model, "store": settings.store_label,
            "data_dir": str(settings.data_dir)}


def run_status(settings: Settings, *, as_json: bool) -> int:
    data = status_data(settings)
    if as_json:
        print(json.dumps(data, indent=2))
        return 0
    print(f"model: {data['model']}")
    print(f"store: {data['store']}")
    for s in data["sources"]:
        last = s["last_indexed"] or "never"
        print(f"{s['name']}: {s['issues']} issues, {s['sections']} sections, {s['held_back']} held back;"
              f" last indexed {last} ({s['path']})")
    return 0


def run_ask(settings: Settings, question: str, *, k: int, source: str | None, since: str | None,
            until: str | None, as_json: bool) -> int:
    from bot.asking import ask_main

    return ask_main(settings, question, k=k, source=source, since=since, until=until, as_json=as_json,
                    stdin=sys.stdin, stdout=sys.stdout)
