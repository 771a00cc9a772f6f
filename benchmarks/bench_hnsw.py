"""Chroma's HNSW recall against exact search, on the real chunk embeddings of an index.

For a sample of query vectors (questions from dev.jsonl and chunk vectors themselves), compares
Chroma's top-k with the exact cosine top-k computed in numpy, for the collection's settings.

    python benchmarks/bench_hnsw.py [--data-dir DIR] [--k 80]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import SHARED


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "backissue-bench" / "data")
    ap.add_argument("--k", type=int, default=80)
    ap.add_argument("--samples", type=int, default=200)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from index.catalog import Catalog
    from index.embedding import Embedder
    from index.vectors import HNSW, VectorStore

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
    lost = 0
    recall = []
    for q in queries:
        q = q / np.linalg.norm(q)
        exact = set(np.array(ids)[np.argsort(-(matrix @ q))[: args.k]])
        got = {h.id for h in store.query(q.astype(np.float32), args.k)}
        recall.append(len(exact & got) / args.k)
        lost += len(exact - got)
    print(f"recall@{args.k} mean {np.mean(recall):.4f} min {np.min(recall):.4f}; hits lost in total: {lost}")


if __name__ == "__main__":
    main()
