"""Pages of one ranking: the sections an answer's "More results" shows next. Pure."""

from __future__ import annotations

MAX_DEPTH = 30  # sections one question may be paged through: past these, little is related to it


def page(scores: dict[int, float], k: int, offset: int = 0) -> tuple[list[int], bool]:
    """The ``k`` best-scored indices after the first ``offset`` (at most :data:`MAX_DEPTH` deep in all), and whether
    another page follows them."""
    offset = max(0, min(MAX_DEPTH, offset))
    end = min(offset + k, MAX_DEPTH)
    ranked = sorted(scores, key=lambda i: -scores[i])
    return ranked[offset:end], end < min(len(ranked), MAX_DEPTH)
