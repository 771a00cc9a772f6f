"""Cut an issue's Markdown body into sections with a real Markdown parser.

A section is a heading and its own text up to the next heading; it keeps its heading
path. A paragraph that is only bold text acts as an item title below the current
heading (unless it is on the line right under a heading: then it is a byline). Text before the first heading is the issue's intro.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Protocol

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from index.reading.anchors import AnchorMaker
from index.reading.budget import check_deadline

_EXPLICIT_ID = re.compile(r"\s*\{:?\s*#([A-Za-z][\w:.-]*)[^}]*\}\s*$")
_NOISE_LINE = re.compile(r"^\s*(?:\\|\{:[^}]*\}|\{::[^}]*/\}|\*\s*TOC\s*)\s*$")


class Anchors(Protocol):
    def make(self, text: str, explicit: str | None = None) -> str: ...


@dataclass(frozen=True)
class Section:
    position: int  # order in the issue, from 0
    heading: str  # plain heading text ("" for the intro)
    path: tuple[str, ...]  # heading path, ending with this heading
    level: int  # 1–6 for headings, 7 for bold item titles, 0 for the intro
    anchor: str  # fragment of the nearest real heading ("" = top of the page)
    markdown: str  # the section's own Markdown as published, without its heading line
    text: str  # plain text of the same, for search
    link_share: float = 0.0  # share of the visible text that is link text (1.0: a list of links)


# markdown-it stops reading a document where blocks nest ``maxNesting`` deep and drops the rest of it.
# Nesting is allowed deeper than commonmark's 20 (a list level counts 2); from _DEEP on, what is
# left of a block is kept as one plain paragraph, and the file gets a warning.
_MAX_NESTING = 40
_DEEP = 36
_LIST_OR_QUOTE_MARK = re.compile(r"^(?:[ \t]*(?:>|[*+-](?=\s|$)|\d{1,9}[.)](?=\s|$)))+[ \t]*")
DEEP_WARNING = f"blocks nested more than {_DEEP} levels deep (a list level counts 2); the deeper text is kept as plain text"


def _too_deep(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    check_deadline()
    if state.level < _DEEP or silent:
        return False
    line = last = start
    while line < end:
        if not state.isEmpty(line):
            if state.sCount[line] < state.blkIndent:
                break
            last = line
        line += 1
    text = state.getLines(start, last + 1, state.blkIndent, False)
    flat = "\n".join(_LIST_OR_QUOTE_MARK.sub("", ln) for ln in text.split("\n"))
    state.push("paragraph_open", "p", 1).map = [start, last + 1]
    inline = state.push("inline", "", 0)
    inline.content, inline.map, inline.children = flat.strip(), [start, last + 1], []
    state.push("paragraph_close", "p", -1)
    state.line = last + 1
    state.env["too_deep"] = True
    return True


_inline_steps = [0]


def _inline_clock(state: StateInline, silent: bool) -> bool:
    _inline_steps[0] += 1
    if _inline_steps[0] % 512 == 0:
        check_deadline()
    return False


@lru_cache(maxsize=1)
def markdown_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "maxNesting": _MAX_NESTING}).enable(["table", "strikethrough"])
    md.block.ruler.before("table", "too_deep", _too_deep)
    md.inline.ruler.before("text", "clock", _inline_clock)
    return md


def parse_markdown(body: str, warnings: list[str] | None = None) -> list[Token]:
    """Tokens of ``body``; a warning is added when blocks nest so deep that their text is kept plain."""
    env: dict[str, object] = {}
    tokens = markdown_parser().parse(body, env)
    if env.get("too_deep") and warnings is not None and DEEP_WARNING not in warnings:
        warnings.append(DEEP_WARNING)
    return tokens


def inline_plain(children: Sequence[Token] | None, *, keep_backticks: bool) -> str:
    """Plain text of inline tokens: link targets and emphasis markers dropped."""
    out: list[str] = []
    for tok in children or ():
        if tok.type == "text":
            out.append(tok.content)
        elif tok.type == "code_inline":
            out.append(f"`{tok.content}`" if keep_backticks else tok.content)
        elif tok.type == "softbreak":
            out.append(" ")
        elif tok.type == "hardbreak":
            out.append("\n")
        elif tok.type == "image" or tok.type == "html_inline":
            continue
    return "".join(out)


def _bold_title(inline: Token) -> str | None:
    """The text of a paragraph that is only bold (or bold italic), else None."""
    kids = [k for k in inline.children or [] if not (k.type == "text" and not k.content.strip())]
    if len(kids) < 3 or kids[0].type not in ("strong_open", "em_open") or kids[-1].type not in ("strong_close", "em_close"):
        return None
    depth = 0
    has_strong = False
    for i, k in enumerate(kids):
        if k.type.endswith("_open") and k.type in ("strong_open", "em_open"):
            depth += 1
            has_strong = has_strong or k.type == "strong_open"
        elif k.type in ("strong_close", "em_close"):
            depth -= 1
            if depth == 0 and i != len(kids) - 1:
                return None
        elif k.type in ("softbreak", "hardbreak"):
            return None
    if not has_strong:
        return None
    text = inline_plain(kids, keep_backticks=True).strip()
    if not text or text.endswith(":") or len(text) > 300:
        return None
    return text


def _link_share(tokens: Sequence[Token]) -> float:
    inside = total = 0
    for tok in tokens:
        if tok.type != "inline":
            continue
        depth = 0
        for c in tok.children or ():
            if c.type == "link_open":
                depth += 1
            elif c.type == "link_close":
                depth = max(depth - 1, 0)
            elif c.type in ("text", "code_inline"):
                n = len(c.content.strip())
                total += n
                inside += n if depth else 0
    return inside / total if total else 0.0


def _merge_subtitles(raw: list[tuple[Section, int, int]]) -> list[Section]:
    """A heading whose only child heading stands on the very next line is one section with it.

    (``#### [Story](url)`` then ``##### Author, Paper`` on the next line: the second is a
    byline, and the story keeps its own heading and anchor.) ``raw`` holds each section with
    its heading's line and the line its body starts on.
    """
    out: list[Section] = []
    i = 0
    while i < len(raw):
        s, _, body_line = raw[i]
        child, child_line, _ = raw[i + 1] if i + 1 < len(raw) else (None, -1, -1)
        after = raw[i + 2][0] if i + 2 < len(raw) else None
        if (
            child is not None and not s.text and child_line == body_line and 1 <= s.level < child.level <= 6
            and (after is None or after.level <= s.level)
        ):
            out.append(replace(
                s, markdown=f"{child.heading}\n\n{child.markdown}".strip(), text=f"{child.heading}\n{child.text}".strip(),
                link_share=child.link_share,
            ))
            i += 2
            continue
        out.append(s)
        i += 1
    return [replace(s, position=n) for n, s in enumerate(x for x in out if x.text)]


def _block_text(tokens: Sequence[Token]) -> str:
    parts: list[str] = []
    for tok in tokens:
        if tok.type == "inline":
            parts.append(inline_plain(tok.children, keep_backticks=False))
        elif tok.type in ("fence", "code_block"):
            parts.append(tok.content.rstrip("\n"))
        elif tok.type == "html_block":
            parts.append(tok.content.strip())
        elif tok.type in ("paragraph_close", "heading_close", "list_item_close", "tr_close", "blockquote_close"):
            parts.append("\n")
        elif tok.type in ("th_close", "td_close"):
            parts.append(" | ")
    raw = "".join(p if p == "\n" or p.endswith("\n") or p == " | " else p + ("" if p.endswith(" ") else " ") for p in parts)
    lines = [re.sub(r"[ \t]+", " ", ln).strip() for ln in raw.split("\n")]
    return "\n".join(ln for ln in lines if ln and not _NOISE_LINE.match(ln))


@dataclass
class _Open:
    heading: str
    level: int
    anchor: str
    path: tuple[str, ...]
    body_start_line: int
    first_token: int


def first_h1(body: str, tokens: Sequence[Token] | None = None) -> str | None:
    """The text of the first top-level H1; ``tokens``: those of ``body`` when already parsed."""
    if tokens is None:
        tokens = parse_markdown(body)
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.tag == "h1" and tok.level == 0:
            text, _ = _heading_text(tokens[i + 1])
            if text:
                return text
    return None


def _heading_text(inline: Token) -> tuple[str, str | None]:
    """(plain text with backticks kept, explicit id or None) of a heading's inline token."""
    text = inline_plain(inline.children, keep_backticks=True)
    explicit = None
    m = _EXPLICIT_ID.search(text)
    if m:
        explicit = m.group(1)
        text = text[: m.start()]
    return text.strip(), explicit


