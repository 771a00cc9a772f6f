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
from index.search.retriever import Answer, Result

QUESTION_ECHO_MAX = 300


@dataclass
class Rendered:
    content: str
    embeds: list[discord.Embed] = field(default_factory=list)


_FORMAT_CHARS = re.compile(r"([\\*_~|`])")  # enough for trusted text such as headings


def quote_question(question: str) -> str:
    """The question as plain, inert text: no Markdown, no mentions, no links, one line."""
    return escape(clip(" ".join(question.split()), QUESTION_ECHO_MAX))


def _embed(result: Result, weak: bool) -> discord.Embed:
    date = f" · {result.date}" if result.date else ""
    title = clip(f"{result.title}{date}", TITLE_MAX)
    path = " › ".join(result.heading_path) or "Introduction"
    heading = "**" + _FORMAT_CHARS.sub(r"\\\1", clip(path, 300)) + "**"
    snippet = result.snippet or "(no text)"
    description = clip_lines(f"{heading}\n{snippet}", DESCRIPTION_MAX)
    embed = discord.Embed(title=title, url=link(result.quote_url or result.url), description=description,
                          color=WEAK_COLOR if weak else COLOR)
    embed.set_footer(text=clip(f"{result.source} · {result.path}" + (" · weak match" if weak else ""), FOOTER_MAX))
    return embed


def render_answer(answer: Answer, first: int = 1) -> Rendered:
    """One embed per result, the question echoed safely, everything within Discord's limits.

    ``first``: the number of the first section shown, past 1 on a later page ("More results")."""
    asked = quote_question(answer.query)
    if not answer.results:
        if first > 1:
            return Rendered(clip(f"**Q:** {asked}\nNo more sections for this question.", CONTENT_MAX))
        why = f" ({answer.reason})" if answer.reason else ""
        return Rendered(clip(f"**Q:** {asked}\nNothing in the archive matches this question{why}.", CONTENT_MAX))
    if answer.no_match:
        content = (f"**Q:** {asked}\nI couldn't find this in the archive"
                   f"{' (' + answer.reason + ')' if answer.reason else ''}. The closest sections, which may not help:")
    else:
        content = f"**Q:** {asked}"
    embeds: list[discord.Embed] = []
    total = 0
    for result in answer.results[:EMBEDS_MAX]:
        embed = _embed(result, answer.no_match)
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
