"""Text fragments (WICG Text Fragments): a link that lands the reader on the quoted words.

Pure functions. The directive is built from the words a reader sees on the published page, not from
Markdown syntax: the snippet is parsed the way the sections were (emphasis, link targets, code ticks,
heading marks and list bullets are not on the page; entities are decoded), each block's whitespace is
collapsed, and each term is percent-encoded as the spec requires.

A browser matches each term inside one block (a paragraph, a list item) and, for the range form
``textStart,textEnd``, highlights from the first match of the start to the next match of the end; matching
ignores case. So the start words come from the snippet's first block, the end words from its last, and the
start grows until it occurs only once on the page, when the page's text is given.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Sequence

from markdown_it.token import Token

from index.reading.sections import inline_plain, parse_markdown

WORDS_EACH = 4  # words in textStart and in textEnd of the range form
SHORT_WORDS = 8  # a one-block snippet of at most this many words is quoted whole
TERM_MAX = 100  # characters of a term (CJK text has no spaces between words): longer, no fragment
START_WORDS_MAX = 12  # a start that is not unique by then gives no fragment: the link goes to the heading
ELLIPSIS = "…"
_TAG = re.compile(r"<[^>]+>")


def _block_texts(tokens: Sequence[Token]) -> list[str]:
    out: list[str] = []
    for tok in tokens:
        if tok.type == "inline":
            out.append(inline_plain(tok.children, keep_backticks=False))
        elif tok.type in ("fence", "code_block"):
            out.extend(tok.content.split("\n"))  # lines of a code block: the spec matches text, <pre> keeps lines
        elif tok.type == "html_block":
            out.append(_TAG.sub(" ", tok.content))
    return [text for text in (" ".join(x.split()) for x in out) if text]


def visible_blocks(markdown: str) -> list[str]:
    """The text a reader sees for ``markdown``, one string per block, whitespace collapsed."""
    return _block_texts(parse_markdown(markdown))


def page_text(blocks: Sequence[str]) -> str:
    """A page's blocks as one string a term can be counted in: blocks apart, case folded."""
    return "\n".join(blocks).casefold()


def encode(term: str) -> str:
    """Percent-encode one term: everything but unreserved characters; `-`, `&` and `,` too (the spec reserves them)."""
    return urllib.parse.quote(term, safe="").replace("-", "%2D")


def _word_char(c: str) -> bool:
    return c.isalnum() or c == "_"


def _starts(page: str, term: str) -> list[int]:
    """Where ``term`` (case folded) starts in ``page`` with no word character just before or just after it."""
    folded = term.casefold()
    out: list[int] = []
    i = page.find(folded) if folded else -1
    while i != -1:  # str.find runs at C speed; a regex with look-arounds was most of the cost
        end = i + len(folded)
        if (i == 0 or not _word_char(page[i - 1])) and (end == len(page) or not _word_char(page[end])):
            out.append(i)
        i = page.find(folded, i + 1)
    return out


def occurrences(page: str, term: str) -> int:
    """How often ``term`` occurs in ``page`` (from :func:`page_text`) starting and ending at word edges."""
    return len(_starts(page, term)) if term else 0


def _words(block: str) -> list[str]:
    return block.replace(ELLIPSIS, " ").split()


def text_directive(snippet: str, page: str = "") -> str:
    """``text=...`` for ``snippet`` (Markdown); ``""`` when it has no words.

    A short one-block snippet is quoted whole; otherwise ``textStart,textEnd`` of a few words each, taking
    more start words while they occur more than once in ``page`` (the page's text from :func:`page_text`).
    """
    blocks = [w for w in (_words(b) for b in visible_blocks(snippet)) if w]
    if not blocks:
        return ""
    first, last = blocks[0], blocks[-1]
    if len(blocks) == 1 and len(first) <= SHORT_WORDS:
        whole = " ".join(first)
        return "text=" + encode(whole) if len(whole) <= TERM_MAX else ""
    n = min(WORDS_EACH, len(first))
    while page and n < min(len(first), START_WORDS_MAX) and occurrences(page, " ".join(first[:n])) > 1:
        n += 1
    if len(blocks) == 1 and len(first) <= n + WORDS_EACH and len(" ".join(first)) <= TERM_MAX:
        return "text=" + encode(" ".join(first))
    start = " ".join(first[:n])
    end = " ".join(last[-WORDS_EACH:])
    if max(len(start), len(end)) > TERM_MAX:
        return ""
    return f"text={encode(start)},{encode(end)}"


def matches(directive: str, page: str) -> int:
    """In how many places of ``page`` (from :func:`page_text`) a browser could match ``text=start[,end]``: the
    occurrences of the start that have the end after them. One means the link lands on exactly those words."""
    terms = [urllib.parse.unquote(t) for t in directive.removeprefix("text=").split(",")]
    if not terms or not terms[0] or len(terms) > 2:
        return 0
    starts = _starts(page, terms[0])
    if len(terms) == 1 or not starts:
        return len(starts)
    ends = _starts(page, terms[1])
    last_end = max(ends, default=-1)
    return sum(1 for s in starts if s + len(terms[0]) <= last_end)


def fragment_url(url: str, anchor: str, snippet: str, page: str = "", *, enabled: bool = True) -> str:
    """``url#anchor:~:text=...`` (or ``url#:~:text=...`` without an anchor); the plain link when disabled, or
    when ``page`` is given and the directive would not match there exactly once."""
    directive = text_directive(snippet, page) if enabled else ""
    if directive and page and matches(directive, page) != 1:
        directive = ""
    if not directive:
        return f"{url}#{anchor}" if anchor else url
    return f"{url}#{anchor}:~:{directive}"
