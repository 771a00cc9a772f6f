"""Turn sections into chunks that fit the embedding model's input.

Each chunk starts with its context (issue title and heading path) so that the title and
headings count as evidence. A section longer than the model reads is split into
overlapping windows of its text, so nothing is silently truncated; every window points
back to its section.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from index.reading.sections import Section

CONTEXT_SEPARATOR = " › "


@dataclass(frozen=True)
class Chunk:
    section: int  # Section.position
    window: int  # 0 for the first (or only) window of a section
    text: str  # what is embedded: context line, then the window's text
    start: int  # character span of the window in the section's plain text
    end: int


def context_line(title: str, section: Section) -> str:
    """The heading path that leads each chunk; the intro, which has none, is led by the issue title.

    (The issue title, "Weekly Newsletter #58", says little about a section's meaning, so the
    dense side leaves it out; the keyword side indexes it.)
    """
    parts = [p for p in section.path if p and p != title]
    return CONTEXT_SEPARATOR.join(parts) if parts else title


def make_chunks(
    title: str,
    sections: Sequence[Section],
    tokenizer: Any,
    max_tokens: int,
    overlap: int = 48,
    min_window: int = 64,
) -> list[Chunk]:
    """Chunks for one issue. ``max_tokens`` is the model's input length, special tokens included."""
    if not sections:
        return []
    contexts = [context_line(title, s) for s in sections]
    enc_ctx = tokenizer(contexts, add_special_tokens=False)["input_ids"]
    enc_txt = tokenizer([s.text for s in sections], add_special_tokens=False, return_offsets_mapping=True)
    chunks: list[Chunk] = []
    for i, section in enumerate(sections):
        ctx = contexts[i]
        ctx_tokens = len(enc_ctx[i])
        budget = max_tokens - 3 - ctx_tokens  # [CLS], [SEP] and the newline
        if budget < min_window:  # an absurdly long heading: keep its start only
            keep = max(max_tokens // 4, 8)
            ctx = tokenizer.decode(enc_ctx[i][:keep]) if ctx_tokens > keep else ctx
            budget = max_tokens - 3 - min(ctx_tokens, keep)
        offsets = enc_txt["offset_mapping"][i]
        n = len(offsets)
        if n <= budget:
            chunks.append(Chunk(section.position, 0, f"{ctx}\n{section.text}", 0, len(section.text)))
            continue
        step = max(budget - overlap, budget // 2)
        window = 0
        start_tok = 0
        while True:
            end_tok = min(start_tok + budget, n)
            start_char = offsets[start_tok][0]
            end_char = offsets[end_tok - 1][1]
            piece = section.text[start_char:end_char]
            chunks.append(Chunk(section.position, window, f"{ctx}\n{piece}", start_char, end_char))
            if end_tok >= n:
                break
            window += 1
            start_tok += step
    return chunks
