"""Text-fragment links checked against the published pages: the share of cited snippets a browser lands on.

Every question of ../shared/eval/dev.jsonl and benchmarks/questions/own.jsonl is asked of the three eval
archives (k = 3). For each cited section, the page a site generator would publish is made independently of
the index (tests/published_page.py: the issue's Markdown rendered by a plain CommonMark renderer, cut into
the blocks a browser matches within), and the link's directive is matched there as a browser would (terms
inside one block, whole words, any case). Printed: how many citations carry a directive (the others fell
back to the heading alone because theirs would not land exactly once on the index's own text), how many of
those match exactly once on the published page, the directives' length, and the time building them adds.

    python benchmarks/bench_fragments.py [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import CORPORA, EVAL_ARCHIVES, ROOT, SHARED, open_index, percentile, require_shared


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "backissue-eval" / "data")
    args = ap.parse_args()
    require_shared()
    from index.search.fragments import matches
    from index.search.retriever import Retriever
    from tests.published_page import markdown_page

    _, services, _ = open_index(args.data_dir, EVAL_ARCHIVES, "eval")
    files = [SHARED / "eval" / "dev.jsonl", ROOT / "benchmarks" / "questions" / "own.jsonl"]
    questions = [json.loads(x)["question"] for f in files for x in f.read_text().splitlines() if x.strip()]
    with_fragments = services.retriever()
    plain = services.retriever(retriever_class=Retriever)
    plain.text_fragments = False
    for q in questions[:5]:  # warm both, and the model
        with_fragments.search(q), plain.search(q)

    cost: list[float] = []
    tally: Counter[str] = Counter()
    lengths: list[int] = []
    pages: dict[Path, str] = {}
    misses: list[str] = []
    for n, q in enumerate(questions):
        # alternate which goes first: the second finds the section's parse cached (snippets keep it)
        first, second = (with_fragments, plain) if n % 2 else (plain, with_fragments)
        t0 = time.perf_counter()
        one = first.search(q)
        t1 = time.perf_counter()
        two = second.search(q)
        took = {first: t1 - t0, second: time.perf_counter() - t1}
        cost.append(took[with_fragments] - took[plain])
        answer = one if first is with_fragments else two
        for res in answer.results:
            tally["cited"] += 1
            _, _, directive = res.quote_url.partition(":~:")
            if not directive:
                tally["heading only"] += 1
                continue
            lengths.append(len(directive))
            path = CORPORA / res.source / res.path
            page = pages.get(path) or pages.setdefault(path, markdown_page(path))
            found = matches(directive, page)
            tally["found once" if found == 1 else "not found" if found == 0 else "found more than once"] += 1
            if found != 1 and len(misses) < 8:
                misses.append(f"  {found}x {res.source}/{res.path} #{res.heading[:40]}: {directive[:100]}")
    services.close()

    n = tally["cited"] or 1
    carried = n - tally["heading only"]
    print(f"{len(questions)} questions, {tally['cited']} citations over {', '.join(EVAL_ARCHIVES)}")
    print(f"  with a text fragment: {carried} ({carried / n:.1%}); heading only: {tally['heading only']}")
    print(f"  found exactly once on the published page: {tally['found once']} of {carried}"
          f" ({tally['found once'] / (carried or 1):.1%}); not found {tally['not found']};"
          f" more than once {tally['found more than once']}")
    print(f"  share of all citations landing on the quoted words: {tally['found once'] / n:.1%}")
    if lengths:
        print(f"  directive length: median {percentile(lengths, 50)}, max {max(lengths)} characters")
    print(f"  added per /ask (with minus without, order alternated): mean {sum(cost) / len(cost) * 1000:.2f} ms,"
          f" p50 {percentile(cost, 50) * 1000:.2f} ms (an issue's page text is read from the catalog on first use)")
    for line in misses:
        print(line)


if __name__ == "__main__":
    main()
