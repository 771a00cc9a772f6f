"""Would another way of fusing the same two rankings order the top candidates better? (issue 16)

Reads the evidence ``eval_retrieval.py --folds K --save-evidence FILE`` kept (keyword score relative to the best,
dense similarity, link share, both ranks, per candidate), so no model runs here; cross-validates each form's
constants (``benchmarks/_cv.py``) and prints its held-out figures beside today's linear fusion. Last, a bound on
any re-weighting of these two rankings: the linear fusion with its constants chosen for each question by an
oracle that knows the answer, and how often the answer is in the top 3 or 10 of either ranking.

    python benchmarks/study_fusion_forms.py EVIDENCE [--folds K]
"""

from __future__ import annotations

import argparse
import itertools
import pickle
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._cv import Evidence, _rank, cross_validate_grid
from benchmarks.eval_retrieval import TODAY, _metrics

W = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9)  # dense weight, question-like queries
WK = (0.05, 0.15, 0.25)  # dense weight, keyword queries
SCALE = (0.4, 0.6, 0.8, 1.0)
PENALTY = (0.1, 0.2, 0.3)


def _w(e: Evidence, p: tuple) -> float:
    return p[0] if e.question_like else p[1]


def linear(e: Evidence, p: tuple) -> np.ndarray:
    return _w(e, p) * e.dense + (1 - _w(e, p)) * p[2] * e.lexical - p[3] * e.link


def _z(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / (x.std() or 1.0)


FORMS: dict[str, tuple[Callable[[Evidence, tuple], np.ndarray], list[tuple]]] = {
    "linear (today's form)": (linear, list(itertools.product(W, WK, SCALE, PENALTY))),
    "linear + reciprocal ranks": (
        lambda e, p: linear(e, p) + p[4] * (1 / (p[5] + e.lex_rank) + 1 / (p[5] + e.dense_rank)),
        list(itertools.product(W, WK, SCALE, (0.2,), (0.5, 1, 2, 4), (2, 5, 10)))),
    "z-scored per question": (
        lambda e, p: _w(e, p) * _z(e.dense) + (1 - _w(e, p)) * p[2] * _z(e.lexical) - 5 * p[3] * e.link,
        list(itertools.product(W, WK, SCALE, PENALTY))),
    "square root of keyword score": (
        lambda e, p: _w(e, p) * e.dense + (1 - _w(e, p)) * p[2] * np.sqrt(e.lexical) - p[3] * e.link,
        list(itertools.product(W, WK, SCALE, PENALTY))),
    "bonus where both rankings agree": (
        lambda e, p: linear(e, p) + p[4] * ((e.lex_rank <= p[5]) & (e.dense_rank <= p[5])),
        list(itertools.product(W, WK, SCALE, (0.2,), (0.02, 0.05, 0.1), (5, 10, 20)))),
    "penalty past a dense rank": (
        lambda e, p: linear(e, p) - p[4] * (e.dense_rank > p[5]),
        list(itertools.product(W, WK, SCALE, (0.2,), (0.02, 0.05, 0.1), (10, 20, 40)))),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("evidence", type=Path, help="the pickle eval_retrieval.py --save-evidence wrote")
    ap.add_argument("--folds", type=int, default=5)
    args = ap.parse_args()
    items: list[Evidence] = pickle.loads(args.evidence.read_bytes())[TODAY]
    kinds = sorted({e.kind for e in items})
    print(f"{args.folds}-fold cross-validated, {len(items)} answerable questions")
    for name, (score, grid) in FORMS.items():
        ranks, _chosen = cross_validate_grid(items, score, grid, args.folds)

        def m(group: list[Evidence], ranks: dict[str, float] = ranks) -> dict[str, float]:
            return _metrics([r if r != float("inf") else None for r in (ranks[e.qid] for e in group)])

        a = m(items)
        by_kind = "  ".join(f"{k} r@3 {m([e for e in items if e.kind == k])['r@3']:.3f}" for k in kinds)
        print(f"  {name:<32} r@1 {a['r@1']:.3f} r@3 {a['r@3']:.3f} r@5 {a['r@5']:.3f} mrr {a['mrr']:.3f}  {by_kind}")
    oracle_grid = list(itertools.product(np.arange(0.0, 1.001, 0.05), (0.4, 0.6, 0.8, 1.0, 1.2), (0.0, *PENALTY)))
    for kind in kinds:
        group = [e for e in items if e.kind == kind]
        best = [min(_rank(w * e.dense + (1 - w) * s * e.lexical - p * e.link, e.gold) for w, s, p in oracle_grid)
                for e in group]
        o = _metrics([r if r != float("inf") else None for r in best])
        either = np.array([min(e.lex_rank[e.gold].min(), e.dense_rank[e.gold].min()) if e.gold.any() else np.inf
                           for e in group])
        print(f"  {kind} (n={len(group)}): oracle weights per question r@1 {o['r@1']:.3f} r@3 {o['r@3']:.3f} r@5"
              f" {o['r@5']:.3f}; answer in either ranking's top 3 {(either <= 3).mean():.3f}, top 10"
              f" {(either <= 10).mean():.3f}; in neither's candidates {sum(not e.gold.any() for e in group)}")


if __name__ == "__main__":
    main()
