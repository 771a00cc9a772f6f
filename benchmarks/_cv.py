"""Cross-validated ranking figures: every tuned fusion constant fitted on the other folds, scored on the held-out one.

The retriever's evidence for a question (keyword scores, dense similarities, link shares) does not depend
on the fusion constants, so it is gathered once per question (:class:`Evidence`); each constant setting is
then scored with numpy over all candidates at once. Used by ``eval_retrieval.py --folds K``.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from index.search import fusion

TOP = 10  # ranks past this count as not found, as in eval_retrieval.py


@dataclass
class Evidence:
    """One answerable question's candidates: relative keyword score, dense similarity, link share, gold or not."""

    qid: str
    kind: str
    corpus: str
    question_like: bool
    lexical: np.ndarray  # keyword score relative to the best candidate (0 when absent)
    dense: np.ndarray  # cosine similarity (0 when absent, as fuse() counts it)
    link: np.ndarray
    gold: np.ndarray  # bool
    lex_rank: np.ndarray  # 1-based rank in the keyword ranking (inf when absent)
    dense_rank: np.ndarray


def evidence(q: dict, lexical: dict[int, float], dense: dict[int, float], link_share: np.ndarray | None,
             question_like: bool, is_gold: Callable[[int], bool]) -> Evidence:
    ids = sorted(set(lexical) | set(dense))
    top = max(lexical.values(), default=0.0) or 1.0

    def ranks(scores: dict[int, float]) -> np.ndarray:
        order = {i: r for r, i in enumerate(sorted(scores, key=lambda i: -scores[i]), start=1)}
        return np.array([order.get(i, np.inf) for i in ids], dtype=float)

    return Evidence(
        qid=q["id"], kind=q["kind"], corpus=q["corpus"], question_like=question_like,
        lexical=np.array([lexical.get(i, 0.0) / top for i in ids]),
        dense=np.array([dense.get(i, 0.0) for i in ids]),
        link=np.array([float(link_share[i]) if link_share is not None else 0.0 for i in ids]),
        gold=np.array([is_gold(i) for i in ids], dtype=bool),
        lex_rank=ranks(lexical), dense_rank=ranks(dense),
    )


def _rank(scores: np.ndarray, gold: np.ndarray) -> float:
    """1-based rank of the best gold candidate (ties count against it), inf when absent or past TOP."""
    if not gold.any():
        return np.inf
    best = scores[gold].max()
    rank = int((scores > best).sum()) + 1
    return float(rank) if rank <= TOP else np.inf


# --- the product's linear fusion, and plain reciprocal-rank fusion ---------------------------------------

W_GRID = tuple(round(x, 2) for x in np.arange(0.05, 0.96, 0.05))
SCALE_GRID = (0.4, 0.6, 0.8, 1.0, 1.2)
PENALTY_GRID = (0.0, 0.1, 0.2, 0.3)
RRF_K_GRID = (1, 2, 5, 10, 20, 60)


def linear_ranks(ev: Evidence) -> dict[tuple[float, float, float], float]:
    """Gold's rank for every (dense weight, lexical scale, link penalty) on the grid."""
    out = {}
    for w, s, p in itertools.product(W_GRID, SCALE_GRID, PENALTY_GRID):
        out[(w, s, p)] = _rank(w * ev.dense + (1 - w) * s * ev.lexical - p * ev.link, ev.gold)
    return out


def rrf_rank(ev: Evidence, k: float) -> float:
    return _rank(1.0 / (k + ev.lex_rank) + 1.0 / (k + ev.dense_rank), ev.gold)


def _objective(ranks: Sequence[float]) -> float:
    """What fitting maximises: MRR plus recall@3, so that neither is bought with the other."""
    r = np.array(ranks)
    return float((1.0 / r).sum() + (r <= 3).sum())


@dataclass(frozen=True)
class LinearSetting:
    w_question: float
    w_keywords: float
    scale: float
    penalty: float

    def scores(self, ev: Evidence) -> np.ndarray:
        w = self.w_question if ev.question_like else self.w_keywords
        return w * ev.dense + (1 - w) * self.scale * ev.lexical - self.penalty * ev.link

    def rank(self, ev: Evidence, table: dict[tuple[float, float, float], float]) -> float:
        return table[(self.w_question if ev.question_like else self.w_keywords, self.scale, self.penalty)]


def fit_linear(train: Sequence[Evidence], tables: dict[str, dict]) -> LinearSetting:
    """The grid setting with the best objective on ``train``; question-like and keyword queries have their own weight."""
    best: tuple[float, LinearSetting] | None = None
    for s, p in itertools.product(SCALE_GRID, PENALTY_GRID):
        wq = max(W_GRID, key=lambda w: _objective([tables[e.qid][(w, s, p)] for e in train if e.question_like]))
        wk = max(W_GRID, key=lambda w: _objective([tables[e.qid][(w, s, p)] for e in train if not e.question_like]))
        setting = LinearSetting(wq, wk, s, p)
        score = _objective([setting.rank(e, tables[e.qid]) for e in train])
        if best is None or score > best[0]:
            best = (score, setting)
    assert best is not None
    return best[1]


