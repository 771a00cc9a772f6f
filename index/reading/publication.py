"""When an issue was published, and whether it is published now.

Hugo/Zola ``draft``, Jekyll ``published: false``, Pelican ``Status: draft``, a
``date``/``publishDate`` in the future or an ``expiryDate`` in the past hold an issue back.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from index.errors import BadIssue

_FILE_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?=[-_ .]|$)")
_DATE_ONLY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


@dataclass(frozen=True)
class Publication:
    date: dt.datetime | None  # timezone-aware (UTC when the source gives no zone)
    published: bool
    reason: str  # why it is held back; empty when published
    publish_at: dt.datetime | None  # when a scheduled issue becomes published


class DateError(BadIssue, ValueError):
    """A front-matter date that names no real moment (``2024-02-30``, hour 25); the message says why, plainly."""


class UnreadableDate(DateError):
    """A front-matter date in a form this reader does not read (``99999-01-01``, ``March 1, 2024``).

    It may be a real date, but guessing one would publish the issue on the wrong day: the issue is
    held back with this reason until the date is written as YYYY-MM-DD.
    """


class InvalidDate(str):
    """A YAML/TOML date that names no real moment (``2024-02-30``), kept as its text to be reported."""


_ISO = re.compile(
    r"^(?P<y>\d+)-(?P<mo>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[T ]+(?P<h>\d{1,2}):(?P<mi>\d{1,2})(?::(?P<s>\d{1,2})(?:[.,]\d+)?)?)?"
    r"[ \t]*(?P<tz>Z|[+-]\d{1,2}(?::?\d{2})?)?$",
    re.IGNORECASE,
)


_FORMS = "write it as YYYY-MM-DD, optionally with THH:MM:SS and a zone"


def date_problem(text: str) -> DateError:
    """Why ``text`` is not a date: an UnreadableDate, or a DateError when it names no real moment.

    In plain words: "2024-02-30 is not a real day".
    """
    m = _ISO.match(text.strip())
    if not m:
        return UnreadableDate(f"{_short(text)} is not a date this reader understands ({_FORMS})")
    if len(m["y"]) != 4:
        return UnreadableDate(f"{text} has a {len(m['y'])}-digit year, which this reader cannot read ({_FORMS})")
    return DateError(_impossible(text, m))


def _impossible(text: str, m: re.Match[str]) -> str:
    y, mo, d = int(m["y"]), int(m["mo"]), int(m["d"])
    if y == 0:
        return f"{text} has year 0, which does not exist"
    if not 1 <= mo <= 12:
        return f"{text} has month {m['mo']}, which does not exist"
    try:
        dt.date(y, mo, d)
    except ValueError:
        return f"{text} is not a real day"
    if m["h"] is not None:
        if int(m["h"]) > 23:
            return f"{text} has hour {m['h']}, which does not exist"
        if int(m["mi"]) > 59 or (m["s"] is not None and int(m["s"]) > 59):
            return f"{text} is not a real time of day"
    tz = m["tz"]
    if tz and tz.upper() != "Z":
        digits = tz[1:].replace(":", "")
        hours, minutes = (int(digits[:-2]), int(digits[-2:])) if len(digits) > 2 else (int(digits), 0)
        if hours > 23 or minutes > 59:
            return f"{text} has the time zone offset {tz}; offsets go no further than ±23:59"
    return f"{_short(text)} is not a date this reader understands"


def read_date(value: Any) -> dt.datetime | None:
    """Read a front-matter date (YAML/TOML date or datetime, or a string in common forms).

    None when there is no date. Raises DateError when it names no real moment, and its subclass
    UnreadableDate when it is in a form this reader does not read.
    """
    if value is None or value == "":
        return None
    if isinstance(value, InvalidDate):
        raise date_problem(str(value))
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    if isinstance(value, (dict, list, tuple, bool)):
        raise UnreadableDate(f"{_short(value)} is not a date ({_FORMS})")
    text = str(value).strip().strip("\"'")
    m = _DATE_ONLY.match(text)
    if m:
        try:
            return dt.datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=dt.UTC)
        except ValueError:
            raise date_problem(text) from None
    candidate = text.replace("Z", "+00:00").replace("z", "+00:00")
    if re.match(r"^\d{4}-\d{1,2}-\d{1,2}[ T]", candidate):
        date_part, _, rest = candidate.replace("T", " ", 1).partition(" ")
        y, mo, d = (int(p) for p in date_part.split("-"))
        candidate = f"{y:04d}-{mo:02d}-{d:02d}T{rest.strip()}"
        try:
            parsed = dt.datetime.fromisoformat(candidate)
        except ValueError:
            raise date_problem(text) from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    raise date_problem(text)


def _short(value: Any, n: int = 40) -> str:
    s = repr(value)
    return s if len(s) <= n else s[: n - 1] + "…"


def date_from_filename(name: str) -> dt.datetime | None:
    """Jekyll-style ``YYYY-M-D-`` prefix; a date that does not exist gives None."""
    m = _FILE_DATE.match(name)
    if not m:
        return None
    try:
        return dt.datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=dt.UTC)
    except ValueError:
        return None


class UnreadableFlag(ValueError):
    """A ``draft``/``published`` value that is neither true nor false (``maybe``, ``ture``)."""


_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def _flag(meta: dict[str, Any], key: str) -> bool | None:
    """The true/false value of ``meta[key]``; None when it is absent or empty.

    Raises UnreadableFlag for any other value: guessing either way could publish a draft.
    """
    value = meta.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, (str, int)) else ""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise UnreadableFlag(f"{_short(value)} is neither true nor false (write true or false)")


def publication(meta: dict[str, Any], filename: str, now: dt.datetime) -> Publication:
    """Decide the issue's date and whether it is published at ``now`` (timezone-aware).

    Raises DateError when a ``date``, ``publishDate`` or ``expiryDate`` names no real moment (the file
    fails). One in a form this reader does not read holds the issue back with the reason: it is not
    published with a guessed date. So does a ``draft`` or ``published`` that is neither true nor false.
    """
    lowered = {str(k).lower(): v for k, v in meta.items()}
    names = {str(k).lower(): str(k) for k in meta}
    dates: dict[str, dt.datetime | None] = {}
    unreadable: list[str] = []
    for key in ("date", "publishdate", "expirydate"):
        try:
            dates[key] = read_date(lowered.get(key))
        except UnreadableDate as exc:
            dates[key] = None
            unreadable.append(f"{names[key]} {exc}")
        except DateError as exc:
            raise DateError(f"{names[key]} {exc}") from None
    flags: dict[str, bool | None] = {}
    for key in ("draft", "published"):
        try:
            flags[key] = _flag(lowered, key)
        except UnreadableFlag as exc:
            flags[key] = None
            unreadable.append(f"{names[key]} {exc}")
    if unreadable:
        # never guess (not even from the file's name): the issue waits until its date is written plainly
        return Publication(dates["date"], False, "; ".join(unreadable) + "; held back until it is fixed", None)
    date = dates["date"] or date_from_filename(filename)
    publish_date, expiry = dates["publishdate"], dates["expirydate"]
    if flags["draft"] is True:
        return Publication(date, False, "draft: true", None)
    if flags["published"] is False:
        return Publication(date, False, "published: false", None)
    if str(lowered.get("status", "")).strip().lower() in {"draft", "hidden"}:
        return Publication(date, False, f"status: {lowered['status']}", None)
    if expiry is not None and expiry <= now:
        return Publication(date, False, f"expired on {expiry.date().isoformat()}", None)
    starts = max((d for d in (date, publish_date) if d is not None), default=None)
    if starts is not None and starts > now:
        return Publication(date, False, f"scheduled for {starts.isoformat()}", starts)
    return Publication(date, True, "", None)
