"""The embedded Chroma store: a data folder made before the store saved its index often still opens and works."""

from __future__ import annotations

import numpy as np
from chromadb.api.client import SharedSystemClient

# what index/store/vectors.py created until Chroma's index was saved every SYNC_THRESHOLD records: Chroma's default, 1000
OLD_HNSW = {"space": "cosine", "ef_construction": 200, "ef_search": 200, "max_neighbors": 32}


def _old_folder(path, n=100):
    import chromadb
    from chromadb.config import Settings

    from index.store.vectors import COLLECTION

    client = chromadb.PersistentClient(path=str(path), settings=Settings(anonymized_telemetry=False))
    col = client.get_or_create_collection(COLLECTION, configuration={"hnsw": dict(OLD_HNSW)}, embedding_function=None)
    vectors = np.random.default_rng(7).random((n, 384), dtype=np.float32)
    ids = [f"old-{i}" for i in range(n)]
    col.add(ids=ids, embeddings=vectors, metadatas=[{"source": "old", "position": i} for i in range(n)])
    SharedSystemClient.clear_system_cache()  # as if the process ended: the next open starts from the folder
    return ids, vectors


def _saved_index(path):
    return sorted(p.name for p in path.glob("*/index_metadata.pickle"))


def test_a_folder_made_with_chromas_default_save_interval_keeps_its_vectors_and_saves_often(tmp_path):
    from index.store.vectors import SYNC_THRESHOLD, VectorStore

    folder = tmp_path / "chroma"
    ids, vectors = _old_folder(folder)
    assert _saved_index(folder) == []  # 100 records: Chroma's default (1000) never saved the index

    store = VectorStore(path=folder)
    assert store.all_ids() == set(ids)
    got = store.get_vectors(ids)
    assert np.allclose(np.stack([got[i] for i in ids]), vectors, atol=1e-6)
    assert store.collection.configuration["hnsw"]["sync_threshold"] == SYNC_THRESHOLD

    fresh = np.random.default_rng(8).random((SYNC_THRESHOLD + 8, 384), dtype=np.float32)
    new_ids = [f"new-{i}" for i in range(len(fresh))]
    store.upsert(new_ids, fresh, [{"source": "new", "position": i} for i in range(len(fresh))])
    assert _saved_index(folder) == ["index_metadata.pickle"]  # the old folder now saves every SYNC_THRESHOLD
    SharedSystemClient.clear_system_cache()

    again = VectorStore(path=folder)
    assert again.count() == len(ids) + len(new_ids)
    hit = again.query(fresh[3], 1)[0]
    assert hit.id == "new-3" and hit.metadata["source"] == "new"
    SharedSystemClient.clear_system_cache()
