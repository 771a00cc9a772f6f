"""Would a section's heading (and lead) embedded as its own vector beside its windows rank better? (issue 16)

Measured without changing the index: the headings (alone, and with the section's first 40 words) of the eval
index are encoded here (minutes on 2 cores), and each section's dense score becomes max(windows, heading) or
(1 - g) * windows + g * heading. Each variant's fusion constants, and the choice of variant, are cross-validated
as in ``eval_retrieval.py --folds`` (benchmarks/_cv.py), beside today's.

    python benchmarks/study_heading_vectors.py [--questions FILE ...] [--data-dir DIR] [--folds K]
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import EVAL_ARCHIVES, open_index, study_options
from benchmarks.eval_retrieval import _heading, _metrics

_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MARKUP = re.compile(r"^#+ .*$|[*_`>#!|]|<[^>]+>|\(https?://[^)]*\)", re.MULTILINE)


def lead(markdown: str, words: int = 40) -> str:
    return " ".join(_MARKUP.sub(" ", _LINK.sub(r"\1", markdown)).split()[:words])


def main() -> None:
    args, questions = study_options(__doc__)
    from benchmarks import _cv
    from index.search.fusion import fuse, section_similarities
    from index.search.judge import is_question, judge
    from index.search.query import read_question
    from index.search.retriever import Filters

    _, services, _ = open_index(args.data_dir, EVAL_ARCHIVES, "eval")
    retriever = services.retriever()
    retriever.refresh()
    t = retriever._table
    assert t is not None
    t0 = time.perf_counter()
    heads = [s.heading or s.title for s in t.sections]
    leads = [f"{h}. {lead(s.markdown)}" for h, s in zip(heads, t.sections, strict=True)]
    matrices = {"h": retriever.embedder.encode(heads), "hl": retriever.embedder.encode(leads)}
    print(f"encoded {len(heads)} headings twice in {time.perf_counter() - t0:.0f} s")
    modes: dict[str, tuple[str, str, float] | None] = {"today": None}
    for mat in matrices:
        modes[f"{mat} max"] = (mat, "max", 0.0)
        modes.update({f"{mat} mix {g}": (mat, "mix", g) for g in (0.2, 0.35, 0.5)})
    variants: dict[str, list] = {m: [] for m in modes}
    verdicts: dict[str, list[tuple[bool, bool]]] = {m: [] for m in modes}
    for q in questions:
        gold = (q["corpus"], q["file"], q["heading"]) if q["kind"] != "no-answer" else None
        query = read_question(q["question"])
        _t, _terms, lexical, today, _ = retriever.rankings(query.text, Filters(), feedback=(0.0, 0),
                                                           strip_scaffolding=False)
        vector = retriever.vector_of(query.text)
        windows, _ = section_similarities(t.vectors, t.starts, vector)
        for m, spec in modes.items():
            dense = today
            if spec is not None:
                h = matrices[spec[0]] @ vector
                combined = np.maximum(windows, h) if spec[1] == "max" else (1 - spec[2]) * windows + spec[2] * h
                top = np.argpartition(-combined, 59)[:60]
                dense = {int(i): float(combined[i]) for i in (*top.tolist(), *lexical)}
            fused = fuse(lexical, dense, question_like=is_question(query.text), link_share=t.link_share)
            verdicts[m].append((gold is None, judge(t.lexical, query, lexical, dense, fused).no_match))
            if gold is not None:
                variants[m].append(_cv.evidence(q, lexical, dense, t.link_share, is_question(query.text),
                                                lambda i, gold=gold: t.keys[i][:2] == gold[:2]
                                                and _heading(services.catalog, *t.keys[i]) == gold[2]))
    ranks, notes = _cv.cross_validate_variants(variants, args.folds)
    for note in notes:
        print("  " + note)
    for m in [*modes, "variant and constants cross-validated"]:
        by_q = ranks[f"{m}, cv" if m in modes else m]
        for label, kinds in (("all", None), ("paraphrase", {"paraphrase"}), ("keyword+detail", {"keyword", "detail"})):
            group = [e for e in variants["today"] if kinds is None or e.kind in kinds]
            r = _metrics([x if x != float("inf") else None for x in (by_q[e.qid] for e in group)])
            line = f"{m:<40} {label:<15} r@1 {r['r@1']:.3f} r@3 {r['r@3']:.3f} r@5 {r['r@5']:.3f} mrr {r['mrr']:.3f}"
            if label == "all" and m in modes:
                un = [nm for none, nm in verdicts[m] if none]
                an = [nm for none, nm in verdicts[m] if not none]
                line += f"  no-answer acc {sum(un) / (len(un) or 1):.3f} false no-match {sum(an) / (len(an) or 1):.3f}"
            print(line)
    services.close()


if __name__ == "__main__":
    main()
