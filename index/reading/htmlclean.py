"""Remove what a published page does not show, and turn other inline HTML into its text.

HTML comments, ``<script>``, ``<style>`` and ``<iframe>`` (with their content) are removed.
Other HTML tags are dropped and their text kept. Fenced code blocks and inline code
spans are left untouched: a ``<!--`` inside code is code, not a comment.
"""

from __future__ import annotations

import re

from index.reading.budget import check_deadline

_HIDDEN = re.compile(
    r"<!--.*?(?:-->|\Z)"  # comments; an unclosed comment hides the rest of the page
    r"|<script\b[^>]*>.*?(?:</script\s*>|\Z)"
    r"|<style\b[^>]*>.*?(?:</style\s*>|\Z)"
    r"|<iframe\b[^>]*?(?:/>|>.*?(?:</iframe\s*>|\Z))",
    re.DOTALL | re.IGNORECASE,
)

# Only real HTML element names, so `Vec<T>` or `<name>` placeholders in prose survive.
_TAG_NAMES = (
    "a|abbr|address|article|aside|audio|b|bdi|bdo|big|blockquote|br|button|caption|center|cite|code|"
    "col|colgroup|dd|del|details|dfn|div|dl|dt|em|embed|figcaption|figure|font|footer|form|h[1-6]|"
    "header|hr|i|img|input|ins|kbd|label|li|main|mark|nav|noscript|object|ol|p|picture|pre|q|s|samp|"
    "section|small|source|span|strike|strong|sub|summary|sup|table|tbody|td|tfoot|th|thead|time|tr|"
    "track|tt|u|ul|var|video|wbr"
)
_TAG = re.compile(rf"</?(?:{_TAG_NAMES})(?:\s[^<>]*)?/?>", re.IGNORECASE)
_BLOCK_TAG = re.compile(r"</?(?:p|div|br|li|tr|blockquote|h[1-6]|ul|ol|table|figure)\b[^<>]*>", re.IGNORECASE)
_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")


_FENCE_OPEN = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})", re.MULTILINE)


def _fence_end(text: str, opener: re.Match[str]) -> int:
    """Offset just past the fenced block that ``opener`` starts (the end of text if unclosed)."""
    mark = opener.group(1)
    close = re.compile(rf"^[ \t]{{0,3}}{re.escape(mark[0])}{{{len(mark)},}}[ \t]*$", re.MULTILINE)
    line_end = text.find("\n", opener.end())
    if line_end == -1:
        return len(text)
    m = close.search(text, line_end + 1)
    if m is None:
        return len(text)
    nl = text.find("\n", m.end())
    return len(text) if nl == -1 else nl + 1


class _Next:
    """The next match of a pattern at or after a position, searched again only when passed.

    Whether a match starts at a given offset does not depend on where the search began, so a
    match found earlier stays the next one until the walk moves past its start: the walk is
    linear, not one full search of the rest of the text per step.
    """

    def __init__(self, pattern: re.Pattern[str], text: str) -> None:
        self._pattern, self._text = pattern, text
        self._match: re.Match[str] | None = None
        self._done = False  # no match after the last search position

    def at(self, pos: int) -> re.Match[str] | None:
        if self._done:
            return None
        if self._match is None or self._match.start() < pos:
            self._match = self._pattern.search(self._text, pos)
            self._done = self._match is None
        return self._match


_HIDDEN_START = re.compile(r"<!--|<(?:script|style|iframe)\b", re.IGNORECASE)


def _walk(text: str) -> list[tuple[bool, str]]:
    """Split text into (is_code, piece) runs with hidden HTML removed from the prose runs.

    A hidden span may swallow a fence (a commented-out template with code in it), so the
    text is walked in order rather than split into code and prose first. Only where a hidden
    span starts is searched ahead; its end is found once the walk takes it.
    """
    pieces: list[tuple[bool, str]] = []
    pos = 0
    prose: list[str] = []
    fences, hiddens, codes = _Next(_FENCE_OPEN, text), _Next(_HIDDEN_START, text), _Next(_INLINE_CODE, text)
    last_gt = text.rfind(">")  # a tag that starts after the last ">" cannot close: no search to the end for it
    steps = 0
    while pos < len(text):
        steps += 1
        if steps % 256 == 0:
            check_deadline()
        fence = fences.at(pos)
        hidden = hiddens.at(pos)
        code = codes.at(pos) if hidden is not None else None
        if code is not None and hidden is not None and code.start() < hidden.start() < code.end() and (
            fence is None or code.start() < fence.start()
        ):
            prose.append(text[pos : code.end()])  # `<!-- -->` inside inline code is code
            pos = code.end()
        elif hidden is not None and (fence is None or hidden.start() < fence.start()):
            closable = last_gt > hidden.start() or text.startswith("<!--", hidden.start())
            span = _HIDDEN.match(text, hidden.start()) if closable else None
            prose.append(text[pos : hidden.start()])
            # "<scripts>" is no script tag: keep it as text
            pos = span.end() if span is not None else hidden.end()
            if span is None:
                prose.append(text[hidden.start() : pos])
        elif fence is not None:
            prose.append(text[pos : fence.start()])
            pieces.append((False, "".join(prose)))
            prose = []
            end = _fence_end(text, fence)
            pieces.append((True, text[fence.start() : end]))
            pos = end
        else:
            prose.append(text[pos:])
            pos = len(text)
    pieces.append((False, "".join(prose)))
    return pieces


_KRAMDOWN_BREAK_LINE = re.compile(r"^[ \t]*\\\\[ \t]*$", re.MULTILINE)


def _strip_tags(prose: str) -> str:
    # a line that is only "\\" is a kramdown forced break (Medium exports): it shows nothing
    prose = _KRAMDOWN_BREAK_LINE.sub("", prose)
    out: list[str] = []
    last = 0
    for m in _INLINE_CODE.finditer(prose):
        out.append(_strip_tags_plain(prose[last : m.start()]))
        out.append(m.group(0))
        last = m.end()
    out.append(_strip_tags_plain(prose[last:]))
    return "".join(out)


def _strip_tags_plain(s: str) -> str:
    s = _BLOCK_TAG.sub(lambda m: "\n" if m.group(0).lower().startswith(("<br", "</p", "</li", "</div")) else "", s)
    return _TAG.sub("", s)


def clean_markdown(text: str) -> str:
    """Return the Markdown of what the published page shows.

    Hidden HTML (comments, scripts, styles, iframes) is removed with its content; other
    HTML tags are removed and their text kept; kramdown's ``\\\\`` break lines are dropped.
    Code is left as written.
    """
    return "".join(piece if is_code else _strip_tags(piece) for is_code, piece in _walk(text))
