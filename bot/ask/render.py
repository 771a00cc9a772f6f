"""Answers → Discord messages, within every Discord limit. Pure: no network, no client."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import discord

from index.search.retriever import Answer, Result

CONTENT_MAX = 2000
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FOOTER_MAX = 2048
EMBEDS_MAX = 10
TOTAL_MAX = 6000
QUESTION_ECHO_MAX = 300
COLOR = 0x2B6CB0
WEAK_COLOR = 0x718096


@dataclass
class Rendered:
    content: str
    embeds: list[discord.Embed] = field(default_factory=list)


def clip(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip() + "…"


def clip_lines(text: str, limit: int) -> str:
    """At most ``limit`` characters of Markdown, cut between lines so a code block or a link is never cut open.

    A code block cut short is closed; an ellipsis line marks the cut. A first line too long on its
    own is cut at a word, as :func:`clip` does.
    """
    if len(text) <= limit:
        return text
    kept: list[str] = []
    used = 0
    in_code = False
    for line in text.split("\n"):
        inside_after = in_code != line.startswith("```")
        # what follows this line: the closing fence when still inside a block, and the ellipsis line
        if used + len(line) + 1 + (4 if inside_after else 0) + 2 > limit:
            break
        kept.append(line)
        used += len(line) + 1
        in_code = inside_after
    if in_code and kept and kept[-1].startswith("```"):
        kept.pop()  # an opening fence with no line of code after it
        in_code = False
    if not kept:
        return clip(text, limit)
    if in_code:
        kept.append("```")
    return "\n".join(kept) + "\n…"


_FORMAT_CHARS = re.compile(r"([\\*_~|`])")  # enough for trusted text such as headings
_MARKDOWN_CHARS = re.compile(r"([\\*_~|`>\[\]()#:-])")


def escape(text: str) -> str:
    """Every Markdown character escaped, every mention made inert (a zero-width space after the @)."""
    return discord.utils.escape_mentions(_MARKDOWN_CHARS.sub(r"\\\1", text))


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
    embed = discord.Embed(title=title, url=result.url, description=description, color=WEAK_COLOR if weak else COLOR)
    embed.set_footer(text=clip(f"{result.source} · {result.path}" + (" · weak match" if weak else ""), FOOTER_MAX))
    return embed


def render_answer(answer: Answer) -> Rendered:
    """One embed per result, the question echoed safely, everything within Discord's limits."""
    asked = quote_question(answer.query)
    if not answer.results:
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
    return Rendered(clip(content, CONTENT_MAX), embeds)


def render_error(question: str) -> Rendered:
    return Rendered(f"**Q:** {quote_question(question)}\nSorry, something went wrong while searching. "
                    "The server's log has the details.")
