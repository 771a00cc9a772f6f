"""A reindex with nothing changed, timed as a whole process over all shared archives.

Indexes the archives first if needed (slow the first time; reuses --data-dir), then runs
`bot reindex` in a fresh process three times and prints the wall times, and whether the
embedding model was loaded (it must not be).

    python benchmarks/bench_noop.py [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import ALL_ARCHIVES, BENCH_DATA, require_shared, write_config


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", type=Path, default=BENCH_DATA)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    require_shared()
    args.data_dir.parent.mkdir(parents=True, exist_ok=True)
    cfg = write_config(args.data_dir.parent / "bench.toml", args.data_dir, ALL_ARCHIVES)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "bot", "--config", str(cfg), "-v", "reindex"]
    first = subprocess.run(cmd, capture_output=True, text=True, env=env)
    print(first.stdout.splitlines()[0] if first.stdout else first.stderr[-500:])
    times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
        times.append(time.perf_counter() - t0)
        loaded = "loading embedding model" in r.stderr
        print(f"{times[-1]:.2f} s, exit {r.returncode}, model loaded: {'yes' if loaded else 'no'}:"
              f" {r.stdout.splitlines()[0]}")
    print(f"noop_reindex_median_s={statistics.median(times):.2f}")


if __name__ == "__main__":
    main()
