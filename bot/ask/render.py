"""Answers → Discord messages, within every Discord limit. Pure: no network, no client."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import discord

from bot.discord_text import (
    COLOR,
    CONTENT_MAX,
    DESCRIPTION_MAX,
    EMBEDS_MAX,
    FOOTER_MAX,
    TITLE_MAX,
    TOTAL_MAX,
    WEAK_COLOR,
    clip,
    clip_lines,
    escape,
    link,
)
from index.reading.paywall import PAID, PREVIEW
from index.search.retriever import Answer, Result

QUESTION_ECHO_MAX = 300
PREVIEW_LABEL = "*(preview — paid post)*"  # a feed entry cut at its paywall: what is quoted is the free part
PAID_LABEL = "*(paid post — members only)*"
WITHHELD = "*Paid post: for members. Its text is not quoted here; the link leads to it.*"
PAID_FOOTER = " · paid post"  # marks an embed of a paid post, so that a public copy (Share) can withhold it


@dataclass
class Rendered:
    content: str
    embeds: list[discord.Embed] = field(default_factory=list)


_FORMAT_CHARS = re.compile(r"([\\*_~|`])")  # enough for trusted text such as headings


def quote_question(question: str) -> str:
    """The question as plain, inert text: no Markdown, no mentions, no links, one line."""
    return escape(clip(" ".join(question.split()), QUESTION_ECHO_MAX))


def _embed(result: Result, weak: bool, unlocked: frozenset[str]) -> discord.Embed:
    date = f" · {result.date}" if result.date else ""
    title = clip(f"{result.title}{date}", TITLE_MAX)
    path = " › ".join(result.heading_path) or "Introduction"
    heading = "**" + _FORMAT_CHARS.sub(r"\\\1", clip(path, 300)) + "**"
    paid = result.access == PAID
    url = result.quote_url or result.url
    if paid and result.source not in unlocked:  # title, date and the post's link; no word of it, not its headings
        description, url = WITHHELD, result.url.split("#", 1)[0]  # (a text fragment would carry its words)
    else:
        label = PAID_LABEL if paid else PREVIEW_LABEL if result.access == PREVIEW else ""
        body = (result.snippet or "(no text)") + (f"\n{label}" if label else "")
        description = clip_lines(f"{heading}\n{body}", DESCRIPTION_MAX)
    embed = discord.Embed(title=title, url=link(url), description=description, color=WEAK_COLOR if weak else COLOR)
    embed.set_footer(text=clip(f"{result.source} · {result.path}" + (" · weak match" if weak else "")
                               + (PAID_FOOTER if paid else ""), FOOTER_MAX))
    return embed


def as_plain_text(rendered: Rendered) -> Rendered:
    """``rendered`` without embeds, its sections written into the content (for a channel where the bot may not
    embed links: Discord would drop the embeds and leave the question alone). Each section: its number, title and
    date, heading and snippet, and its link in angle brackets (no preview); within the content limit."""
    parts = [rendered.content]
    for n, embed in enumerate(rendered.embeds, start=1):
        title = _FORMAT_CHARS.sub(r"\\\1", embed.title or "")
        parts.append(f"**{n}. {title}**\n{embed.description or ''}" + (f"\n<{embed.url}>" if embed.url else ""))
    return Rendered(clip_lines("\n\n".join(parts), CONTENT_MAX))


def withhold_paid(embeds: list[discord.Embed]) -> list[discord.Embed]:
    """Copies of an answer's embeds for everyone to read (Share): a paid post's shows its title, date and link
    only, whoever the answer was first shown to."""
    out = []
    for embed in embeds:
        copy = embed.copy()
        if (embed.footer.text or "").endswith(PAID_FOOTER):
            copy.description = WITHHELD
            copy.url = (embed.url or "").split("#", 1)[0] or None
        out.append(copy)
    return out


def render_answer(answer: Answer, first: int = 1, unlocked: frozenset[str] = frozenset()) -> Rendered:
    """One embed per result, the question echoed safely, everything within Discord's limits.

    ``first``: the number of the first section shown, past 1 on a later page ("More results"). ``unlocked``: the
    sources whose paid posts may be quoted to whoever reads this answer (``bot.paid``); other paid posts show their
    title, date and link only. A preview (a feed entry cut at its paywall) is quoted and labelled as one."""
    asked = quote_question(answer.query)
    if not answer.results:
        if first > 1:
            return Rendered(clip(f"**Q:** {asked}\nNo more sections for this question.", CONTENT_MAX))
        why = f" ({escape(answer.reason)})" if answer.reason else ""  # it may repeat the question's words
        return Rendered(clip(f"**Q:** {asked}\nNothing in the archive matches this question{why}.", CONTENT_MAX))
    if answer.no_match:
        content = (f"**Q:** {asked}\nI couldn't find this in the archive"
                   f"{' (' + escape(answer.reason) + ')' if answer.reason else ''}. The closest sections, which may not"
                   " help:")
    else:
        content = f"**Q:** {asked}"
    embeds: list[discord.Embed] = []
    total = 0
    for result in answer.results[:EMBEDS_MAX]:
        embed = _embed(result, answer.no_match, unlocked)
        size = len(embed)
        if total + size > TOTAL_MAX:
            room = TOTAL_MAX - total - len(embed.title or "") - len(embed.footer.text or "")
            if room < 200:
                break
            embed.description = clip_lines(embed.description or "", room)
            size = len(embed)
        embeds.append(embed)
        total += size
    if first > 1:  # the sections of this page, as shown (a page cut to fit shows fewer)
        last = first + len(embeds) - 1
        content += f"\n*More results: sections {first}–{last}*" if last > first else f"\n*More results: section {first}*"
    return Rendered(clip(content, CONTENT_MAX), embeds)



def render_error(question: str) -> Rendered:
    """A search that failed, for a question asked by message (application commands have the command tree's handler)."""
    return Rendered(f"**Q:** {quote_question(question)}\nSorry, something went wrong while searching. "
                    "The server's log has the details.")
