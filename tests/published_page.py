"""The text of a page as a site generator publishes it and a browser shows it: what text fragments are checked on.

Independent of the index's own reading: Markdown is rendered to HTML with a plain CommonMark renderer (front
matter dropped, as Hugo, Jekyll and Zola do), and HTML (a rendered issue, or a feed entry's content) is cut into
the blocks a browser matches a text fragment's terms within.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from markdown_it import MarkdownIt

from index.search.fragments import page_text

BLOCK_TAGS = {"address", "article", "aside", "blockquote", "br", "dd", "details", "div", "dl", "dt", "figcaption",
              "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p",
              "pre", "section", "summary", "table", "td", "th", "tr", "ul"}
_FRONT_MATTER = re.compile(r"\A\ufeff?(---|\+\+\+)[ \t]*\r?\n.*?^\1[ \t]*$\r?\n?", re.S | re.M)
HIDDEN_TAGS = {"script", "style", "template", "noscript", "svg"}


class _Blocks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self._text: list[str] = []
        self._hidden = 0
        self._pre = 0

    def _flush(self) -> None:
        text = "".join(self._text)
        lines = text.split("\n") if self._pre else [text]
        self.blocks += [b for b in (" ".join(x.split()) for x in lines) if b]
        self._text = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in HIDDEN_TAGS:
            self._hidden += 1
        elif tag in BLOCK_TAGS:
            self._flush()
            self._pre += tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN_TAGS:
            self._hidden = max(0, self._hidden - 1)
        elif tag in BLOCK_TAGS:
            self._flush()
            self._pre -= tag == "pre" and self._pre > 0

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self._text.append(data)


def html_page(html: str) -> str:
    """The visible text of ``html`` as :func:`index.search.fragments.page_text` lays a page out."""
    parser = _Blocks()
    parser.feed(html)
    parser.close()
    parser._flush()
    return page_text(parser.blocks)


def markdown_page(path: Path) -> str:
    """The visible text of the page a site generator makes of the Markdown issue at ``path``."""
    text = path.read_text(encoding="utf-8", errors="replace")
    body = _FRONT_MATTER.sub("", text, count=1)  # YAML (---) or TOML (+++), even when it does not parse
    renderer = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    return html_page(renderer.render(body))
