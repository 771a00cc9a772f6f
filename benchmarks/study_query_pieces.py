"""Would the question's pieces, each encoded on its own, find what the whole question's vector misses? (issue 16)

A reader's paraphrase strings several descriptions together ("team green", "an open toolkit", "hospital
scans"); one vector of the whole may be dominated by one of them. Here the question is cut at punctuation
and function words, and each piece of four characters or more is encoded. Two uses are measured:

- as vectors: a section's piece score is the mean (or the max) over pieces of its best window's similarity;
  the dense similarity becomes (1 - g) * whole + g * pieces;
- as names: each piece's nearest name (by the model, among the capitalised names the archives use in at
  least three sections) that adds a word to the question, when at least ``tau`` close, is added as keywords,
  scored apart and blended in as lexical + lam * names ("the everything store" -> Amazon).

The sections either ranks highest join the candidates. g, tau and lam, with the fusion constants, are
cross-validated as in ``eval_retrieval.py --folds`` (benchmarks/_cv.py). Nothing in the index changes; only
the eval index is read.

    python benchmarks/study_query_pieces.py [--questions FILE ...] [--data-dir DIR] [--folds K]
"""

from __future__ import annotations

import itertools
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import EVAL_ARCHIVES, open_index, study_options
from benchmarks.eval_retrieval import _heading, _metrics
from benchmarks.study_fusion_forms import PENALTY, SCALE, WK, W

_FUNCTION = ("of for on in with to by and that which who whether from about as at instead than or so just into its"
             " their is are was were did does do can could has have had there what how why when where any a an the")
_CUT = re.compile(r"\b(?:" + "|".join(_FUNCTION.split()) + r")\b|[,;?.:()\"“”]", re.IGNORECASE)
GAMMA = (0.0, 0.25, 0.5, 0.75, 1.0)
TAU = (0.55, 0.6, 0.65, 0.7, 0.75)
LAM = (0.1, 0.25, 0.5)
_NAME = re.compile(r"\b[A-Z][A-Za-z0-9]*(?:[-\s][A-Z][A-Za-z0-9]*){0,2}\b")
_WORD = re.compile(r"[a-z0-9]+")


def pieces(question: str) -> list[str]:
    return [p for p in (part.strip() for part in _CUT.split(question)) if len(p) >= 4]


def archive_names(sections: list) -> list[str]:
    """Capitalised names (up to three words) that occur in at least three sections' heading or text."""
    seen: Counter[str] = Counter()
    for row in sections:
        seen.update({m.group(0) for m in _NAME.finditer(f"{row.heading} {row.text}")})
    return sorted(n for n, c in seen.items() if c >= 3 and len(n) > 2)


def nearest_names(similarity: np.ndarray, names: list[str], question: str) -> list[tuple[float, str]]:
    """Each piece's closest name that adds a word to the question, with its similarity."""
    words = set(_WORD.findall(question.lower()))
    out = []
    for row in similarity:
        for j in np.argsort(-row)[:3]:
            if not set(_WORD.findall(names[j].lower())) <= words:
                out.append((float(row[j]), names[j]))
                break
    return out


