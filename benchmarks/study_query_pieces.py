"""Would the question's pieces, each encoded on its own, find what the whole question's vector misses? (issue 16)

A reader's paraphrase strings several descriptions together ("team green", "an open toolkit", "hospital
scans"); one vector of the whole may be dominated by one of them. Here the question is cut at punctuation
and function words, each piece of four characters or more is encoded, and a section's piece score is the mean
(or the max) over pieces of its best window's similarity; the dense similarity becomes
(1 - g) * whole + g * pieces, and the sections the pieces rank highest join the candidates. Each g, with the
fusion constants, is cross-validated as in ``eval_retrieval.py --folds`` (benchmarks/_cv.py). Nothing in the
index changes; only the eval index is read.

    python benchmarks/study_query_pieces.py [--questions FILE ...] [--data-dir DIR] [--folds K]
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import EVAL_ARCHIVES, SHARED, open_index, require_shared
from benchmarks.eval_retrieval import _heading, _metrics
from benchmarks.study_fusion_forms import PENALTY, SCALE, WK, W

_FUNCTION = ("of for on in with to by and that which who whether from about as at instead than or so just into its"
             " their is are was were did does do can could has have had there what how why when where any a an the")
_CUT = re.compile(r"\b(?:" + "|".join(_FUNCTION.split()) + r")\b|[,;?.:()\"“”]", re.IGNORECASE)
GAMMA = (0.0, 0.25, 0.5, 0.75, 1.0)


def pieces(question: str) -> list[str]:
    return [p for p in (part.strip() for part in _CUT.split(question)) if len(p) >= 4]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", type=Path, nargs="+", default=[SHARED / "eval" / "dev.jsonl"])
    ap.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "backissue-eval" / "data")
    ap.add_argument("--folds", type=int, default=5)
    args = ap.parse_args()
    require_shared()
    from benchmarks._cv import cross_validate_grid
    from index.search.fusion import section_similarities
    from index.search.judge import is_question
    from index.search.query import read_question
    from index.search.retriever import Filters

    _, services, _ = open_index(args.data_dir, EVAL_ARCHIVES, "eval")
    retriever = services.retriever()
    questions = [json.loads(line) for path in args.questions for line in path.read_text().splitlines() if line.strip()]
    items, encoded, started = [], 0, time.perf_counter()
    for q in (q for q in questions if q["kind"] != "no-answer"):
        text = read_question(q["question"]).text
        t, terms, lexical, dense, _ = retriever.rankings(text, Filters())
        whole = section_similarities(t.vectors, t.starts, retriever._query_vector(text))[0]
        cut = pieces(text) or [text]
        encoded += len(cut)
        per = np.stack([section_similarities(t.vectors, t.starts, v)[0] for v in retriever.embedder.encode(cut)])
        mean, most = per.mean(axis=0), per.max(axis=0)
        ids = sorted(set(lexical) | set(dense) | set(np.argsort(-mean)[:60].tolist()))
        keyword = t.lexical.scores(terms, None)
        top = max(lexical.values(), default=0.0) or 1.0
        items.append(SimpleNamespace(
            qid=q["id"], kind=q["kind"], question_like=is_question(text), lexical=keyword[ids] / top,
            dense=whole[ids], mean=mean[ids], max=most[ids], link=t.link_share[ids],
            gold=np.array([t.keys[i][:2] == (q["corpus"], q["file"]) and _heading(services.catalog, *t.keys[i])
                           == q["heading"] for i in ids])))
    services.close()
    print(f"{len(items)} answerable questions, {encoded} pieces encoded with their searches in"
          f" {time.perf_counter() - started:.1f} s; {args.folds}-fold cross-validated:")
    for field, gammas in itertools.product(("mean", "max"), [(g,) for g in GAMMA] + [GAMMA]):
        def score(e: SimpleNamespace, p: tuple, field: str = field) -> np.ndarray:
            w = p[0] if e.question_like else p[1]
            return w * ((1 - p[4]) * e.dense + p[4] * getattr(e, field)) + (1 - w) * p[2] * e.lexical - p[3] * e.link

        ranks, _ = cross_validate_grid(items, score, list(itertools.product(W, WK, SCALE, PENALTY, gammas)), args.folds)

        def m(group: list, ranks: dict[str, float] = ranks) -> dict[str, float]:
            return _metrics([r if r != float("inf") else None for r in (ranks[e.qid] for e in group)])

        a, para = m(items), m([e for e in items if e.kind == "paraphrase"])
        label = f"{field}, g {'cross-validated' if len(gammas) > 1 else gammas[0]}"
        print(f"  {label:<24} r@1 {a['r@1']:.3f} r@3 {a['r@3']:.3f} r@5 {a['r@5']:.3f} mrr {a['mrr']:.3f}"
              f"  paraphrase r@3 {para['r@3']:.3f} mrr {para['mrr']:.3f}")


if __name__ == "__main__":
    main()
