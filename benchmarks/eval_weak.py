"""Where a weak match begins: the first result's score of right and wrong answers on the eval questions.

Indexes the three eval archives (as benchmarks/eval_retrieval.py does, same reused folder), asks each
question of ../shared/eval/dev.jsonl and benchmarks/questions/own.jsonl, and prints, for the answers the
no-match judge let through, the first result's fused score and its lead over the second, for first results
that are right (the gold section) and wrong (another section, or any section of a no-answer question), then
how each candidate threshold separates them.

    python benchmarks/eval_weak.py [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import EVAL_ARCHIVES, ROOT, SHARED, open_index, require_shared


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "backissue-eval" / "data")
    ap.add_argument("--dump", type=Path, help="write each answered question's figures as JSONL")
    args = ap.parse_args()
    require_shared()
    from bot.feedback.weak import WEAK_BELOW, weak_match
    from index.search.judge import is_question
    from index.search.query import read_question

    _, services, _ = open_index(args.data_dir, EVAL_ARCHIVES, "eval")
    retriever = services.retriever()
    files = [SHARED / "eval" / "dev.jsonl", ROOT / "benchmarks" / "questions" / "own.jsonl"]
    questions = [json.loads(line) for path in files for line in path.read_text().splitlines() if line.strip()]
    rows = []
    for q in questions:
        answer = retriever.search(q["question"], k=3)
        if answer.no_match or not answer.results:
            continue
        top = answer.results[0]
        right = q["kind"] != "no-answer" and (top.source, top.path, top.heading) == (q["corpus"], q["file"], q["heading"])
        second = answer.results[1].score if len(answer.results) > 1 else 0.0
        rows.append({"id": q["id"], "kind": q["kind"], "right": right, "score": top.score, "lead": top.score - second,
                     "question_like": is_question(read_question(q["question"]).text),
                     "weak": weak_match(q["question"], answer)})
    if args.dump:
        args.dump.write_text("".join(json.dumps(r) + "\n" for r in rows))
    for like in (True, False):
        part = [r for r in rows if r["question_like"] == like]
        print(f"\n{'questions' if like else 'keywords'}: {len(part)} answered")
        for label, want in (("right", True), ("wrong", False)):
            scores = sorted(round(r["score"], 3) for r in part if r["right"] == want)
            print(f"  {label} first results ({len(scores)}): {scores}")
    print("\nthreshold on the first result's score (question-like / keywords): wrong caught, right flagged")
    for like in (True, False):
        part = [r for r in rows if r["question_like"] == like]
        for t in sorted({round(x / 100, 2) for x in range(20, 80, 2)}):
            caught = sum(1 for r in part if not r["right"] and r["score"] < t)
            flagged = sum(1 for r in part if r["right"] and r["score"] < t)
            print(f"  {'q' if like else 'k'} < {t:.2f}: wrong {caught}/{sum(not r['right'] for r in part)},"
                  f" right {flagged}/{sum(r['right'] for r in part)}")
    weak = [r for r in rows if r["weak"]]
    print(f"\nweak_match (WEAK_BELOW={WEAK_BELOW}): {len(weak)} of {len(rows)} answered flagged;"
          f" wrong flagged {sum(not r['right'] for r in weak)}/{sum(not r['right'] for r in rows)},"
          f" right flagged {sum(r['right'] for r in weak)}/{sum(r['right'] for r in rows)}")
    services.close()


if __name__ == "__main__":
    main()
