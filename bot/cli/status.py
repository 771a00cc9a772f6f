"""`bot status`: what is indexed per source, the announcer's problems, as text or JSON."""

from __future__ import annotations

import json

from bot.services import open_announce_state
from bot.settings import Settings
from bot.status import status_data, status_lines
from index.store.catalog import Catalog


def run_status(settings: Settings, *, as_json: bool) -> int:
    catalog = Catalog(settings.catalog_path)
    state = open_announce_state(settings)
    try:
        data = status_data(settings, catalog)
        data["announcements"] = state.problems()
    finally:
        catalog.close()
        state.close()
    if as_json:
        print(json.dumps(data, indent=2))
        return 0
    print("\n".join(status_lines(data)))
    for problem in data["announcements"]:
        print(f"announcements: {problem}")
    return 0
