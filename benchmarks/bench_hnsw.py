"""Chroma's HNSW recall against exact search, on the real chunk embeddings of an index.

For a sample of query vectors (questions from dev.jsonl and chunk vectors themselves), compares
Chroma's top-k with the exact cosine top-k computed in numpy, for several ef_search values
(it leaves the collection at the last one given; the shipped value is index/store/vectors.py's HNSW).

    python benchmarks/bench_hnsw.py [--data-dir DIR] [--k 80]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import BENCH_DATA, SHARED


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", type=Path, default=BENCH_DATA)
    ap.add_argument("--k", type=int, default=80)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--ef", type=int, nargs="+", default=[50, 100, 200, 400])
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from index.embedding.model import Embedder
    from index.store.catalog import Catalog
    from index.store.vectors import HNSW, VectorStore

    catalog = Catalog(args.data_dir / "catalog.sqlite3")
    store = VectorStore(path=args.data_dir / "chroma")
    ids = sorted(catalog.all_chunk_ids())
    vectors = store.get_vectors(ids)
    matrix = np.stack([vectors[i] for i in ids])
    print(f"{len(ids)} chunk vectors; HNSW settings {HNSW}")
    rng = np.random.default_rng(0)
    queries = [matrix[i] + rng.normal(0, 0.02, matrix.shape[1]) for i in rng.choice(len(ids), args.samples // 2)]
    questions = [json.loads(x)["question"] for x in (SHARED / "eval" / "dev.jsonl").read_text().splitlines()]
    embedder = Embedder()
    queries += list(embedder.encode(questions * (args.samples // 2 // len(questions) + 1))[: args.samples // 2])
    id_array = np.array(ids)
    for ef in args.ef:
        store._collection.modify(configuration={"hnsw": {"ef_search": ef}})
        lost = 0
        worst = 1.0
        for q in queries:
            q = (q / np.linalg.norm(q)).astype(np.float32)
            sims = matrix @ q
            order = np.argsort(-sims)[: args.k]
            got = store.query(q, args.k)
            got_ids = {h.id for h in got}
            floor = min(1.0 - h.distance for h in got) if got else 1.0
            # a hit is lost when exact search ranks it above the worst returned one and HNSW did not return it
            # (ties at the cut-off, such as boilerplate repeated in every issue, are not losses)
            missed = [i for i in order if id_array[i] not in got_ids and sims[i] > floor + 1e-5]
            lost += len(missed)
            worst = min(worst, 1 - len(missed) / args.k)
        print(f"ef_search={ef}: hits lost {lost} over {len(queries)} queries (worst query recall {worst:.3f})")


if __name__ == "__main__":
    main()
