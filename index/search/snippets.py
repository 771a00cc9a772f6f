"""Snippets: the most relevant sentences of a section, quoted verbatim as valid Markdown.

The section's Markdown is parsed, so a cut never falls inside a link, an inline code span
or a word, and emphasis opened in the snippet is closed in it. A fenced code block stays a
fenced code block, cut between lines. Visible text is kept to about ``limit`` characters,
with an ellipsis where the quote starts or ends mid-text.

The sentence quoted first is the one that shares the most of the question's words; among
equals (or when none shares a word), the one closest in meaning when the caller can tell
(``closeness``), so the answering sentence wins over an issue's opening lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from markdown_it.token import Token

from index.reading.sections import markdown_parser
from index.search.lexical import terms

ELLIPSIS = "…"
_WORD_OR_SPACE = re.compile(r"\s+|\S+")
_ESCAPE = re.compile(r"([\\*_`~|\[\]<>#])")
_MARKERS = {"strong": "**", "em": "*", "s": "~~"}
_FENCE = "```"
_LANGUAGE = re.compile(r"[\w+#.-]{1,20}")
MAX_SENTENCES_COMPARED = 8  # sentences whose meaning is compared to the question's, at most
Closeness = Callable[[list[str]], Sequence[float]]  # texts -> cosine similarity of each to the question


@dataclass(frozen=True)
class _Piece:
    kind: str  # "word", "space", "open", "close", "atom"
    markdown: str
    plain: str
    tag: str = ""  # for open/close: strong, em, s


def _code(content: str) -> str:
    fence = "`"
    while fence in content:
        fence += "`"
    pad = " " if content.startswith("`") or content.endswith("`") else ""
    return f"{fence}{pad}{content}{pad}{fence}"


def _inline_pieces(children: list[Token]) -> list[_Piece]:
    pieces: list[_Piece] = []
    i = 0
    while i < len(children):
        tok = children[i]
        if tok.type == "text":
            for m in _WORD_OR_SPACE.finditer(tok.content):
                w = m.group(0)
                if w.isspace():
                    pieces.append(_Piece("space", " ", " "))
                else:
                    pieces.append(_Piece("word", _ESCAPE.sub(r"\\\1", w), w))
        elif tok.type in ("softbreak", "hardbreak"):
            pieces.append(_Piece("space", " ", " "))
        elif tok.type == "code_inline":
            pieces.append(_Piece("atom", _code(tok.content), tok.content))
        elif tok.type == "link_open":
            depth, j, label = 1, i + 1, []
            while j < len(children) and depth:
                c = children[j]
                depth += 1 if c.type == "link_open" else -1 if c.type == "link_close" else 0
                if c.type in ("text", "code_inline"):
                    label.append(c.content)
                elif c.type in ("softbreak", "hardbreak"):
                    label.append(" ")
                j += 1
            text = "".join(label).strip()
            href = str(tok.attrs.get("href", ""))
            if tok.markup == "autolink" or not text:
                pieces.append(_Piece("atom", href, href))
            else:
                safe_text = _ESCAPE.sub(r"\\\1", text)
                safe_href = href.replace(")", "%29").replace(" ", "%20")
                pieces.append(_Piece("atom", f"[{safe_text}]({safe_href})", text))
            i = j
            continue
        elif tok.type.endswith("_open") and tok.type[:-5] in _MARKERS:
            tag = tok.type[:-5]
            pieces.append(_Piece("open", _MARKERS[tag], "", tag))
        elif tok.type.endswith("_close") and tok.type[:-6] in _MARKERS:
            tag = tok.type[:-6]
            pieces.append(_Piece("close", _MARKERS[tag], "", tag))
        i += 1
    return pieces


@dataclass(frozen=True)
class _Block:
    kind: str  # "text", "item" (a list item) or "code" (a fenced or indented code block: one atom per line)
    pieces: list[_Piece]
    language: str = ""


@lru_cache(maxsize=256)
def _blocks(markdown: str) -> tuple[_Block, ...]:
    """Each paragraph, list item, table cell and code block.

    Cached: a search parses each cited section twice (its tied sentences for one batched meaning comparison,
    then its snippet), and popular sections are cited again and again. Blocks are never modified.
    """
    blocks: list[_Block] = []
    in_list = 0
    for tok in markdown_parser().parse(markdown):
        if tok.type == "list_item_open":
            in_list += 1
        elif tok.type == "list_item_close":
            in_list -= 1
        elif tok.type == "inline":
            pieces = _inline_pieces(tok.children or [])
            if any(p.plain.strip() for p in pieces):
                blocks.append(_Block("item" if in_list > 0 else "text", pieces))
        elif tok.type in ("fence", "code_block"):
            lines = tok.content.rstrip("\n").splitlines()
            while lines and not lines[0].strip():
                lines.pop(0)
            if lines:
                info = (tok.info or "").split()
                language = info[0] if info and _LANGUAGE.fullmatch(info[0]) else ""
                # a line of three backticks would end Discord's block early: keep it visible, inert
                safe = [ln.rstrip().replace(_FENCE, "`\u200b``") for ln in lines]
                blocks.append(_Block("code", [_Piece("atom", ln, ln) for ln in safe], language))
    return tuple(blocks)


def _sentences(block: list[_Piece], code: bool = False) -> list[tuple[int, int]]:
    """(start, end) piece ranges of the block's sentences (a code block is one)."""
    if code:
        return [(0, len(block))] if block else []
    out = []
    start = 0
    for i, p in enumerate(block):
        if p.kind == "word" and p.plain.endswith((".", "!", "?", ".)", ".\"", ".”")) and len(p.plain) > 2:
            nxt = next((q for q in block[i + 1 :] if q.kind != "close"), None)
            if nxt is None or nxt.kind == "space":
                out.append((start, i + 1))
                start = i + 1
    if start < len(block):
        out.append((start, len(block)))
    return [(a, b) for a, b in out if any(p.plain.strip() for p in block[a:b])]


