"""`bot announce --dry-run` and `--mark-all-announced`: see and set the announcer's state from the host."""

from __future__ import annotations

import sys

from bot.announce.shared_state import SharedAnnounceState
from bot.announce.state import AnnounceState
from bot.services import open_announce_state
from bot.settings import Settings
from index.store.catalog import Catalog

NOT_INDEXED = ("the announcer only sees indexed issues; run `bot reindex` (or start `bot run`, which indexes"
               " at start) and ask again")


def dry_run_lines(settings: Settings, catalog: Catalog, state: AnnounceState | SharedAnnounceState) -> list[str]:
    lines: list[str] = []
    for src in settings.sources:
        if not src.announce_channel_id:
            lines.append(f"{src.name}: not announced (no announce_channel_id)")
            continue
        rows = state.rows(src.name)
        issues = catalog.execute(
            "SELECT path, status, reason, publish_at, date, title FROM issues WHERE source = ? ORDER BY date, path",
            (src.name,)).fetchall()
        seeded = state.is_seeded(src.name)
        indexed = [i for i in issues if i[1] == "indexed"]
        newest = {i[0] for i in sorted(indexed, key=lambda i: (i[4] or "", i[0]), reverse=True)[
            : settings.announce.backfill]}
        lines.append(f"{src.name} → channel {src.announce_channel_id}:")
        if not issues:
            lines.append(f"  nothing indexed yet: {NOT_INDEXED}")
        for path, status, reason, publish_at, date, title in issues:
            row = rows.get((src.name, path))
            label = f"{title} ({date or 'no date'}) [{path}]"
            if status == "held":
                when = f"scheduled for {publish_at}" if publish_at else reason
                lines.append(f"  held back, {when}: {label}")
            elif status != "indexed":
                lines.append(f"  not indexed ({reason}): {label}")
            elif row is not None and row.status == "posted":
                lines.append(f"  already announced (message {row.message_id}): {label}")
            elif row is not None and row.status == "seeded":
                lines.append(f"  recorded as announced without a post: {label}")
            elif row is not None and row.status == "pending":
                retry = f", {row.attempts} failed attempts: {row.last_error}" if row.attempts else ""
                lines.append(f"  would be posted now (pending{retry}): {label}")
            elif not seeded:
                what = "would be posted (backfill)" if path in newest else "first start: recorded, not posted"
                lines.append(f"  {what}: {label}")
            else:
                lines.append(f"  new, would be posted: {label}")
    lines.extend(f"problem: {p}" for p in state.problems())
    return lines


def mark_all(settings: Settings, catalog: Catalog, state: AnnounceState | SharedAnnounceState) -> int:
    total = 0
    for src in settings.sources:
        rows = catalog.execute("SELECT path, hash FROM issues WHERE source = ? AND status = 'indexed'",
                               (src.name,)).fetchall()
        total += state.mark_all(src.name, [(p, h) for p, h in rows])
    return total


def run_announce(settings: Settings, *, dry_run: bool) -> int:
    catalog = Catalog(settings.catalog_path)
    state = open_announce_state(settings)
    try:
        if dry_run:
            print("\n".join(dry_run_lines(settings, catalog, state)))
        else:
            print(f"recorded {mark_all(settings, catalog, state)} issue(s) as announced; nothing was posted")
            if not catalog.count("issues"):
                print(f"nothing is indexed yet: {NOT_INDEXED}", file=sys.stderr)
    finally:
        catalog.close()
        state.close()
    return 0
