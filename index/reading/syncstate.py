"""What a fetched source (a git mirror, a feed, an export) keeps between runs: its state file, and the backoff after failures."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

FIRST_BACKOFF = 30.0  # seconds after the first failure; doubling after each further one
MAX_BACKOFF = 3600.0

State = TypeVar("State")


def retry_delay(failures: int) -> float:
    """Seconds to wait before the next attempt after ``failures`` failures in a row."""
    return min(FIRST_BACKOFF * 2 ** (failures - 1), MAX_BACKOFF)


def read_state(root: Path, kind: type[State], name: str = "state.json") -> State:
    """``root/name`` as ``kind``; a fresh state when it is missing or unreadable."""
    try:
        return kind(**json.loads((root / name).read_text()))
    except (OSError, ValueError, TypeError):
        return kind()


def write_state(root: Path, state: Any, name: str = "state.json") -> None:
    """Replace ``root/name`` whole with ``state`` (a dataclass), so a crash never leaves half a file."""
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f"{name}.tmp"
    tmp.write_text(json.dumps(asdict(state)))
    tmp.replace(root / name)
