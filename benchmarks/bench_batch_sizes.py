"""Embedding batch size and threads, by measurement: chunks/s and the memory a batch adds, per backend.

Each combination runs in its own child process (so that its peak memory is its own): the model is loaded, then a
fixed sample of real chunks (every n-th chunk of an index, by rowid) is encoded once to warm up and once timed.
Prints chunks/s, the peak resident memory and what encoding added to it (peak less the memory after loading).

    python benchmarks/bench_batch_sizes.py [--data-dir DIR] [--backends onnx,onnx-int8] [--batches 8,16,32]
                                           [--threads 0,1,2] [--sample 600]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import ROOT

CHILD = """
import json, resource, sqlite3, sys, time
from pathlib import Path
from index.embedding.model import Embedder
data, backend, batch, threads, sample, export = sys.argv[1:7]
db = sqlite3.connect(f"file:{data}/catalog.sqlite3?mode=ro", uri=True)
texts = [r[0] for r in db.execute("SELECT text FROM chunks ORDER BY rowid")]
texts = texts[:: max(1, len(texts) // int(sample))][: int(sample)]
e = Embedder(backend=backend, batch_size=int(batch), threads=int(threads) or None, export_dir=Path(export))
e.encode(["load"])
loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
e.encode(texts[:64])
t0 = time.perf_counter()
e.encode(texts)
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(json.dumps({"chunks_s": len(texts) / seconds, "peak": peak, "added": peak - loaded}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "backissue-eval" / "data")
    ap.add_argument("--backends", default="onnx,onnx-int8")
    ap.add_argument("--batches", default="8,16,32")
    ap.add_argument("--threads", default="0")
    ap.add_argument("--sample", type=int, default=600)
    args = ap.parse_args()
    if not (args.data_dir / "catalog.sqlite3").exists():
        raise SystemExit(f"no index at {args.data_dir}: run benchmarks/eval_retrieval.py first (it builds one)")
    export = args.data_dir / "onnx"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    print(f"{'backend':<10} {'batch':>5} {'threads':>7} {'chunks/s':>9} {'peak':>7} {'added':>7} {'load':>5}")
    for backend in args.backends.split(","):
        for threads in args.threads.split(","):
            for batch in args.batches.split(","):
                out = subprocess.run([sys.executable, "-c", CHILD, str(args.data_dir), backend, batch, threads,
                                      str(args.sample), str(export)], capture_output=True, text=True, env=env,
                                     cwd=ROOT, timeout=1800)
                if out.returncode != 0:
                    raise SystemExit(out.stderr[-2000:])
                r = json.loads(out.stdout.strip().splitlines()[-1])
                shown = "auto" if threads == "0" else threads
                print(f"{backend:<10} {batch:>5} {shown:>7} {r['chunks_s']:>9.1f} {r['peak']:>4} MB"
                      f" {r['added']:>4} MB {os.getloadavg()[0]:>5.1f}", flush=True)


if __name__ == "__main__":
    main()
