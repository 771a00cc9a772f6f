"""The announce ledger kept in the Chroma server (server mode), so any process that takes over the
announcer lease knows exactly what was posted. The same ``AnnounceLedger`` as ``AnnounceState``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from bot.announce.state import PostRow
from index.store.server.records import ServerRecords

POST = "announce-post"
SEEDED = "announce-seeded"
CHANNEL = "announce-channel"


def _key(source: str, path: str) -> str:
    return f"{POST}:{source}\x1f{path}"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _row(m: dict[str, Any]) -> PostRow:
    return PostRow(
        source=m["source"], path=m["path"], status=m["status"], nonce=m.get("nonce", ""), version=int(m.get("version", 0)),
        channel_id=int(m["channel_id"]) or None if m.get("channel_id") else None,
        message_id=int(m["message_id"]) or None if m.get("message_id") else None,
        file_hash=m.get("file_hash", ""), post_hash=m.get("post_hash", ""), attempts=int(m.get("attempts", 0)),
        next_attempt=float(m.get("next_attempt", 0.0)), last_error=m.get("last_error", ""),
        sent_at=float(m["sent_at"]) if m.get("sent_at") else None,
    )


class ServerAnnounceState:
    def __init__(self, records: ServerRecords) -> None:
        self._s = records

    def close(self) -> None:
        pass

    def _get(self, source: str, path: str) -> dict[str, Any] | None:
        return self._s.get(_key(source, path))

    def _put(self, meta: dict[str, Any]) -> None:
        self._s.put([_key(meta["source"], meta["path"])], [{"kind": POST, **meta}])

    def _update(self, source: str, path: str, **changes: Any) -> None:
        current = self._get(source, path)
        if current is not None:
            current.update(changes)
            self._put(current)

    def is_seeded(self, source: str) -> bool:
        return self._s.get(f"{SEEDED}:{source}") is not None

    def seed(self, source: str, rows: list[tuple[str, str, str, str]]) -> None:
        existing = {r.path for r in self.rows(source).values()}
        fresh = [(p, st, n, h) for p, st, n, h in rows if p not in existing]
        self._s.put(
            [_key(source, p) for p, _, _, _ in fresh],
            [{"kind": POST, "source": source, "path": p, "status": st, "nonce": n, "version": 0, "file_hash": h,
              "attempts": 0, "next_attempt": 0.0} for p, st, n, h in fresh])
        self._s.put([f"{SEEDED}:{source}"], [{"kind": SEEDED, "source": source, "at": _now()}])

    def rows(self, source: str | None = None) -> dict[tuple[str, str], PostRow]:
        where: dict[str, Any] = {"kind": POST} if source is None else {"$and": [{"kind": POST}, {"source": source}]}
        return {(m["source"], m["path"]): _row(m) for m in self._s.find(where)}

    def announced(self, message_ids: Collection[int]) -> tuple[str, str] | None:
        wanted = {i for i in message_ids if i}
        return next(((r.source, r.path) for r in self.rows().values() if r.status == "posted" and r.message_id in wanted),
                    None) if wanted else None

    def add_pending(self, source: str, path: str, nonce: str, file_hash: str, version: int = 0) -> None:
        current = self._get(source, path) or {"source": source, "path": path}
        current.update({"status": "pending", "nonce": nonce, "version": version, "file_hash": file_hash,
                        "attempts": 0, "next_attempt": 0.0, "last_error": "", "sent_at": 0.0})
        self._put(current)

    def attempted(self, source: str, path: str, error: str, next_attempt: float, sent_at: float | None = None) -> None:
        current = self._get(source, path)
        if current is not None:
            self._update(source, path, attempts=int(current.get("attempts", 0)) + 1, next_attempt=next_attempt,
                         last_error=error, sent_at=current.get("sent_at") or sent_at or 0.0)

    def posted(self, source: str, path: str, channel_id: int, message_id: int, file_hash: str, post_hash: str) -> None:
        self._update(source, path, status="posted", channel_id=channel_id, message_id=message_id, file_hash=file_hash,
                     post_hash=post_hash, last_error="", posted_at=_now())

    def touch(self, source: str, path: str, file_hash: str, post_hash: str | None = None) -> None:
        changes: dict[str, Any] = {"file_hash": file_hash}
        if post_hash is not None:
            changes["post_hash"] = post_hash
        self._update(source, path, **changes)

    def mark_all(self, source: str, paths: list[tuple[str, str]]) -> int:
        rows = self.rows(source)
        n = 0
        for path, file_hash in paths:
            row = rows.get((source, path))
            if row is None or row.status == "pending":
                self._put({"source": source, "path": path, "status": "seeded", "nonce": "", "version": 0,
                           "file_hash": file_hash, "attempts": 0, "next_attempt": 0.0})
                n += 1
        self._s.put([f"{SEEDED}:{source}"], [{"kind": SEEDED, "source": source, "at": _now()}])
        return n

    def channel_error(self, channel_id: int) -> tuple[str, float, int] | None:
        m = self._s.get(f"{CHANNEL}:{channel_id}")
        return (m["error"], float(m["next_attempt"]), int(m["failures"])) if m else None

    def set_channel_error(self, channel_id: int, error: str, next_attempt: float) -> None:
        current = self._s.get(f"{CHANNEL}:{channel_id}")
        failures = int(current["failures"]) + 1 if current else 1
        since = current["since"] if current else _now()
        self._s.put([f"{CHANNEL}:{channel_id}"], [{"kind": CHANNEL, "channel_id": channel_id, "error": error,
                                                           "failures": failures, "next_attempt": next_attempt,
                                                           "since": since}])

    def clear_channel_error(self, channel_id: int) -> None:
        if self._s.get(f"{CHANNEL}:{channel_id}") is not None:
            self._s.delete(f"{CHANNEL}:{channel_id}")

    def problems(self) -> list[str]:
        out = [f"channel {m['channel_id']}: {m['error']} (failing since {m['since']}, {m['failures']} attempts)"
               for m in self._s.find({"kind": CHANNEL})]
        retrying = [r for r in self.rows().values() if r.status == "pending" and r.attempts > 0]
        if retrying:
            out.append(f"{len(retrying)} announcement(s) waiting to be retried"
                       f" (up to {max(r.attempts for r in retrying)} attempts so far)")
        return out
