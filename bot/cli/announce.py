"""`bot announce --dry-run` and `--mark-all-announced`: see and set the announcer's state from the host."""

from __future__ import annotations

import sys

from bot.announce.ledger import AnnounceLedger
from bot.services import open_announce_state
from bot.settings import Settings
from index.store.catalog import Catalog

NOT_INDEXED = ("the announcer only sees indexed issues; run `bot reindex` (or start `bot run`, which indexes"
               " at start) and ask again")


def dry_run_lines(settings: Settings, catalog: Catalog, state: AnnounceLedger) -> list[str]:
    lines: list[str] = []
    for src in settings.sources:
        if not src.announce_channel_id:
            lines.append(f"{src.name}: not announced (no announce_channel_id)")
            continue
        rows = state.rows(src.name)
        issues = catalog.issues(src.name)
        seeded = state.is_seeded(src.name)
        indexed = [i for i in issues if i.status == "indexed"]
        newest = {i.path for i in sorted(indexed, key=lambda i: (i.date or "", i.path), reverse=True)[
            : settings.announce.backfill]}
        lines.append(f"{src.name} → channel {src.announce_channel_id}:")
        if not issues:
            lines.append(f"  nothing indexed yet: {NOT_INDEXED}")
        for issue in issues:
            path, status, reason, publish_at, date, title = (issue.path, issue.status, issue.reason, issue.publish_at,
                                                             issue.date, issue.title)
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


def mark_all(settings: Settings, catalog: Catalog, state: AnnounceLedger) -> int:
    total = 0
    for src in settings.sources:
        total += state.mark_all(src.name, [(i.path, i.hash) for i in catalog.issues(src.name, status="indexed")])
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
