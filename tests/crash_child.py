"""Run by test_crash.py in a child process: index, optionally dying by SIGKILL at a chosen point.

    python tests/crash_child.py DATA_DIR ISSUES_DIR [--die-at POINT] [--check]

The kill stands in for a power cut or the OOM killer; the code under test is unchanged.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index.embedding.model import Embedder
from index.indexing.indexer import Indexer
from index.reading.issue import SourceSpec
from index.search.retriever import Retriever
from index.store.catalog import Catalog
from index.store.vectors import VectorStore


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def arm(point: str) -> None:
    if point == "before-upsert":
        VectorStore.upsert = lambda self, *a, **k: die()  # type: ignore[method-assign]
    elif point == "after-upsert":
        original = VectorStore.upsert

        def upsert_then_die(self, *a, **k):
            original(self, *a, **k)
            die()

        VectorStore.upsert = upsert_then_die  # type: ignore[method-assign]
    elif point in ("after-commit", "mid-delete"):
        original_delete = VectorStore.delete

        def delete(self, ids):
            if ids:
                if point == "mid-delete":
                    original_delete(self, list(ids)[: len(ids) // 2])
                die()
            original_delete(self, ids)

        VectorStore.delete = delete  # type: ignore[method-assign]
    else:
        raise SystemExit(f"unknown point {point}")


def check(catalog: Catalog, store: VectorStore, embedder: Embedder, data_dir: Path) -> dict[str, object]:
    served = sorted(catalog.all_chunk_ids())
    vectors = store.get_vectors(served)
    answer = Retriever(catalog, store, embedder, data_dir / "keyword-index").search("what is layer skip", k=1)
    hashes = {r[0]: r[1] for r in catalog.execute("SELECT path, hash FROM issues WHERE status = 'indexed'")}
    return {
        "served": len(served), "missing_vectors": len(served) - len(vectors), "store_count": store.count(),
        "top_heading": answer.results[0].heading if answer.results else None, "hashes": hashes,
    }


def main() -> None:
    data_dir, issues = Path(sys.argv[1]), Path(sys.argv[2])
    args = sys.argv[3:]
    catalog = Catalog(data_dir / "catalog.sqlite3")
    store = VectorStore(path=data_dir / "chroma")
    embedder = Embedder()
    spec = SourceSpec("examples", issues, base_url="https://newsletter.example.org/issues/", exclude=("README.md",))
    report: dict[str, object] = {}
    if "--check" in args:
        report["before"] = check(catalog, store, embedder, data_dir)
    if "--die-at" in args:
        arm(args[args.index("--die-at") + 1])
    summary = Indexer(catalog, lambda: store, embedder).reindex([spec])
    report["summary"] = {"new": summary.new, "changed": summary.changed, "removed": summary.removed,
                         "unchanged": summary.unchanged}
    if "--check" in args:
        report["after"] = check(catalog, store, embedder, data_dir)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
