"""An entry's HTML as the Markdown its sections are cut from, with the headings' own ids.

What a reader of the published page does not see is dropped with its content: scripts, styles,
iframes, inline SVG, forms and buttons, embedded players, and tracking pixels (images of at most
2×2 pixels). Links and images are made absolute against the entry's link. Text is escaped so
that it stays text in Markdown (``Vec<T>``, ``*`` and ``_`` in prose), and code stays code.

Each heading is recorded with its ``id`` attribute when it has one; a heading without one gets
no anchor (``FeedAnchors`` hands the ids to the section splitter, in order, and invents none).
A heading inside a list or a quote becomes bold text, as it reads there.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass, field
from html.parser import HTMLParser

from index.reading.budget import check_deadline

_DROP = {"script", "style", "iframe", "svg", "noscript", "form", "button", "select", "textarea", "template",
         "object", "embed", "video", "audio", "canvas", "head", "title", "math", "map", "dialog"}
_VOID = {"br", "img", "hr", "input", "source", "wbr", "meta", "link", "area", "col", "param", "track", "base"}
_BLOCK = {"p", "div", "section", "article", "figure", "figcaption", "header", "footer", "main", "aside", "details",
          "summary", "table", "thead", "tbody", "tfoot", "tr", "dl", "dt", "dd", "center", "address", "nav", "picture"}
_HEADING = re.compile(r"^h([1-6])$")
_SPACE = re.compile(r"[ \t\r\n\f\u200b]+")
_ESCAPE = re.compile(r"([\\`*\[\]<]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
_LINE_START = re.compile(r"^(\s*)([#>+=|~-]|\d{1,9}[.)])")


def _escape(text: str) -> str:
    return _ESCAPE.sub(r"\\\1", text)


def _url(base: str, href: str) -> str:
    """``href`` made absolute against ``base``, with what Markdown would cut a link at percent-encoded."""
    href = href.strip()
    if not href or href.lower().startswith(("javascript:", "data:", "vbscript:")):
        return ""
    try:
        joined = urllib.parse.urljoin(base, href) if base else href
    except ValueError:  # "http://[broken" and the like
        joined = href
    return urllib.parse.quote(joined, safe="/:%#?=&@!$'*+,;~-._")


@dataclass
class Heading:
    text: str  # plain text, as the section splitter reads it
    anchor: str | None  # the element's id, or None when the feed gives none


@dataclass
class HtmlDoc:
    markdown: str
    headings: list[Heading] = field(default_factory=list)
    images: list[str] = field(default_factory=list)  # absolute URLs, in order


class _Inline:
    """An open inline element whose Markdown is written when it closes (so empty ones vanish)."""

    def __init__(self, tag: str, start: int, href: str = "") -> None:
        self.tag, self.start, self.href = tag, start, href


class _ToMarkdown(HTMLParser):
    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.out: list[str] = []  # finished blocks
        self.buf: list[str] = []  # the open paragraph's inline Markdown
        self.inline: list[_Inline] = []
        self.drop_depth = 0
        self.drop_tag = ""
        self.pre: list[str] | None = None
        self.quote = 0
        self.lists: list[list[object]] = []  # [kind, counter] per open list
        self.marker = ""  # the open list item's marker, written before its first line
        self.heading: tuple[int, str | None] | None = None
        self.headings: list[Heading] = []
        self.images: list[str] = []
        self.cells = 0
        self.steps = 0

    # --- blocks -------------------------------------------------------------------------
    def _prefix(self) -> tuple[str, str]:
        """(first line, following lines) prefix of a block here: list indentation, then quote marks."""
        indent = "   " * max(len(self.lists) - 1, 0)
        quote = "> " * self.quote
        if self.lists:
            first = indent + self.marker if self.marker else indent + "   "
            return quote + first, quote + indent + "   "
        return quote, quote

    def _emit(self, lines: list[str]) -> None:
        first, rest = self._prefix()
        self.marker = ""
        self.out.append("\n".join((first if i == 0 else rest) + ln for i, ln in enumerate(lines)))

    def flush(self) -> None:
        while self.inline:
            self._close_inline(self.inline[-1].tag)
        text = "".join(self.buf)
        self.buf = []
        lines = [_SPACE.sub(" ", ln).strip() for ln in text.split("\n")]
        lines = [_LINE_START.sub(r"\1\\\2", ln) for ln in lines if ln]
        if lines:
            self._emit(lines)

    # --- the parser's callbacks -----------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.steps += 1
        if self.steps % 256 == 0:
            check_deadline()
        a = {k: v or "" for k, v in attrs}
        if self.drop_depth:
            if tag == self.drop_tag and tag not in _VOID:
                self.drop_depth += 1
            return
        if tag in _DROP:
            self.drop_depth, self.drop_tag = 1, tag
            return
        if self.pre is not None:
            if tag == "br":
                self.pre.append("\n")
            return
        m = _HEADING.match(tag)
        if m:
            self.flush()
            self.heading = (int(m.group(1)), a.get("id") or None)
        elif tag == "pre":
            self.flush()
            self.pre = []
        elif tag in ("ul", "ol"):
            self.flush()
            self.lists.append([tag, 0])
        elif tag == "li":
            self.flush()
            if not self.lists:
                self.lists.append(["ul", 0])
            kind = self.lists[-1]
            kind[1] = int(kind[1]) + 1  # type: ignore[call-overload]
            self.marker = f"{kind[1]}. " if kind[0] == "ol" else "-  "
        elif tag == "blockquote":
            self.flush()
            self.quote += 1
        elif tag in _BLOCK or tag == "hr":
            self.flush()
            self.cells = 0
        elif tag in ("td", "th"):
            if self.cells:
                self.buf.append(" | ")
            self.cells += 1
        elif tag == "br":
            self.buf.append("\n")
        elif tag == "img":
            self._image(a)
        elif tag in ("strong", "b", "em", "i", "code", "kbd", "tt", "s", "del", "strike"):
            self.inline.append(_Inline(tag, len(self.buf)))
        elif tag == "a":
            self.inline.append(_Inline(tag, len(self.buf), _url(self.base, a.get("href", ""))))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def _image(self, a: dict[str, str]) -> None:
        src = a.get("src", "")
        small = [v for v in (a.get("width", ""), a.get("height", "")) if v.strip().rstrip("px").isdigit()]
        if not src or any(int(v.strip().rstrip("px")) <= 2 for v in small):
            return  # a tracking pixel, or nothing to show
        url = _url(self.base, src)
        if url:
            self.images.append(url)
            alt = _escape(_SPACE.sub(" ", a.get("alt", "")).strip())
            self.buf.append(f"![{alt}]({url})")

    def handle_endtag(self, tag: str) -> None:
        if self.drop_depth:
            if tag == self.drop_tag:
                self.drop_depth -= 1
            return
        if self.pre is not None:
            if tag == "pre":
                self._end_pre()
            return
        m = _HEADING.match(tag)
        if m and self.heading is not None:
            self._end_heading()
        elif tag in ("ul", "ol"):
            self.flush()
            if self.lists:
                self.lists.pop()
        elif tag == "li":
            self.flush()
            self.marker = ""
        elif tag == "blockquote":
            self.flush()
            self.quote = max(self.quote - 1, 0)
        elif tag in _BLOCK:
            self.flush()
        elif any(i.tag == tag for i in self.inline):
            while self.inline and self.inline[-1].tag != tag:
                self._close_inline(self.inline[-1].tag)
            self._close_inline(tag)

    def handle_data(self, data: str) -> None:
        if self.drop_depth:
            return
        if self.pre is not None:
            self.pre.append(data)
        elif self.inline and self.inline[-1].tag in ("code", "kbd", "tt"):
            self.buf.append(data)  # code spans keep their text as written
        else:
            self.buf.append(_escape(data))

    # --- elements that close into Markdown -------------------------------------------------------
    def _close_inline(self, tag: str) -> None:
        el = self.inline.pop()
        inner = "".join(self.buf[el.start :])
        del self.buf[el.start :]
        core = inner.strip()
        lead, trail = inner[: len(inner) - len(inner.lstrip())], inner[len(inner.rstrip()) :]
        if not core:
            self.buf.append(inner)
            return
        if el.tag in ("code", "kbd", "tt"):
            core = _SPACE.sub(" ", core)
            ticks = "`" * (max((len(r) for r in re.findall(r"`+", core)), default=0) + 1)
            pad = " " if core.startswith("`") or core.endswith("`") else ""
            piece = f"{ticks}{pad}{core}{pad}{ticks}"
        elif el.tag == "a":
            piece = f"[{core}]({el.href})" if el.href and "\n" not in core else core
        elif el.tag in ("strong", "b"):
            piece = f"**{core}**"
        elif el.tag in ("em", "i"):
            piece = f"*{core}*"
        else:
            piece = f"~~{core}~~"
        self.buf.append(f"{lead}{piece}{trail}")

    def _end_heading(self) -> None:
        assert self.heading is not None
        level, anchor = self.heading
        self.heading = None
        while self.inline:
            self._close_inline(self.inline[-1].tag)
        text = _SPACE.sub(" ", "".join(self.buf)).strip()
        self.buf = []
        if not text:
            return  # an empty heading shows nothing
        if self.lists or self.quote:
            self._emit([f"**{text}**"])
            return
        self.out.append(f"{'#' * level} {text}")
        self.headings.append(Heading(_plain(text), anchor))

    def _end_pre(self) -> None:
        code = "".join(self.pre or []).strip("\n")
        self.pre = None
        if not code.strip():
            return
        fence = "`" * max(3, max((len(r) for r in re.findall(r"^`+", code, re.MULTILINE)), default=0) + 1)
        self._emit([fence, *code.split("\n"), fence])

    def result(self) -> HtmlDoc:
        self.close()
        if self.pre is not None:
            self._end_pre()
        if self.heading is not None:
            self._end_heading()
        self.flush()
        return HtmlDoc("\n\n".join(self.out) + "\n", self.headings, self.images)


def _plain(markdown: str) -> str:
    """Roughly what the section splitter reads as a heading's text: for matching headings to their ids."""
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", markdown)
    text = re.sub(r"\]\([^)]*\)", "", text)
    return re.sub(r"[^\w]+", "", text, flags=re.UNICODE).lower()


def html_to_markdown(html: str, base_url: str = "") -> HtmlDoc:
    """Markdown of what ``html`` shows, its headings (with their ids) and its images."""
    parser = _ToMarkdown(base_url)
    parser.feed(html)
    return parser.result()


class FeedAnchors:
    """Anchors for the section splitter: each heading's own id, in order, or none ("")."""

    def __init__(self, headings: list[Heading]) -> None:
        self._headings = list(headings)
        self._next = 0

    def make(self, text: str, explicit: str | None = None) -> str:
        key = _plain(text)
        for i in range(self._next, len(self._headings)):
            if self._headings[i].text == key:
                self._next = i + 1
                return self._headings[i].anchor or ""
        return ""  # a heading the page does not have as such: the top of the page, never an invented id
