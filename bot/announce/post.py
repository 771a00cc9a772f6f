"""An issue → its announcement: title, date, description, highlights, cover image and link. Pure.

A paid post (an export's, with ``include_paid``) is announced by its title, date, cover and link only: no
description or highlights, which are its words. A preview (a feed entry cut at its paywall) is what the
feed shows anyone, so it is announced as usual, and labelled.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

import discord

from bot.discord_text import COLOR, DESCRIPTION_MAX, NONCE_MAX, TITLE_MAX, clip, link
from index.reading.issue import Issue
from index.reading.paywall import PAID, PREVIEW

_HIGHLIGHT_HEADING = re.compile(r"(?i)highlight|tl;?dr|in this issue|summary|top news|key points")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.+)$")


@dataclass(frozen=True)
class Post:
    content: str
    embed: discord.Embed
    role_id: int | None
    title: str

    def fingerprint(self) -> str:
        """What the reader sees: a change here is worth an edit."""
        data = {"content": self.content, "embed": self.embed.to_dict()}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def highlights(issue: Issue, limit: int = 5) -> list[str]:
    """The issue's own highlights list if it has one, else its first section headings."""
    for s in issue.sections:
        if s.level in (0, 1, 2) and (s.level == 0 or _HIGHLIGHT_HEADING.search(s.heading)):
            items = [m.group(1).strip() for line in s.markdown.splitlines() if (m := _LIST_ITEM.match(line))]
            if len(items) >= 2:
                return items[:limit]
    headings: list[str] = []
    for s in issue.sections:
        if 1 <= s.level <= 6 and s.heading and s.heading not in headings and s.heading != issue.title:
            headings.append(s.heading)
    return headings[:limit]


def make_post(issue: Issue, *, role_id: int | None = None) -> Post:
    date = issue.date.date().isoformat() if issue.date else None
    embed = discord.Embed(title=clip(issue.title, TITLE_MAX), url=link(issue.url), color=COLOR)
    paid = issue.access == PAID
    lines = [clip(issue.description, 1000)] if issue.description and not paid else []
    points = highlights(issue) if not paid else []
    if points:
        lines.append("\n".join(f"• {clip(p, 200)}" for p in points))
    if lines:
        embed.description = clip("\n\n".join(lines), DESCRIPTION_MAX)
    if link(issue.image):
        embed.set_image(url=issue.image)
    label = " · paid post, for members" if paid else " · preview of a paid post" if issue.access == PREVIEW else ""
    if date or label:
        embed.set_footer(text=(f"Published {date}" if date else "New") + label)
    content = f"<@&{role_id}> New issue: **{discord.utils.escape_markdown(clip(issue.title, 200))}**" if role_id else (
        f"New issue: **{discord.utils.escape_markdown(clip(issue.title, 200))}**")
    return Post(content=content, embed=embed, role_id=role_id, title=issue.title)


def nonce_for(source: str, path: str, version: int) -> str:
    """At most 25 characters (Discord's limit), the same on every attempt at the same post."""
    return hashlib.sha1(f"{source}\0{path}\0{version}".encode()).hexdigest()[:NONCE_MAX]
