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


def _journal_mode(folder) -> str:
    import sqlite3

    db = sqlite3.connect(folder / "chroma.sqlite3")
    try:
        return db.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        db.close()


def test_the_embedded_store_keeps_its_records_in_wal_mode_new_or_old(tmp_path):
    from index.store.vectors import VectorStore

    new = tmp_path / "new"
    VectorStore(path=new)
    assert _journal_mode(new) == "wal"
    SharedSystemClient.clear_system_cache()
    assert _journal_mode(new) == "wal"  # a property of the file: it stays once the process is gone

    old = tmp_path / "old"
    ids, _ = _old_folder(old)  # made by Chroma alone: a rollback journal
    assert _journal_mode(old) == "delete"
    assert VectorStore(path=old).all_ids() == set(ids)
    assert _journal_mode(old) == "wal"
    SharedSystemClient.clear_system_cache()


READER = """
import sys
from pathlib import Path
from index.store.vectors import VectorStore
store = VectorStore(path=Path(sys.argv[1]))
store.count()  # a first read brings Chroma's segments up to its log (a write): done before the other writes
print("open", flush=True)
sys.stdin.readline()  # the other process now holds the write lock
got = store.get_vectors([f"old-{i}" for i in range(100)])
hit = store.query(got["old-3"], 1)[0]
print(len(got), hit.id, flush=True)
"""


def test_another_process_reads_the_store_while_a_write_commits(tmp_path):
    """`bot ask` in a second process still answers while the bot's reindex holds the write lock to commit."""
    import os
    import sqlite3
    import subprocess
    import sys
    from pathlib import Path

    from index.store.vectors import VectorStore

    folder = tmp_path / "chroma"
    ids, _ = _old_folder(folder)
    VectorStore(path=folder)
    SharedSystemClient.clear_system_cache()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    reader = subprocess.Popen([sys.executable, "-c", READER, str(folder)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    writer = sqlite3.connect(folder / "chroma.sqlite3", timeout=5, isolation_level=None)
    try:
        assert reader.stdout.readline().strip() == "open"
        # a writer in the middle of its commit: with a rollback journal, readers are locked out meanwhile
        writer.execute("BEGIN EXCLUSIVE")
        writer.execute("UPDATE collections SET name = name")
        out, err = reader.communicate("go\n", timeout=30)  # a rollback journal: blocked until the writer ends
    finally:
        reader.kill()
        writer.execute("ROLLBACK")
        writer.close()
    assert reader.returncode == 0, err[-2000:]
    assert out.split() == [str(len(ids)), "old-3"]  # (its count() still waits for the writer: Chroma's own)


def test_vectors_written_and_read_in_many_slices_come_back_whole(tmp_path):
    """Writes and reads go in small slices (each holds the interpreter lock); every vector still comes back."""
    from index.store.vectors import READ_SLICE, WRITE_SLICE, VectorStore

    n = 2 * READ_SLICE + WRITE_SLICE + 3  # slices of both sizes, and a last one part full
    vectors = np.random.default_rng(9).random((n, 384), dtype=np.float32)
    ids = [f"c-{i}" for i in range(n)]
    store = VectorStore(path=tmp_path / "chroma")
    store.upsert(ids, vectors, [{"source": "s", "position": i} for i in range(n)])
    got = store.get_vectors(ids)
    assert len(got) == n
    assert np.allclose(np.stack([got[i] for i in ids]), vectors, atol=1e-6)
    store.delete(ids[: WRITE_SLICE + 1])
    assert store.all_ids() == set(ids[WRITE_SLICE + 1 :])
    SharedSystemClient.clear_system_cache()


def test_a_store_opened_again_in_the_same_process_keeps_working(tmp_path):
    """A bot restarted in-process opens the store a second time while Chroma still holds the file: the second open
    must not touch the file through another SQLite (it deleted Chroma's write-ahead log: "disk I/O error")."""
    from index.store.vectors import VectorStore

    rng = np.random.default_rng(11)
    first = VectorStore(path=tmp_path / "chroma")
    first.upsert(["a", "b"], rng.random((2, 384), dtype=np.float32), [{"source": "s", "position": i} for i in range(2)])
    second = VectorStore(path=tmp_path / "chroma")
    for n in range(3):  # writes and deletes through both, as the restarted bot and what the first left running do
        first.upsert([f"x{n}"], rng.random((1, 384), dtype=np.float32), [{"source": "s", "position": n}])
        second.delete([f"x{n}"])
        second.upsert([f"y{n}"], rng.random((1, 384), dtype=np.float32), [{"source": "s", "position": n}])
    assert first.all_ids() == second.all_ids() == {"a", "b", "y0", "y1", "y2"}
    SharedSystemClient.clear_system_cache()
