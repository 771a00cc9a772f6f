"""Warm question latency over an index of all shared archives, against a bare query encode.

Builds (or reuses) the index of all four archives, then over at least 200 varied questions
(the dev questions, section headings as keyword queries, and questions made from headings)
times `Retriever.search` end to end (ranking, fusion, snippets) and, in the same run, one bare
`encode` of each question. Then runs `bot ask --json -` on the same questions in a child
process and reports its peak RSS. The last line is `ask_p95_ms=… encode_p50_ms=… ratio=…`.

    python benchmarks/bench_query.py [--data-dir DIR] [--questions N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import ALL_ARCHIVES, BENCH_DATA, SHARED, open_index, require_shared


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", type=Path, default=BENCH_DATA)
    ap.add_argument("--questions", type=int, default=240)
    args = ap.parse_args()
    require_shared()
    _, services, summary = open_index(args.data_dir, ALL_ARCHIVES, "bench")
    cfg = args.data_dir.parent / "bench.toml"
    chunks = services.catalog.count("chunks")
    print(f"index: {summary.sections} sections, {chunks} chunks ({summary.new} new, {summary.changed} changed)")

    rng = random.Random(7)
    dev = [json.loads(x)["question"] for x in (SHARED / "eval" / "dev.jsonl").read_text().splitlines()]
    headings = [r[0] for r in services.catalog.execute("SELECT heading FROM sections WHERE length(heading) > 8")]
    picked = rng.sample(headings, k=max(0, args.questions - len(dev)))
    half = len(picked) // 2
    questions = dev + picked[:half] + [f"What did the newsletter say about {h}?" for h in picked[half:]]

    retriever = services.retriever()
    t0 = time.perf_counter()
    retriever.search("warm up the model and load the keyword index")
    print(f"first question (loads the keyword index): {(time.perf_counter() - t0) * 1000:.0f} ms")
    for q in questions[:10]:
        retriever.search(q)
        services.embedder.encode_query(q)

    ask_ms, encode_ms = [], []
    for q in questions:
        t0 = time.perf_counter()
        services.embedder.encode_query(q)
        encode_ms.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        retriever.search(q)
        ask_ms.append((time.perf_counter() - t0) * 1000)
    services.close()

    stdin = "\n".join(questions) + "\n"
    child = subprocess.run([sys.executable, "-m", "bot", "--config", str(cfg), "ask", "--json", "-"],
                           input=stdin, capture_output=True, text=True, env={**os.environ})
    answered = len(child.stdout.splitlines())
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"questions: {len(questions)}; ask p50 {statistics.median(ask_ms):.1f} ms, p95 {percentile(ask_ms, 95):.1f} ms;"
          f" encode p50 {statistics.median(encode_ms):.1f} ms")
    print(f"bot ask --json -: {answered} answers, exit {child.returncode}, peak RSS {rss_mb:.0f} MB")
    p95, enc = percentile(ask_ms, 95), statistics.median(encode_ms)
    print(f"ask_p95_ms={p95:.1f} encode_p50_ms={enc:.1f} ratio={p95 / enc:.2f}")


if __name__ == "__main__":
    main()
