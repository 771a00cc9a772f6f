"""The served chunks' vectors, one file per served state beside the keyword index, memory-mapped on load.

Exact search needs every served chunk's vector in one matrix. Read from embedded Chroma, that cost a process about
150 MB over the four shared archives (Chroma's first read alone about 56 MB, then the vectors as many small
arrays) for a 37 MB matrix. Saved once per generation, the matrix is mapped from the file on later loads: the
pages belong to the file (shared by every process of the data folder, given back under memory pressure) and a
restart reads nothing from the store. A file is named by a digest of what its rows are (the model, the catalog's
generation, the chunk ids in order), written whole and never changed, so a process that mapped an older one keeps
reading it until it loads the new one.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from index.store.vectors import VectorStore

log = logging.getLogger(__name__)


def _name(folder: Path, key: str) -> Path:
    return folder / f"vectors-{hashlib.sha256(key.encode()).hexdigest()[:24]}.npy"


def load(folder: Path, key: str, rows: int) -> np.ndarray | None:
    """The matrix saved under ``key`` (what its rows are: the model, the generation, the chunk ids in order) when
    it has ``rows`` rows, else None."""
    path = _name(folder, key)
    if not path.exists():
        return None
    try:
        matrix = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as exc:
        log.warning("the saved vectors %s are unreadable (%s); reading them from the store", path, exc)
        return None
    if matrix.ndim != 2 or matrix.dtype != np.float32 or matrix.shape[0] != rows:
        log.warning("the saved vectors %s do not fit the served chunks; reading them from the store", path)
        return None
    return matrix


def save(folder: Path, key: str, matrix: np.ndarray) -> None:
    """Write the matrix whole under ``key``'s name, then remove the files of other keys."""
    folder.mkdir(parents=True, exist_ok=True)
    target = _name(folder, key)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npy", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.save(f, np.ascontiguousarray(matrix, dtype=np.float32), allow_pickle=False)
        os.chmod(tmp, 0o644)  # as readable as the keyword index beside it (mkstemp makes it 0600)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    for old in folder.glob("vectors-*.npy"):
        if old != target:
            old.unlink(missing_ok=True)  # a process that mapped it keeps its pages until it loads anew


def served_matrix(store: Callable[[], VectorStore], folder: Path, key: str, ids: list[str]) -> np.ndarray:
    """The vectors of ``ids`` in that order: mapped from the file saved under ``key``, else read from the store
    (opened by ``store`` only then) and saved for the next load."""
    matrix = load(folder, key, len(ids))
    if matrix is not None:
        return matrix
    matrix = read(store(), ids)
    if len(matrix):
        try:
            save(folder, key, matrix)
        except OSError as exc:
            log.warning("cannot save the served vectors to %s: %s", folder, exc)
    return matrix


def read(store: VectorStore, ids: list[str]) -> np.ndarray:
    """The vectors of ``ids`` from the store, in that order (zeros for any it lacks), a thousand at a time."""
    matrix: np.ndarray | None = None
    for start in range(0, len(ids), 1000):
        part = ids[start:start + 1000]
        found = store.get_vectors(part)
        for n, cid in enumerate(part):
            vector = found.get(cid)
            if vector is None:
                continue
            if matrix is None:
                matrix = np.zeros((len(ids), len(vector)), dtype=np.float32)
            matrix[start + n] = vector
    return matrix if matrix is not None else np.zeros((len(ids), 0), dtype=np.float32)
