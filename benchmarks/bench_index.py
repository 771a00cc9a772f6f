"""Index the shared archives, then time a bare SentenceTransformer.encode of the same chunk texts.

Prints both throughputs and their ratio (pipeline / bare), measured in one run.

    python benchmarks/bench_index.py [--data-dir DIR] [--archives a,b] [--batch-size N]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import ALL_ARCHIVES, default_batch_size, require_shared, write_config


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", type=Path, help="kept afterwards (default: a temporary folder)")
    ap.add_argument("--archives", default=",".join(ALL_ARCHIVES))
    ap.add_argument("--batch-size", type=int, default=default_batch_size())
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    require_shared()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from bot.services import build_services
    from bot.settings import load_settings

    tmp = tempfile.TemporaryDirectory()
    data_dir = args.data_dir or Path(tmp.name) / "data"
    cfg = write_config(Path(tmp.name) / "bench.toml", data_dir, args.archives.split(","), batch_size=args.batch_size)
    settings = load_settings(cfg)
    settings.embedding.threads = args.threads
    services = build_services(settings, purpose="bench_index")
    embedder = services.embedder
    embedder.load()  # load outside both timings

    t0 = time.perf_counter()
    summary = services.indexer.reindex(settings.source_specs(), full=True)
    pipeline_s = time.perf_counter() - t0
    texts = [r[0] for r in services.catalog.execute("SELECT text FROM chunks ORDER BY rowid")]
    print(f"pipeline: {summary.new} issues, {summary.sections} sections, {len(texts)} chunks in {pipeline_s:.1f} s"
          f" = {len(texts) / pipeline_s:.2f} chunks/s; failed {len(summary.failed)}")

    t0 = time.perf_counter()
    embedder.load().encode(texts, args.batch_size)
    bare_s = time.perf_counter() - t0
    print(f"bare encode: {len(texts)} chunks in {bare_s:.1f} s = {len(texts) / bare_s:.2f} chunks/s")
    print(f"pipeline_chunks_per_s={len(texts) / pipeline_s:.2f} bare_chunks_per_s={len(texts) / bare_s:.2f}"
          f" ratio={bare_s / pipeline_s:.3f}")
    services.close()


if __name__ == "__main__":
    main()
