"""One feed entry, as the feed fetcher stored it (a JSON file named by the entry's identity), read into an issue's parts.

The fetcher writes each entry once per change; the file holds only what the feed says about the
entry (never when it was fetched), so its bytes, and the content hash over them, change exactly
when the entry does.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from dataclasses import dataclass, field
from typing import Any

from index.errors import BadIssue
from index.reading.html_sections import FeedAnchors, html_to_markdown
from index.reading.paywall import ACCESS, PREVIEW, cut_at_paywall
from index.reading.sections import Section, parse_markdown, split_sections

ENTRY_SUFFIX = ".entry.json"
ENTRY_VERSION = 1


class EntryError(BadIssue):
    """A stored feed entry cannot be read; the message says why."""


@dataclass
class EntryParts:
    title: str
    url: str
    date: dt.datetime | None
    sections: list[Section]
    description: str = ""
    image: str = ""
    warnings: list[str] = field(default_factory=list)
    held: str = ""  # why an export's post is held back (a draft, scheduled); empty when published
    publish_at: dt.datetime | None = None  # when a scheduled post becomes published
    access: str = ""  # index.reading.paywall: "" public, "preview" cut at a paywall, "paid" a paid-only post


def is_entry_file(name: str) -> bool:
    return name.endswith(ENTRY_SUFFIX)


_TAG = re.compile(r"<[^>]*>")


def plain_summary(text: str, limit: int = 400) -> str:
    """A summary's words: tags dropped, entities decoded (twice where the feed escaped them twice)."""
    for _ in range(2):
        if re.search(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);", text):
            text = html.unescape(text)
    text = re.sub(r"\s+", " ", html.unescape(_TAG.sub(" ", text))).strip()
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def parse_entry(raw: bytes, rel_path: str) -> EntryParts:
    """Read a stored entry. Raises EntryError naming what is wrong."""
    try:
        data: Any = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise EntryError(f"stored feed entry is not valid JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("v") != ENTRY_VERSION:
        raise EntryError("not a feed entry stored by this version of backissue; it is fetched again with the feed")
    link = str(data.get("link") or "")
    access = str(data.get("access") or "")
    if access not in ACCESS:
        raise EntryError(f"unknown access {access!r} (expected one of {', '.join(repr(a) for a in ACCESS)})")
    body = str(data.get("html") or "")
    if not access and data.get("origin") != "export":  # an entry a feed stored before cuts were made at fetch time
        body, cut = cut_at_paywall(body, link)
        access = PREVIEW if cut else access
    doc = html_to_markdown(body, link)
    warnings: list[str] = []
    tokens = parse_markdown(doc.markdown, warnings)
    sections = split_sections(doc.markdown, "zola", warnings, tokens, anchors=FeedAnchors(doc.headings))
    date = None
    if data.get("published"):
        try:
            date = dt.datetime.fromisoformat(str(data["published"]))
        except ValueError:
            warnings.append(f"unreadable date {data['published']!r}; indexed without a date")
    else:
        warnings.append("the feed gives this entry no date")
    title = str(data.get("title") or "").strip() or (link.rstrip("/").rsplit("/", 1)[-1] or rel_path)
    description = str(data.get("summary") or "")
    image = str(data.get("image") or "") or (doc.images[0] if doc.images else "")
    at = dt.datetime.fromisoformat(str(data["publish_at"])) if data.get("publish_at") else None
    return EntryParts(title=title, url=link, date=date, sections=sections, description=description,
                      image=image, warnings=warnings, held=str(data.get("held") or ""), publish_at=at,
                      access=access)