def split_sections(body: str, generator: str, warnings: list[str] | None = None,
                   tokens: list[Token] | None = None, anchors: Anchors | None = None) -> list[Section]:
    """Cut cleaned Markdown into sections; empty ones (a heading with no own text) are dropped.

    What is worth a warning (text nested too deep to keep its structure) is added to ``warnings``.
    ``tokens``: those of ``body`` from ``parse_markdown`` (with the same ``warnings``), when already parsed.
    ``anchors``: where the headings' anchors come from when not from the generator (a feed's own ids).
    """
    raw = _split(body, generator, parse_markdown(body, warnings) if tokens is None else tokens, anchors)
    return _merge_subtitles(raw)


def _split(body: str, generator: str, tokens: list[Token], maker: Anchors | None = None) -> list[tuple[Section, int, int]]:
    lines = body.split("\n")
    anchors = maker or AnchorMaker(generator)
    sections: list[tuple[Section, int, int]] = []
    stack: list[tuple[int, str]] = []  # (level, heading) of the real headings above
    current = _Open("", 0, "", (), 0, 0)
    heading_line = -1
    last_real_anchor = ""

    def close(end_line: int, end_token: int) -> None:
        markdown = "\n".join(lines[current.body_start_line : end_line]).strip("\n")
        span = tokens[current.first_token : end_token]
        text = _block_text(span).strip()
        if text or current.level:
            section = Section(len(sections), current.heading, current.path, current.level, current.anchor,
                              markdown, text, _link_share(span))
            sections.append((section, heading_line, current.body_start_line))

    i = 0
    while i < len(tokens):
        if i % 512 == 0:
            check_deadline()
        tok = tokens[i]
        if tok.level == 0 and tok.type == "heading_open" and tok.map is not None:
            close(tok.map[0], i)
            heading_line = tok.map[0]
            level = int(tok.tag[1:])
            heading, explicit = _heading_text(tokens[i + 1])
            plain_for_anchor = inline_plain(tokens[i + 1].children, keep_backticks=False)
            if explicit:
                plain_for_anchor = heading
            anchor = anchors.make(_EXPLICIT_ID.sub("", plain_for_anchor).strip(), explicit)
            last_real_anchor = anchor
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading))
            current = _Open(heading, level, anchor, tuple(h for _, h in stack), tok.map[1], i + 3)
            i += 3
            continue
        if tok.level == 0 and tok.type == "paragraph_open" and tok.map is not None:
            title = _bold_title(tokens[i + 1])
            # bold text on the line right under a heading is its byline, not a new item
            byline = i == current.first_token and tok.map[0] == current.body_start_line and current.level > 0
            if title is not None and not byline:
                close(tok.map[0], i)
                heading_line = tok.map[0]
                path = (*tuple(h for _, h in stack), title)
                current = _Open(title, 7, last_real_anchor, path, tok.map[1], i + 3)
                i += 3
                continue
        i += 1
    close(len(lines), len(tokens))
    return sections
