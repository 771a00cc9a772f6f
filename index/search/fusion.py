"""Fusing the keyword and dense rankings, and the query vector's pseudo-relevance feedback.

Module functions, so that benchmarks can study them (``benchmarks/_cv.py``); the no-match decision is
:mod:`index.search.judge`.
"""

from __future__ import annotations

import numpy as np

DENSE_WEIGHT_QUESTION = 0.8  # a question in the reader's own words: meaning matters most
DENSE_WEIGHT_KEYWORDS = 0.25  # a few names or keywords: the words themselves matter most
LEXICAL_SCALE = 0.8  # keyword score (relative to the best) against cosine similarity
LINK_LIST_PENALTY = 0.2  # a list of links rarely explains anything: prose sections come first

# Pseudo-relevance feedback (Rocchio in embedding space): the windows that best match the question in its
# FEEDBACK_SECTIONS closest sections, averaged, are added to the question's vector with this weight before the
# dense ranking is made. 0 turns it off.
FEEDBACK_WEIGHT = 0.0
FEEDBACK_SECTIONS = 3


def fuse(lexical: dict[int, float], dense: dict[int, float], *, question_like: bool,
         link_share: np.ndarray | None = None) -> dict[int, float]:
    """Linear fusion of cosine similarity and relative BM25, weighted by the kind of query."""
    w = DENSE_WEIGHT_QUESTION if question_like else DENSE_WEIGHT_KEYWORDS
    top = max(lexical.values(), default=0.0) or 1.0
    out: dict[int, float] = {}
    for i in set(lexical) | set(dense):
        score = w * dense.get(i, 0.0) + (1 - w) * LEXICAL_SCALE * lexical.get(i, 0.0) / top
        if link_share is not None:
            score -= LINK_LIST_PENALTY * float(link_share[i])
        out[i] = score
    return out


def section_similarities(vectors: np.ndarray, starts: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each section's best window similarity to ``query``, and the window similarities themselves."""
    window_sims = vectors @ query
    return np.maximum.reduceat(window_sims, np.minimum(starts, len(vectors) - 1)), window_sims


def feedback_query(query: np.ndarray, vectors: np.ndarray, starts: np.ndarray, section_sims: np.ndarray,
                   window_sims: np.ndarray, *, weight: float, sections: int) -> np.ndarray:
    """``query`` moved towards the best-matching window of each of its ``sections`` closest sections (normalised).

    ``section_sims`` must already hold -2 for sections the filters leave out, so feedback comes only from what
    is in view.
    """
    if weight <= 0 or sections <= 0 or not len(section_sims):
        return query
    n = min(sections, len(section_sims))
    top = np.argpartition(-section_sims, n - 1)[:n]
    top = top[section_sims[top] > -2.0]
    if not len(top):
        return query
    ends = np.append(starts[1:], len(vectors))
    rows = [int(starts[i]) + int(np.argmax(window_sims[starts[i]:ends[i]])) for i in top if ends[i] > starts[i]]
    if not rows:
        return query
    centroid = vectors[rows].mean(axis=0)
    moved = query + weight * centroid / (np.linalg.norm(centroid) or 1.0)
    return (moved / (np.linalg.norm(moved) or 1.0)).astype(query.dtype)


def dense_similarities(vectors: np.ndarray, starts: np.ndarray, query: np.ndarray, mask: np.ndarray | None,
                       feedback: tuple[float, int] | None = None) -> np.ndarray:
    """Each section's best window similarity to ``query`` (-2 where ``mask`` leaves it out), after the query's
    feedback: ``feedback`` (weight, sections), or FEEDBACK_WEIGHT and FEEDBACK_SECTIONS when None."""
    weight, sections = feedback if feedback is not None else (FEEDBACK_WEIGHT, FEEDBACK_SECTIONS)
    section_sims, window_sims = section_similarities(vectors, starts, query)
    if mask is not None:
        section_sims = np.where(mask, section_sims, -2.0)
    if weight > 0:
        moved = feedback_query(query, vectors, starts, section_sims, window_sims, weight=weight, sections=sections)
        section_sims, _ = section_similarities(vectors, starts, moved)
        if mask is not None:
            section_sims = np.where(mask, section_sims, -2.0)
    return section_sims