def folds(items: Sequence[Evidence], k: int, seed: int = 0) -> list[list[Evidence]]:
    """``k`` folds, each kind spread evenly over them (a fixed shuffle, so runs compare)."""
    out: list[list[Evidence]] = [[] for _ in range(k)]
    rng = random.Random(seed)
    n = 0
    for kind in sorted({e.kind for e in items}):
        group = [e for e in items if e.kind == kind]
        rng.shuffle(group)
        for e in group:
            out[n % k].append(e)
            n += 1
    return out


def cross_validate(items: Sequence[Evidence], k: int) -> tuple[dict[str, dict[str, float]], list[str]]:
    """Held-out gold rank per question for each method; and a line per fold saying what was fitted."""
    tables = {e.qid: linear_ranks(e) for e in items}
    today = LinearSetting(fusion.DENSE_WEIGHT_QUESTION, fusion.DENSE_WEIGHT_KEYWORDS, fusion.LEXICAL_SCALE,
                          fusion.LINK_LIST_PENALTY)
    ranks: dict[str, dict[str, float]] = {m: {} for m in ("today, as fitted", "today, cross-validated",
                                                          "rrf k=60", "rrf k=5", "rrf, k cross-validated")}
    notes = []
    for n, held in enumerate(folds(items, k), start=1):
        train = [e for e in items if e not in held]
        setting = fit_linear(train, tables)
        rrf_k = max(RRF_K_GRID, key=lambda kk: _objective([rrf_rank(e, kk) for e in train]))
        notes.append(f"fold {n}: {len(held)} held out; fitted w_question {setting.w_question} w_keywords"
                     f" {setting.w_keywords} scale {setting.scale} penalty {setting.penalty}; rrf k {rrf_k}")
        for e in held:
            ranks["today, as fitted"][e.qid] = _rank(today.scores(e), e.gold)
            ranks["today, cross-validated"][e.qid] = setting.rank(e, tables[e.qid])
            ranks["rrf k=60"][e.qid] = rrf_rank(e, 60)
            ranks["rrf k=5"][e.qid] = rrf_rank(e, 5)
            ranks["rrf, k cross-validated"][e.qid] = rrf_rank(e, rrf_k)
    return ranks, notes



# --- variants of the evidence (keyword scaffolding set aside, the query vector's feedback) ------------------------

def cross_validate_variants(variants: dict[str, Sequence[Evidence]], k: int
                            ) -> tuple[dict[str, dict[str, float]], list[str]]:
    """Held-out gold rank per question when the variant too is chosen on the other folds.

    ``variants`` maps a name to every answerable question's evidence gathered that way (the same questions in
    the same order in each). Gives, per variant, its linear constants cross-validated; and "variant and
    constants cross-validated", which picks the variant with the constants on the other folds as well.
    """
    names = list(variants)
    by_qid = {v: {e.qid: e for e in items} for v, items in variants.items()}
    tables = {v: {e.qid: linear_ranks(e) for e in items} for v, items in variants.items()}
    base = list(variants[names[0]])
    chosen = "variant and constants cross-validated"
    ranks: dict[str, dict[str, float]] = {**{f"{v}, cv": {} for v in names}, chosen: {}}
    notes = []
    for n, held in enumerate(folds(base, k), start=1):
        held_ids = {e.qid for e in held}
        fitted = {}
        for v in names:
            train = [e for e in variants[v] if e.qid not in held_ids]
            setting = fit_linear(train, tables[v])
            fitted[v] = (_objective([setting.rank(e, tables[v][e.qid]) for e in train]), setting)
        best = max(names, key=lambda v: fitted[v][0])
        s = fitted[best][1]
        notes.append(f"fold {n}: chose {best} (w_question {s.w_question} w_keywords {s.w_keywords} scale {s.scale}"
                     f" penalty {s.penalty})")
        for e in held:
            for v in names:
                ranks[f"{v}, cv"][e.qid] = fitted[v][1].rank(by_qid[v][e.qid], tables[v][e.qid])
            ranks[chosen][e.qid] = s.rank(by_qid[best][e.qid], tables[best][e.qid])
    return ranks, notes


def fixed_ranks(items: Sequence[Evidence], setting: LinearSetting) -> dict[str, float]:
    """Gold's rank per question with the constants as set (no fitting)."""
    return {e.qid: _rank(setting.scores(e), e.gold) for e in items}


# --- any scoring function with a grid of constants (the study scripts) ----------------------------------------

def cross_validate_grid(items: Sequence[Any], score: Callable[[Any, tuple], np.ndarray], grid: Sequence[tuple],
                        k: int) -> tuple[dict[str, float], list[tuple]]:
    """Held-out gold rank per question when ``score(item, constants)`` has its constants chosen from ``grid`` on the
    other folds; and the constants each fold chose. ``items`` need ``qid``, ``kind`` and a bool array ``gold``."""
    table = {e.qid: [_rank(score(e, p), e.gold) for p in grid] for e in items}
    held_ranks: dict[str, float] = {}
    chosen = []
    for held in folds(items, k):
        ids = {e.qid for e in held}
        best = max(range(len(grid)), key=lambda j: _objective([table[e.qid][j] for e in items if e.qid not in ids]))
        chosen.append(grid[best])
        for e in held:
            held_ranks[e.qid] = table[e.qid][best]
    return held_ranks, chosen
