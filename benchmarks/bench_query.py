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
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import (
    ALL_ARCHIVES,
    BENCH_DATA,
    SHARED,
    bench_questions,
    open_index,
    percentile,
    require_shared,
    time_questions,
)


def ask_child(cfg: Path, questions: list[str]) -> tuple[int, int, float]:
    """Answers, exit code and peak RSS (MB) of `bot ask --json -` over ``questions`` in a child process.

    The child's own peak, from wait4: RUSAGE_CHILDREN would also count earlier children of this process (the
    one-time ONNX export of a fresh bench folder peaks at over a gigabyte).
    """
    child = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(cfg), "ask", "--json", "-"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                             env={**os.environ})
    assert child.stdin is not None and child.stdout is not None

    def feed() -> None:
        child.stdin.write("\n".join(questions) + "\n")
        child.stdin.close()

    writer = threading.Thread(target=feed)
    writer.start()
    answered = len(child.stdout.read().splitlines())
    writer.join()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return answered, child.returncode, usage.ru_maxrss / 1024


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

    dev = [json.loads(x)["question"] for x in (SHARED / "eval" / "dev.jsonl").read_text().splitlines()]
    questions = bench_questions(services.catalog, dev, args.questions)

    retriever = services.retriever()
    t0 = time.perf_counter()
    retriever.search("warm up the model and load the keyword index")
    print(f"first question (loads the keyword index): {(time.perf_counter() - t0) * 1000:.0f} ms")
    encode_ms, ask_ms = time_questions(services.embedder, retriever, questions)
    services.close()

    answered, code, rss_mb = ask_child(cfg, questions)
    print(f"questions: {len(questions)}; ask p50 {statistics.median(ask_ms):.1f} ms, p95 {percentile(ask_ms, 95):.1f} ms;"
          f" encode p50 {statistics.median(encode_ms):.1f} ms")
    print(f"bot ask --json -: {answered} answers, exit {code}, peak RSS {rss_mb:.0f} MB")
    p95, enc = percentile(ask_ms, 95), statistics.median(encode_ms)
    print(f"ask_p95_ms={p95:.1f} encode_p50_ms={enc:.1f} ratio={p95 / enc:.2f}")


if __name__ == "__main__":
    main()
