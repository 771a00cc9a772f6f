"""A small store of keyed records (flat metadata) in the Chroma server, beside the index."""

from __future__ import annotations

from typing import Any

META = "backissue-meta"
NO_VECTOR = [0.0]  # the records collections hold no meaning, only metadata
SLICE = 1000


def clean(meta: dict[str, Any]) -> dict[str, Any]:
    """Chroma metadata holds no None: an absent value is stored as an empty string."""
    return {k: ("" if v is None else v) for k, v in meta.items()}


class ServerRecords:
    """Records by key, each a flat dict of str, int, float or bool; found by key or by ``where``."""

    def __init__(self, client: Any) -> None:
        self._meta = client.get_or_create_collection(META, embedding_function=None)

    def get(self, key: str) -> dict[str, Any] | None:
        got = self._meta.get(ids=[key], include=["metadatas"])
        return dict(got["metadatas"][0]) if got["ids"] else None

    def put(self, keys: list[str], metas: list[dict[str, Any]]) -> None:
        for start in range(0, len(keys), SLICE):
            part = keys[start : start + SLICE]
            self._meta.upsert(ids=part, embeddings=[NO_VECTOR] * len(part),
                              metadatas=[clean(m) for m in metas[start : start + SLICE]])

    def put_one(self, key: str, meta: dict[str, Any]) -> None:
        self.put([key], [meta])

    def put_new(self, key: str, meta: dict[str, Any]) -> dict[str, Any]:
        """Write ``meta`` under ``key`` only if nothing is there yet (Chroma's ``add`` leaves an existing record
        as it is: of processes writing at once, the first stays); the record now kept under ``key``."""
        self._meta.add(ids=[key], embeddings=[NO_VECTOR], metadatas=[clean(meta)])
        kept = self.get(key)
        if kept is None:  # deleted meanwhile
            raise LookupError(f"the record {key!r} went as it was written")
        return kept

    def find(self, where: dict[str, Any]) -> list[dict[str, Any]]:
        return [dict(m) for m in self._meta.get(where=where, include=["metadatas"])["metadatas"]]

    def delete(self, key: str) -> None:
        self._meta.delete(ids=[key])

    def delete_where(self, where: dict[str, Any]) -> int:
        """Delete every record ``where`` matches; how many went."""
        ids = self._meta.get(where=where, include=[])["ids"]
        for start in range(0, len(ids), SLICE):
            self._meta.delete(ids=ids[start : start + SLICE])
        return len(ids)
