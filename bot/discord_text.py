"""Discord's text limits and the helpers every feature uses to stay within them: clipping, escaping, no pings."""

from __future__ import annotations

import re

import discord

from index.search.query import clean_text, strip_markup

# https://discord.com/developers/docs/resources/message#create-message and .../embed-object-embed-limits;
# choices: .../interactions/application-commands; thread names: .../resources/channel#start-thread-without-message
CONTENT_MAX = 2000
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
EMBEDS_MAX = 10
TOTAL_MAX = 6000  # all of a message's embeds together
CHOICE_MAX = 100  # an autocomplete choice's name, and a string choice's value
CHOICES_MAX = 25  # autocomplete choices in one answer
THREAD_NAME_MAX = 100  # a thread's (a forum post's) name
NONCE_MAX = 25  # a message nonce

COLOR = 0x2B6CB0
WEAK_COLOR = 0x718096

NO_PINGS = discord.AllowedMentions.none()

_MARKDOWN_CHARS = re.compile(r"([\\*_~|`>\[\]()#:-])")
# Discord's Markdown, as a reader's message carries it: masked links, code fences, line starts (quotes,
# headings, subtext, list bullets), emphasis, strikethrough, spoilers, inline code, backslash escapes
_MASKED_LINK = re.compile(r"\[([^\]\n]+)\]\(<?[^)\s]+>?\)")
_FENCE = re.compile(r"```[\w+-]*\n?")
_LINE_START = re.compile(r"^[ \t]*(?:>>> |> |#{1,3} |-# |[-*] )+", re.MULTILINE)
_EMPHASIS = re.compile(r"\*+|~~|\|\||`+|(?<![^\W_])_+|_+(?![^\W_])")
_ESCAPED = re.compile(r"\\([\\*_~|`>#\[\]()-])")
_ABSOLUTE_URL = re.compile(r"^https?://[^\s/$.?#]", re.IGNORECASE)  # the rest is left to Discord to judge


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


def link(url: str | None) -> str | None:
    """``url`` when Discord takes it as an embed's link or image (absolute http or https), else None: a source
    without ``base_url`` has relative links, and one of them would make Discord refuse the whole message."""
    return url if url and _ABSOLUTE_URL.match(url) else None


def escape(text: str) -> str:
    """Every Markdown character escaped, every mention made inert (a zero-width space after the @)."""
    return discord.utils.escape_mentions(_MARKDOWN_CHARS.sub(r"\\\1", text))


def unformat(text: str) -> str:
    """``text`` with Discord's Markdown taken off: the words a reader sees (a masked link's label, a code
    block's code), without the ``**``, ``__``, ``~~``, ``||``, backticks, quote and heading marks.
    Mentions, emoji and links stay: ``index.search.query.strip_markup`` sets those aside."""
    escaped: list[str] = []

    def keep(m: re.Match[str]) -> str:
        escaped.append(m.group(1))
        return f"\x00{len(escaped) - 1}\x00"

    text = text.replace("\x00", "")  # no text; and the placeholders below are made of it
    text = _ESCAPED.sub(keep, text)  # a \* is a star the reader wrote, not emphasis
    text = _MASKED_LINK.sub(r"\1", text)
    text = _FENCE.sub(" ", text)
    text = _LINE_START.sub("", text)
    text = _EMPHASIS.sub(" ", text)
    return re.sub("\x00(\\d+)\x00", lambda m: escaped[int(m.group(1))], text)


def message_text(content: str) -> str:
    """What a Discord message asks, read the same way wherever it arrives (a mention, a reply, a DM, the message
    menu): invisible and control characters dropped, Discord's Markdown taken off, mentions, custom emoji,
    channel links and links set aside; "" when nothing is left."""
    return strip_markup(unformat(clean_text(content)))
