"""`bot status`: what is indexed per source, the announcer's problems, as text or JSON."""

from __future__ import annotations

import json

from bot.services import open_announce_state
from bot.settings import Settings
from bot.status import status_data, status_lines, week_counts, week_line
from index.store.catalog import Catalog


def run_status(settings: Settings, *, as_json: bool) -> int:
    catalog = Catalog(settings.catalog_path)
    state = open_announce_state(settings)
    try:
        data = status_data(settings, catalog)
        data["announcements"] = state.problems()
        data["last_7_days"] = _week(settings)
    finally:
        catalog.close()
        state.close()
    if as_json:
        print(json.dumps(data, indent=2))
        return 0
    print("\n".join(status_lines(data)))
    for problem in data["announcements"]:
        print(f"announcements: {problem}")
    if data["last_7_days"] is not None:
        print(f"last 7 days: {week_line(data['last_7_days'])}")
    return 0


def _week(settings: Settings) -> dict[str, int] | None:
    """The last 7 days' questions; None when none are recorded ([feedback] enabled = false, or no record yet)."""
    from bot.services import open_question_record  # here: only `bot status` reads the record

    record = open_question_record(settings) if settings.feedback.enabled else None
    if record is None:
        return None
    try:
        return week_counts(record)
    finally:
        record.close()
