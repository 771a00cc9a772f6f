"""Text fragments (WICG Text Fragments): a link that lands the reader on the quoted words.

Pure functions. The directive is built from the words a reader sees on the published page, not from
Markdown syntax: emphasis, link syntax, code ticks, heading marks and list bullets are stripped, entities
decoded and whitespace collapsed, then each term is percent-encoded as the spec requires.
"""

from __future__ import annotations

import html
import re
import urllib.parse

_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_REF_LINK = re.compile(r"!?\[([^\]]*)\]\[[^\]]*\]")
_AUTOLINK = re.compile(r"<(https?://[^>]+)>")
_TAG = re.compile(r"<[^>]+>")
_LINE_MARK = re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+|\d+[.)]\s+)", re.M)
_EMPHASIS = re.compile(r"(\*{1,3}|_{1,3}|~~|`+)")
WORDS_EACH = 4  # words in textStart and in textEnd of the range form
SHORT_WORDS = 8  # a snippet of at most this many words is quoted whole


def plain_text(markdown: str) -> str:
    """The text a reader sees for ``markdown``: no syntax, entities decoded, whitespace collapsed."""
    text = _LINK.sub(r"\1", markdown)
    text = _REF_LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _TAG.sub(" ", text)
    text = _LINE_MARK.sub("", text)
    text = _EMPHASIS.sub("", text)
    text = re.sub(r"\\([\\`*_{}\[\]()#+\-.!|~])", r"\1", text)
    text = html.unescape(text).replace("\u00a0", " ")
    return " ".join(text.split())


def encode(term: str) -> str:
    """Percent-encode one term: everything but unreserved characters; `-`, `&` and `,` too (the spec reserves them)."""
    return urllib.parse.quote(term, safe="").replace("-", "%2D")


def _count(haystack: str, needle: str) -> int:
    return haystack.count(needle) if needle else 0


def text_directive(snippet: str, page_markdown: str = "") -> str:
    """``text=...`` for the start of ``snippet`` (Markdown); ``""`` when it has no words.

    Short snippets are quoted whole; longer ones as ``textStart,textEnd`` of a few words each, taking
    more start words while they occur more than once in the page's text (when ``page_markdown`` is given).
    """
    words = plain_text(snippet.replace("…", " ")).split()
    if not words:
        return ""
    page = plain_text(page_markdown) if page_markdown else ""
    if len(words) <= SHORT_WORDS:
        return "text=" + encode(" ".join(words))
    n = WORDS_EACH
    while page and n < len(words) - WORDS_EACH and _count(page, " ".join(words[:n])) > 1:
        n += 1
    start = " ".join(words[:n])
    end = " ".join(words[-WORDS_EACH:])
    if len(words) <= n + WORDS_EACH:
        return "text=" + encode(" ".join(words))
    return f"text={encode(start)},{encode(end)}"


def fragment_url(url: str, anchor: str, snippet: str, page_markdown: str = "", *, enabled: bool = True) -> str:
    """``url#anchor:~:text=...`` (or ``url#:~:text=...`` without an anchor); the plain link when disabled."""
    directive = text_directive(snippet, page_markdown) if enabled else ""
    if not directive:
        return f"{url}#{anchor}" if anchor else url
    return f"{url}#{anchor}:~:{directive}"
