"""The index's own record kept in a Chroma server, beside the vectors it describes.

With a Chroma server several processes (bots, shards, `bot reindex` on another host) share one
index. What is indexed in which state (content hashes, sections, chunk ids) then lives in the
server too, in a small collection of issue records, with a generation counter; each process's
SQLite catalog is a local copy, refreshed from the server when the generation moves. Writers
take a lease in the server, so two reindexes never interleave, and the announcer takes one per
bot application, so only one process posts.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import Iterable
from typing import Any

from index.store.catalog import Catalog

log = logging.getLogger(__name__)

ISSUES = "backissue-issues"
META = "backissue-meta"
_NO_VECTOR = [0.0]  # the records collections hold no meaning, only metadata


@functools.cache
def holder_id() -> str:
    """This process, also among containers that share a host name and run as pid 1."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def _clean(meta: dict[str, Any]) -> dict[str, Any]:
    return {k: ("" if v is None else v) for k, v in meta.items()}


class SharedState:
    def __init__(self, client: Any, chunks: Any) -> None:
        self._issues = client.get_or_create_collection(ISSUES, embedding_function=None)
        self._meta = client.get_or_create_collection(META, embedding_function=None)
        self._chunks = chunks

    # --- generation -----------------------------------------------------------------------
    def _get_meta(self, key: str) -> dict[str, Any] | None:
        got = self._meta.get(ids=[key], include=["metadatas"])
        return dict(got["metadatas"][0]) if got["ids"] else None

    def _put_meta(self, key: str, value: dict[str, Any]) -> None:
        self._meta.upsert(ids=[key], embeddings=[_NO_VECTOR], metadatas=[_clean(value)])

    def generation(self) -> str:
        got = self._get_meta("generation")
        return str(got["value"]) if got else "0"

    def bump(self) -> str:
        """A new generation (only the lease holder writes, so read-then-write is enough)."""
        value = int(self.generation()) + 1
        self._put_meta("generation", {"value": value})
        return str(value)

    def model(self) -> str | None:
        got = self._get_meta("model")
        return str(got["value"]) if got else None

    def set_model(self, model: str) -> None:
        self._put_meta("model", {"value": model})

    # --- issue records ------------------------------------------------------------------------
    def put(self, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        ids = [f"{r['source']}\x1f{r['path']}" for r in records]
        docs = [json.dumps({"sections": r.pop("sections", []), "chunks": r.pop("chunks", [])}) for r in records]
        self._issues.upsert(ids=ids, embeddings=[_NO_VECTOR] * len(ids), metadatas=[_clean(r) for r in records],
                            documents=docs)

    def forget(self, keys: Iterable[tuple[str, str]]) -> None:
        ids = [f"{s}\x1f{p}" for s, p in keys]
        if ids:
            self._issues.delete(ids=ids)

    def wipe(self) -> None:
        ids = self._issues.get(include=[])["ids"]
        for start in range(0, len(ids), 1000):
            self._issues.delete(ids=ids[start : start + 1000])

    def pull_into(self, catalog: Catalog) -> None:
        """Make the local catalog a copy of what the server says is indexed."""
        got = self._issues.get(include=["metadatas", "documents"])
        issues, sections, chunk_refs = [], [], []
        for meta, doc in zip(got["metadatas"], got["documents"], strict=True):
            body = json.loads(doc or "{}")
            issues.append(dict(meta))
            for s in body.get("sections", []):
                sections.append((meta["source"], meta["path"], *s))
            for cid, position, window in body.get("chunks", []):
                chunk_refs.append((cid, meta["source"], meta["path"], position, window))
        texts: dict[str, str] = {}
        ids = [c[0] for c in chunk_refs]
        for start in range(0, len(ids), 1000):
            part = self._chunks.get(ids=ids[start : start + 1000], include=["documents"])
            texts.update(zip(part["ids"], part["documents"], strict=True))
        chunks = [(cid, s, p, pos, win, texts.get(cid) or "") for cid, s, p, pos, win in chunk_refs]
        catalog.replace_all(issues, sections, chunks, server_generation=self.generation(), model=self.model())
        log.info("local catalog refreshed from the server: %d issues, %d chunks", len(issues), len(chunks))

    # --- other records the application keeps beside the index (announcement state) -------------
    def put_records(self, keys: list[str], metas: list[dict[str, Any]]) -> None:
        for start in range(0, len(keys), 1000):
            part = keys[start : start + 1000]
            self._meta.upsert(ids=part, embeddings=[_NO_VECTOR] * len(part),
                              metadatas=[_clean(m) for m in metas[start : start + 1000]])

    def get_record(self, key: str) -> dict[str, Any] | None:
        return self._get_meta(key)

    def find_records(self, where: dict[str, Any]) -> list[dict[str, Any]]:
        return [dict(m) for m in self._meta.get(where=where, include=["metadatas"])["metadatas"]]

    def delete_record(self, key: str) -> None:
        self._meta.delete(ids=[key])

    # --- leases ---------------------------------------------------------------------------------
    def acquire(self, name: str, holder: str, ttl: float, wait: float = 0.0, settle: float = 0.3) -> bool:
        """Take lease ``name`` for ``ttl`` seconds. Without compare-and-swap in Chroma: write, wait, read back."""
        key = f"lease:{name}"
        deadline = time.monotonic() + wait
        while True:
            current = self._get_meta(key)
            now = time.time()
            if current is None or current.get("holder") == holder or float(current.get("expires", 0)) < now:
                self._put_meta(key, {"holder": holder, "expires": now + ttl})
                time.sleep(settle)
                current = self._get_meta(key)
                if current is not None and current.get("holder") == holder:
                    return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.5)

    def holder(self, name: str) -> str | None:
        current = self._get_meta(f"lease:{name}")
        if current is None or float(current.get("expires", 0)) < time.time():
            return None
        return str(current.get("holder"))

    def release(self, name: str, holder: str) -> None:
        current = self._get_meta(f"lease:{name}")
        if current is not None and current.get("holder") == holder:
            self._meta.delete(ids=[f"lease:{name}"])
