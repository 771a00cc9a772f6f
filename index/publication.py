"""When an issue was published, and whether it is published now.

Hugo/Zola ``draft``, Jekyll ``published: false``, Pelican ``Status: draft``, a
``date``/``publishDate`` in the future or an ``expiryDate`` in the past hold an issue back.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

_FILE_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?=[-_ .]|$)")
_DATE_ONLY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


@dataclass(frozen=True)
class Publication:
    date: dt.datetime | None  # timezone-aware (UTC when the source gives no zone)
    published: bool
    reason: str  # why it is held back; empty when published
    publish_at: dt.datetime | None  # when a scheduled issue becomes published


def parse_date(value: Any) -> dt.datetime | None:
    """Read a front-matter date (YAML/TOML date or datetime, or a string in common forms)."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    text = str(value).strip().strip("\"'")
    m = _DATE_ONLY.match(text)
    if m:
        try:
            return dt.datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=dt.UTC)
        except ValueError:
            return None
    candidate = text.replace("Z", "+00:00")
    if re.match(r"^\d{4}-\d{1,2}-\d{1,2}[ T]", candidate):
        date_part, _, rest = candidate.replace("T", " ", 1).partition(" ")
        y, mo, d = (int(p) for p in date_part.split("-"))
        candidate = f"{y:04d}-{mo:02d}-{d:02d}T{rest.strip()}"
        try:
            parsed = dt.datetime.fromisoformat(candidate)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return None


def date_from_filename(name: str) -> dt.datetime | None:
    """Jekyll-style ``YYYY-M-D-`` prefix; a date that does not exist gives None."""
    m = _FILE_DATE.match(name)
    if not m:
        return None
    try:
        return dt.datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=dt.UTC)
    except ValueError:
        return None


def _flag(meta: dict[str, Any], key: str) -> bool | None:
    value = meta.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "yes", "on", "1"}:
        return True
    if text in {"false", "no", "off", "0"}:
        return False
    return None


def publication(meta: dict[str, Any], filename: str, now: dt.datetime) -> Publication:
    """Decide the issue's date and whether it is published at ``now`` (timezone-aware)."""
    lowered = {str(k).lower(): v for k, v in meta.items()}
    date = parse_date(lowered.get("date")) or date_from_filename(filename)
    publish_date = parse_date(lowered.get("publishdate"))
    expiry = parse_date(lowered.get("expirydate"))
    if _flag(lowered, "draft") is True:
        return Publication(date, False, "draft: true", None)
    if _flag(lowered, "published") is False:
        return Publication(date, False, "published: false", None)
    if str(lowered.get("status", "")).strip().lower() in {"draft", "hidden"}:
        return Publication(date, False, f"status: {lowered['status']}", None)
    if expiry is not None and expiry <= now:
        return Publication(date, False, f"expired on {expiry.date().isoformat()}", None)
    starts = max((d for d in (date, publish_date) if d is not None), default=None)
    if starts is not None and starts > now:
        return Publication(date, False, f"scheduled for {starts.isoformat()}", starts)
    return Publication(date, True, "", None)