def _render(block: list[_Piece], start: int, end: int, *, lead: bool, tail: bool) -> str:
    """Markdown of block[start:end], closing and reopening emphasis so it is balanced."""
    active: list[_Piece] = []
    for p in block[:start]:
        if p.kind == "open":
            active.append(p)
        elif p.kind == "close" and active:
            active.pop()
    out = [p.markdown for p in active]
    stack = list(active)
    for p in block[start:end]:
        if p.kind == "open":
            stack.append(p)
        elif p.kind == "close":
            if stack and stack[-1].tag == p.tag:
                stack.pop()
            else:
                continue
        out.append(p.markdown)
    body = "".join(out).strip()
    # emphasis markers must hug the text: move trailing spaces outside the closers
    closers = "".join(p.markdown for p in reversed(stack))
    text = f"{ELLIPSIS if lead else ''}{body.rstrip()}{closers}{ELLIPSIS if tail else ''}"
    return re.sub(r"(\*\*|\*|~~)\s+(\*\*|\*|~~)$", r"\1\2", text)


def _visible(block: list[_Piece], start: int, end: int) -> int:
    return len("".join(p.plain for p in block[start:end]).strip())


def _code_block(block: _Block, room: int) -> tuple[str, bool]:
    """A fenced code block of the block's first lines that fit ``room`` visible characters; whether lines were left out."""
    kept: list[str] = []
    used = 0
    for piece in block.pieces:
        if kept and used + len(piece.plain) > room:
            break
        kept.append(piece.plain if used + len(piece.plain) <= room else piece.plain[: max(room - used, 1)])
        used += len(piece.plain) + 1
    return f"{_FENCE}{block.language}\n" + "\n".join(kept) + f"\n{_FENCE}", len(kept) < len(block.pieces)


