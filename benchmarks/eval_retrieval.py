"""Retrieval quality on ../shared/eval/dev.jsonl: the product beside dense-only and keyword-only rankings.

Indexes the three archives the questions use into a data folder under the system's temporary
directory (reused, and brought up to date incrementally, on later runs), then prints
recall@1/3/5, MRR, no-answer accuracy and the false no-match rate, overall, by kind and by corpus.

    python benchmarks/eval_retrieval.py [--questions FILE ...] [--data-dir DIR] [--show-misses] [--folds K]

With ``--folds K`` it also prints K-fold cross-validated figures (benchmarks/_cv.py): the fusion constants
fitted on the other folds and scored on the held-out one, beside plain reciprocal-rank fusion of the
keyword and dense rankings (k = 60, k = 5, and k chosen on the other folds), all in the same run; and the
same for each ranking variant in ``VARIANTS`` (keyword scoring without question scaffolding, pseudo-relevance
feedback into the query vector; both off in the product, as measured for issue 16), with no-answer accuracy and
false no-match for each, and the variant itself chosen on the other folds.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import EVAL_ARCHIVES, SHARED, open_index, require_shared


def _metrics(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks) or 1
    return {
        "r@1": sum(1 for r in ranks if r is not None and r <= 1) / n,
        "r@3": sum(1 for r in ranks if r is not None and r <= 3) / n,
        "r@5": sum(1 for r in ranks if r is not None and r <= 5) / n,
        "mrr": sum(1.0 / r for r in ranks if r is not None) / n,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", type=Path, nargs="+", default=[SHARED / "eval" / "dev.jsonl"],
                    help="one or more JSONL files (dev.jsonl and benchmarks/questions/*.jsonl, say)")
    ap.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "backissue-eval" / "data")
    ap.add_argument("--show-misses", action="store_true")
    ap.add_argument("--folds", type=int, default=0, help="also print K-fold cross-validated figures (K >= 2)")
    ap.add_argument("--save-evidence", type=Path, help="with --folds: keep each question's evidence (a pickle) to study"
                    " other fusions without the model")
    args = ap.parse_args()
    require_shared()
    from benchmarks import _cv
    from index.search.fusion import fuse
    from index.search.judge import is_question, judge
    from index.search.query import read_question
    from index.search.retriever import Filters

    _, services, summary = open_index(args.data_dir, EVAL_ARCHIVES, "eval")
    print(f"index: {summary.sections} sections ({summary.new} new, {summary.changed} changed,"
          f" {summary.unchanged} unchanged, {len(summary.failed)} failed)")
    retriever = services.retriever()

    questions = [json.loads(line) for path in args.questions for line in path.read_text().splitlines() if line.strip()]
    rows = []
    variants: dict[str, list[_cv.Evidence]] = {name: [] for name in VARIANTS}
    verdicts: dict[str, list[tuple[bool, bool]]] = {name: [] for name in VARIANTS}  # (no answer, judged no-match)
    for q in questions:
        gold = (q["corpus"], q["file"], q["heading"]) if q["kind"] != "no-answer" else None
        t, _terms, lexical, dense, _ = retriever.rankings(q["question"], Filters())
        answer = retriever.search(q["question"], k=10)

        def rank_of(order: list[int], t=t, gold=gold) -> int | None:
            if gold is None:
                return None
            for r, i in enumerate(order[:10], start=1):
                source, path, position = t.keys[i]
                if (source, path) == gold[:2] and _heading(services.catalog, source, path, position) == gold[2]:
                    return r
            return None

        if args.folds:
            query = read_question(q["question"])
            for name, (strip, feedback) in VARIANTS.items():
                _t, _terms, lex_q, dense_q, _ = retriever.rankings(query.text, Filters(), feedback=feedback,
                                                                  strip_scaffolding=strip)
                fused = fuse(lex_q, dense_q, question_like=is_question(query.text), link_share=t.link_share)
                verdicts[name].append((gold is None, judge(t.lexical, query, lex_q, dense_q, fused).no_match))
                if gold is not None:
                    variants[name].append(_cv.evidence(q, lex_q, dense_q, t.link_share, is_question(query.text),
                                                       lambda i, t=t, gold=gold: t.keys[i][:2] == gold[:2]
                                                       and _heading(services.catalog, *t.keys[i]) == gold[2]))
        product_rank = None
        if gold is not None:
            for r, res in enumerate(answer.results, start=1):
                if (res.source, res.path, res.heading) == gold:
                    product_rank = r
                    break
        rows.append({
            "q": q, "product": product_rank, "no_match": answer.no_match, "reason": answer.reason,
            "dense": rank_of(sorted(dense, key=lambda i: -dense[i])),
            "lexical": rank_of(sorted(lexical, key=lambda i: -lexical[i])),
            "top": answer.results[0].heading if answer.results else None,
        })

    answerable = [r for r in rows if r["q"]["kind"] != "no-answer"]
    unanswerable = [r for r in rows if r["q"]["kind"] == "no-answer"]

    def line(label: str, group: list[dict]) -> None:
        parts = []
        for method in ("product", "dense", "lexical"):
            m = _metrics([r[method] for r in group])
            parts.append(f"{method}: r@1 {m['r@1']:.2f} r@3 {m['r@3']:.2f} r@5 {m['r@5']:.2f} mrr {m['mrr']:.2f}")
        print(f"{label:<24} n={len(group):<3} " + " | ".join(parts))

    print()
    line("all answerable", answerable)
    by_kind: dict[str, list[dict]] = defaultdict(list)
    by_corpus: dict[str, list[dict]] = defaultdict(list)
    for r in answerable:
        by_kind[r["q"]["kind"]].append(r)
        by_corpus[r["q"]["corpus"]].append(r)
    for k, g in sorted(by_kind.items()):
        line(f"kind={k}", g)
    for k, g in sorted(by_corpus.items()):
        line(f"corpus={k}", g)
    no_answer_acc = sum(r["no_match"] for r in unanswerable) / (len(unanswerable) or 1)
    false_no_match = sum(r["no_match"] for r in answerable) / (len(answerable) or 1)
    print(f"\nno-answer accuracy {no_answer_acc:.2f} ({sum(r['no_match'] for r in unanswerable)}/{len(unanswerable)});"
          f" false no-match {false_no_match:.2f} ({sum(r['no_match'] for r in answerable)}/{len(answerable)})")
    m = _metrics([r["product"] for r in answerable])
    print(f"recall@1={m['r@1']:.3f} recall@3={m['r@3']:.3f} recall@5={m['r@5']:.3f} mrr={m['mrr']:.3f}"
          f" no_answer_acc={no_answer_acc:.3f} false_no_match={false_no_match:.3f}")
    if args.folds:
        _print_cv(variants, verdicts, args.folds)
        if args.save_evidence:
            import pickle

            args.save_evidence.write_bytes(pickle.dumps(variants))
    if args.show_misses:
        print()
        for r in rows:
            bad = (r["q"]["kind"] == "no-answer") != r["no_match"] or (r["product"] or 99) > 3
            if bad:
                print(f"{r['q']['id']} {r['q']['kind']:<10} product={r['product']} dense={r['dense']} lexical={r['lexical']}"
                      f" no_match={r['no_match']} ({r['reason']}) | {r['q']['question']!r} -> top {r['top']!r}"
                      f" | gold {r['q']['heading']!r}")
    services.close()


def _print_cv(variants: dict[str, list], verdicts: dict[str, list[tuple[bool, bool]]], k: int) -> None:
    from benchmarks import _cv
    from index.search import fusion
    from index.search import query as reading

    evidence = variants[TODAY]
    ranks, notes = _cv.cross_validate(evidence, k)
    variant_ranks, variant_notes = _cv.cross_validate_variants(variants, k)
    product = _cv.LinearSetting(fusion.DENSE_WEIGHT_QUESTION, fusion.DENSE_WEIGHT_KEYWORDS, fusion.LEXICAL_SCALE,
                                fusion.LINK_LIST_PENALTY)
    as_set = _variant_name(reading.STRIP_SCAFFOLDING, (fusion.FEEDBACK_WEIGHT, fusion.FEEDBACK_SECTIONS))
    if as_set in variants:
        ranks[f"product as set ({as_set})"] = _cv.fixed_ranks(variants[as_set], product)
    print(f"\n{k}-fold cross-validated, {len(evidence)} answerable questions (ranks past {_cv.TOP} count as misses):")
    for note in notes + variant_notes:
        print("  " + note)
    print("each variant, its fusion constants cross-validated; no-match judged with the product's constants:")
    for name in VARIANTS:
        m = _metrics([r if r != float("inf") else None for r in variant_ranks[f"{name}, cv"].values()])
        unanswerable = [nm for none, nm in verdicts[name] if none]
        answerable = [nm for none, nm in verdicts[name] if not none]
        print(f"    {name:<28} r@1 {m['r@1']:.3f} r@3 {m['r@3']:.3f} r@5 {m['r@5']:.3f} mrr {m['mrr']:.3f}"
              f"  no-answer acc {sum(unanswerable) / (len(unanswerable) or 1):.3f}"
              f"  false no-match {sum(answerable) / (len(answerable) or 1):.3f}")
    ranks["variant and constants cross-validated"] = variant_ranks["variant and constants cross-validated"]
    groups: dict[str, list] = {"all answerable": evidence}
    for e in evidence:
        groups.setdefault(f"kind={e.kind}", []).append(e)
    for e in evidence:
        groups.setdefault(f"corpus={e.corpus}", []).append(e)
    for label, group in groups.items():
        print(f"{label} (n={len(group)})")
        for method, by_q in ranks.items():
            m = _metrics([r if r != float("inf") else None for r in (by_q[e.qid] for e in group)])
            print(f"    {method:<40} r@1 {m['r@1']:.3f} r@3 {m['r@3']:.3f} r@5 {m['r@5']:.3f} mrr {m['mrr']:.3f}")


def _variant_name(strip: bool, feedback: tuple[float, int]) -> str:
    parts = (["scaffolding"] if strip else []) + ([f"feedback {feedback[0]} x{feedback[1]}"] if feedback[0] else [])
    return "+".join(parts) or TODAY


TODAY = "today"
VARIANTS: dict[str, tuple[bool, tuple[float, int]]] = {
    _variant_name(strip, (w, m)): (strip, (w, m))
    for strip in (False, True) for w, m in [(0.0, 0)] + [(w, m) for w in (0.25, 0.5, 1.0) for m in (1, 3, 5)]
}


def _heading(catalog, source: str, path: str, position: int) -> str:
    row = catalog.execute("SELECT heading FROM sections WHERE source = ? AND path = ? AND position = ?",
                          (source, path, position)).fetchone()
    return row[0] if row else ""


if __name__ == "__main__":
    main()