def main() -> None:
    args, questions = study_options(__doc__)
    from benchmarks._cv import cross_validate_grid
    from index.search.fusion import section_similarities
    from index.search.judge import is_question
    from index.search.query import read_question
    from index.search.retriever import Filters

    _, services, _ = open_index(args.data_dir, EVAL_ARCHIVES, "eval")
    retriever = services.retriever()
    started = time.perf_counter()
    names = archive_names(services.catalog.served_sections(with_text=True))
    name_vectors = retriever.embedder.encode(names)
    print(f"{len(names)} names in the archives encoded in {time.perf_counter() - started:.1f} s")
    items, encoded, started = [], 0, time.perf_counter()
    for q in (q for q in questions if q["kind"] != "no-answer"):
        text = read_question(q["question"]).text
        t, terms, lexical, dense, _ = retriever.rankings(text, Filters())
        whole = section_similarities(t.vectors, t.starts, retriever._query_vector(text))[0]
        cut = pieces(text) or [text]
        encoded += len(cut)
        cut_vectors = retriever.embedder.encode(cut)
        per = np.stack([section_similarities(t.vectors, t.starts, v)[0] for v in cut_vectors])
        mean, most = per.mean(axis=0), per.max(axis=0)
        near = nearest_names(cut_vectors @ name_vectors.T, names, text)
        by_names = {}
        for tau in TAU:
            extra = [x for x in t.lexical.query_terms(" ".join(n for s, n in near if s >= tau)) if x not in terms]
            by_names[tau] = t.lexical.scores(extra, None) if extra else np.zeros(len(whole), dtype=np.float32)
        ids = sorted(set(lexical) | set(dense) | set(np.argsort(-mean)[:60].tolist())
                     | {int(i) for v in by_names.values() for i in np.argsort(-v)[:30] if v[i] > 0})
        keyword = t.lexical.scores(terms, None)
        top = max(lexical.values(), default=0.0) or 1.0
        items.append(SimpleNamespace(
            qid=q["id"], kind=q["kind"], question_like=is_question(text), lexical=keyword[ids] / top,
            dense=whole[ids], mean=mean[ids], max=most[ids], link=t.link_share[ids],
            names={tau: v[ids] / (float(v.max()) or 1.0) for tau, v in by_names.items()},
            gold=np.array([t.keys[i][:2] == (q["corpus"], q["file"]) and _heading(services.catalog, *t.keys[i])
                           == q["heading"] for i in ids])))
    services.close()
    print(f"{len(items)} answerable questions, {encoded} pieces encoded with their searches in"
          f" {time.perf_counter() - started:.1f} s; {args.folds}-fold cross-validated:")
    def show(label: str, score: Callable[[SimpleNamespace, tuple], np.ndarray], grid: list[tuple]) -> None:
        ranks, _ = cross_validate_grid(items, score, grid, args.folds)

        def m(group: list) -> dict[str, float]:
            return _metrics([r if r != float("inf") else None for r in (ranks[e.qid] for e in group)])

        a, para = m(items), m([e for e in items if e.kind == "paraphrase"])
        print(f"  {label:<42} r@1 {a['r@1']:.3f} r@3 {a['r@3']:.3f} r@5 {a['r@5']:.3f} mrr {a['mrr']:.3f}"
              f"  paraphrase r@3 {para['r@3']:.3f} mrr {para['mrr']:.3f}")

    def blend(e: SimpleNamespace, p: tuple, dense: np.ndarray, lexical: np.ndarray) -> np.ndarray:
        w = p[0] if e.question_like else p[1]
        return w * dense + (1 - w) * p[2] * lexical - p[3] * e.link

    fusion = list(itertools.product(W, WK, SCALE, PENALTY))
    show("today's signals", lambda e, p: blend(e, p, e.dense, e.lexical), fusion)
    for field, gammas in itertools.product(("mean", "max"), [(g,) for g in GAMMA[1:]] + [GAMMA]):
        show(f"pieces' {field} as vectors, g {'cross-validated' if len(gammas) > 1 else gammas[0]}",
             lambda e, p, f=field: blend(e, p, (1 - p[4]) * e.dense + p[4] * getattr(e, f), e.lexical),
             [(*c, g) for c in fusion for g in gammas])
    for taus in [(tau,) for tau in TAU] + [TAU]:
        show(f"nearest names, tau {'cross-validated' if len(taus) > 1 else taus[0]}",
             lambda e, p: blend(e, p, e.dense, e.lexical + p[5] * e.names[p[4]]),
             [(*c, tau, lam) for c in fusion for tau in taus for lam in LAM])


if __name__ == "__main__":
    main()