def _ties(blocks: Sequence[_Block], wanted: set[str]) -> list[tuple[float, int, int, str]]:
    """The sentences with the most query terms: (score, block, start piece, text), at most those compared by meaning."""
    scored: list[tuple[float, int, int, str]] = []
    for b, block in enumerate(blocks):
        for s, e in _sentences(block.pieces, block.kind == "code"):
            text = " ".join(p.plain for p in block.pieces[s:e])
            score = sum(1.0 + 0.1 * len(w) for w in wanted & set(terms(text)))
            scored.append((score, b, s, text))
    top = max(x[0] for x in scored)
    return [x for x in scored if x[0] == top][:MAX_SENTENCES_COMPARED]


def tied_sentences(markdown: str, query_terms: Iterable[str]) -> list[str]:
    """The sentences ``make_snippet`` would ask ``closeness`` about for this section, so a caller can compare all
    of a search's sentences to the question in one batch; empty when no tie needs breaking."""
    blocks = _blocks(markdown)
    tied = _ties(blocks, set(query_terms)) if blocks else []
    return [x[3] for x in tied] if len(tied) > 1 else []


def _choose(blocks: Sequence[_Block], wanted: set[str], closeness: Closeness | None) -> tuple[int, int]:
    """(block, start piece) of the sentence to quote first."""
    tied = _ties(blocks, wanted)
    if closeness is not None and len(tied) > 1:
        sims = closeness([x[3] for x in tied])
        _, b, s, _ = tied[max(range(len(tied)), key=lambda n: sims[n])]
        return b, s
    return tied[0][1], tied[0][2]


def make_snippet(markdown: str, query_terms: Iterable[str], limit: int = 300, *,
                 closeness: Closeness | None = None) -> str:
    """The sentence(s) of ``markdown`` that best match the (stemmed) query terms, in about ``limit`` visible characters.

    Blocks (paragraphs, list items, code blocks) are joined by new lines; list items keep their ``- ``,
    code blocks their fences. ``closeness`` breaks ties between sentences by meaning.
    """
    blocks = _blocks(markdown)
    if not blocks:
        return ""
    b, start = _choose(blocks, set(query_terms), closeness)
    lines: list[str] = []
    used = 0
    lead = start > 0
    while b < len(blocks):
        kind, block = blocks[b].kind, blocks[b].pieces
        room = limit - used
        if kind == "code":
            if lines and room < min(len(block[0].plain), 40):
                break
            text, cut = _code_block(blocks[b], room)
            lines.append(text)
            used += sum(len(p.plain) + 1 for p in block) if not cut else limit
            if cut:
                lines.append(ELLIPSIS)
                break
            b, start = b + 1, 0
            continue
        end = start
        while end < len(block):  # whole words and atoms, while they fit
            if block[end].kind in ("word", "atom") and _visible(block, start, end + 1) > room:
                break
            end += 1
        if end == start and not lines and block[start].kind == "atom":
            # one link or code span longer than the limit: quote its text, cut at a word
            text = block[start].plain[: max(room - 1, 1)].rsplit(" ", 1)[0]
            return (ELLIPSIS if lead else "") + _ESCAPE.sub(r"\\\1", text) + ELLIPSIS
        truncated = any(p.kind in ("word", "atom") for p in block[end:])
        if truncated:
            # prefer ending on a whole sentence when that keeps at least half the room
            ends = [e for _, e in _sentences(block) if start < e <= end and _visible(block, start, e) >= room // 2]
            if ends:
                end = ends[-1]
                truncated = False
        if end > start:
            text = _render(block, start, end, lead=lead and not lines, tail=truncated)
            lines.append(f"- {text}" if kind == "item" else text)
            used += _visible(block, start, end) + 1
        if end < len(block) and any(p.kind in ("word", "atom") for p in block[end:]):
            break
        b += 1
        start = 0
        if b < len(blocks) and used + _visible(blocks[b].pieces, 0, min(len(blocks[b].pieces), 5)) > limit:
            break
    return "\n".join(lines)
