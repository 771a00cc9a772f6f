"""What the index holds, for `bot status` and /status."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from bot.settings import Settings
from index.store.catalog import Catalog

if TYPE_CHECKING:
    from bot.feedback.ledger import QuestionLedger

WEEK = 7 * 86400.0


def status_data(settings: Settings, catalog: Catalog) -> dict[str, Any]:
    from bot.jobs import read_checks
    from bot.sources import SourceSync
    from index.indexing.plan import missing_folder

    sync = SourceSync(settings)
    git, feeds = sync.status(), sync.feed_status()
    stats = {s.name: s for s in catalog.stats()}
    checks = read_checks(settings.checks_path)
    newest: dict[str, str] = {}
    for source, _path, title, date in catalog.issue_titles():  # newest first
        newest.setdefault(source, f"{title} ({date})" if date else title)
    sources = []
    for spec in settings.sources:
        st = stats.get(spec.name)
        check = checks.get(spec.name, {})
        folder = settings.source_folder(spec)
        missing = None if spec.git or spec.feed or spec.export is not None else missing_folder(folder)
        sources.append({
            "name": spec.name, "path": str(settings.source_folder(spec)), **({"git": git[spec.name]} if spec.name in git else {}),
            **({"feed": feeds[spec.name]} if spec.name in feeds else {}),
            "issues": st.issues if st else 0, "sections": st.sections if st else 0,
            "held_back": st.held_back if st else 0, "last_indexed": st.last_indexed if st else None,
            "last_checked": check.get("last_checked"), "last_change": check.get("last_change"),
            "newest": newest.get(spec.name), "problem": missing,
        })
    return {"sources": sources, "model": catalog.get_meta("model") or settings.embedding.model,
            "store": settings.store_label, "data_dir": str(settings.data_dir)}


def status_lines(data: dict[str, Any]) -> list[str]:
    lines = [f"model: {data['model']}", f"store: {data['store']}"]
    for s in data["sources"]:
        last = s["last_indexed"] or "never"
        lines.append(f"{s['name']}: {s['issues']} issues, {s['sections']} sections, {s['held_back']} held back;"
                     f" last indexed {last}")
        if s.get("problem"):
            lines.append(f"  NOT FOUND: {s['problem']}; its indexed issues are kept (fix `path` in the configuration)")
        lines.append(f"  last checked {s['last_checked'] or 'never'}, last change seen {s['last_change'] or 'never'};"
                     f" newest issue: {s['newest'] or 'none'}")
        if "git" in s:
            g = s["git"]
            lines.append(f"  git: commit {(g['commit'] or 'none')[:12]}, last fetch {g['last_fetch'] or 'never'}"
                         + (f", failing: {g['error']}" if g["error"] else ""))
        if "feed" in s:
            lines.append("  " + feed_line(s["feed"]))
    return lines


def feed_line(f: dict[str, Any]) -> str:
    """A feed source's fetch state in one line, for `bot status` and /status."""
    seen = f"{f['entries']} entries in the feed" + (" (not modified since)" if f.get("not_modified") else "")
    line = f"feed: {seen}, {f['stored']} kept; last fetch {f['last_fetch'] or 'never'}"
    return line + (f", failing: {f['error']}" if f["error"] else "")


def week_counts(record: QuestionLedger, now: float | None = None) -> dict[str, int]:
    """The last 7 days in the question record: questions, no-matches, weak matches, 👍, 👎. Blocking (SQLite)."""
    now = time.time() if now is None else now
    return record.counts(now - WEEK, now)


def week_line(c: dict[str, int]) -> str:
    """The last 7 days' counts in one line, for `bot status` and /status."""
    return (f"{c['questions']} questions, {c['no_match']} no match, {c['weak']} weak matches;"
            f" 👍 {c['up']}, 👎 {c['down']}")
