"""The question record in the Chroma server (server mode): every host of one installation writes to and reads the
same questions and votes. The same ``QuestionLedger`` as the SQLite ``QuestionRecord``.

Each question is one record of the ``backissue-questions`` collection: its embedding is the question's vector (the
one its search made, of the configured model, named in the record's ``model``), its metadata the rest (when it
was asked, how, the reader's keyed hash, the text, filters, the sections offered, no-match, weak). Its id is a
random 53-bit number, so hosts never collide and the vote buttons can name it. Votes are records beside the
announce ledger's (``index.store.server.records.ServerRecords``, kind ``question-vote``, one key per question
and reader, so one vote per reader). The secret readers are hashed under is made once, in the shared store
(``feedback-key``): the first host writes it, every host reads back the one that stayed.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from bot.feedback.record import Entry, Vote, encoded_text
from bot.reader_key import new_key, reader_hash
from index.search.retriever import Answer, Filters
from index.store.server.records import SLICE, ServerRecords

log = logging.getLogger(__name__)
COLLECTION = "backissue-questions"
VOTE = "question-vote"
KEY = "feedback-key"
PAGE = 2500  # questions fetched per request when reading many, a few requests at once
PRUNE_EVERY = 86400.0


def _period(field: str, since: float | None, until: float | None, *more: dict[str, Any]) -> dict[str, Any] | None:
    parts: list[dict[str, Any]] = list(more)
    if since is not None:
        parts.append({field: {"$gte": float(since)}})
    if until is not None:
        parts.append({field: {"$lt": float(until)}})
    return None if not parts else parts[0] if len(parts) == 1 else {"$and": parts}


def exists(client: Any) -> bool:
    """Whether any host recorded a question yet (then there is a collection to read)."""
    return COLLECTION in {c if isinstance(c, str) else c.name for c in client.list_collections()}


class ServerQuestionRecord:
    def __init__(self, client: Any, records: ServerRecords, *, keep_days: int,
                 vector_of: Callable[[str], np.ndarray | None] | None = None, model: str = "",
                 encode: Callable[[list[str]], np.ndarray] | None = None) -> None:
        """``vector_of``: the vector a search just made for a question's text, or None; ``encode`` makes one when
        it did not (a question's record needs its vector); ``model`` names the model of both."""
        if (vector_of is not None or encode is not None) and not model:
            raise ValueError("vector_of and encode need the name of their model")
        self._questions = client.get_or_create_collection(COLLECTION, embedding_function=None)
        self._records = records
        self._vector_of, self._encode, self._model = vector_of, encode, model
        self.keep_days = keep_days
        kept = records.get(KEY) or records.put_new(KEY, {"kind": KEY, "key": new_key().hex()})
        self._key = bytes.fromhex(str(kept["key"]))
        self._kept: dict[int, tuple[str, np.ndarray]] = {}  # vectors read with the last entries()
        self._lock = threading.Lock()
        self._pruned = 0.0
        self._warned = False
        self.prune()

    def reader(self, user_id: int) -> str:
        return reader_hash(self._key, user_id)

    def _ids(self, where: dict[str, Any] | None) -> list[str]:
        return self._questions.get(where=where, include=[])["ids"] if where else []

    def _delete(self, ids: list[str]) -> None:
        for start in range(0, len(ids), SLICE):
            self._questions.delete(ids=ids[start:start + SLICE])

    def prune(self, now: float | None = None) -> int:
        now = time.time() if now is None else now
        cutoff = now - self.keep_days * 86400
        gone = self._ids({"asked_at": {"$lt": cutoff}})
        self._delete(gone)
        self._records.delete_where({"$and": [{"kind": VOTE}, {"asked_at": {"$lt": cutoff}}]})
        self._pruned = now
        return len(gone)

    def add(self, entry: str, user_id: int, question: str, filters: Filters, answer: Answer,
            now: float | None = None) -> int | None:
        from bot.feedback.weak import weak_match

        try:
            now = time.time() if now is None else now
            if now - self._pruned >= PRUNE_EVERY:
                self.prune(now)
            text = encoded_text(question)
            vector = self._vector_of(text) if self._vector_of is not None else None
            if vector is None:
                if self._encode is None:
                    raise RuntimeError("no vector for the question and no model to encode it")
                vector = self._encode([text])[0]
            qid = secrets.randbits(53) or 1
            offered = json.dumps([{"source": r.source, "path": r.path, "heading": r.heading,
                                   "score": round(r.score, 4)} for r in answer.results])
            self._questions.add(ids=[str(qid)], embeddings=[np.asarray(vector, dtype=np.float32)], metadatas=[{
                "asked_at": float(now), "entry": entry, "reader": self.reader(user_id), "question": question,
                "filters": filters.to_json(), "offered": offered, "no_match": bool(answer.no_match),
                "reason": answer.reason, "weak": bool(weak_match(question, answer)), "model": self._model}])
            return qid
        except Exception as exc:
            if not self._warned:
                log.warning("cannot record a question in the Chroma server (answers go on): %s", exc)
                self._warned = True
            return None

    def _question(self, question_id: int) -> dict[str, Any] | None:
        got = self._questions.get(ids=[str(question_id)], include=["metadatas"])
        return dict(got["metadatas"][0]) if got["ids"] else None

    def vote(self, question_id: int, user_id: int, vote: Vote | None, now: float | None = None) -> bool:
        reader = self.reader(user_id)
        key = f"{VOTE}:{question_id}:{reader}"
        if vote is None:
            self._records.delete(key)
            return self._question(question_id) is not None
        asked = self._question(question_id)
        if asked is None:
            return False
        down = vote.vote < 0
        self._records.put_one(key, {"kind": VOTE, "question_id": int(question_id), "reader": reader,
                                    "vote": -1 if down else 1, "at": time.time() if now is None else float(now),
                                    "why": vote.why if down else "", "note": vote.note if down else "",
                                    "asked_at": float(asked["asked_at"])})
        return True

    def vote_of(self, question_id: int, user_id: int) -> Vote | None:
        m = self._records.get(f"{VOTE}:{question_id}:{self.reader(user_id)}")
        return Vote(int(m["vote"]), str(m.get("why", "")), str(m.get("note", ""))) if m is not None else None

    def thumbs_down(self, since: float | None = None, until: float | None = None) -> list[tuple[str, str, str]]:
        downs = self._records.find(_period("asked_at", since, until, {"kind": VOTE}, {"vote": -1}) or {})
        ids = sorted({str(int(m["question_id"])) for m in downs})
        asked: dict[int, dict[str, Any]] = {}
        for start in range(0, len(ids), SLICE):
            got = self._questions.get(ids=ids[start:start + SLICE], include=["metadatas"])
            asked.update({int(i): dict(m) for i, m in zip(got["ids"], got["metadatas"], strict=True)})
        kept = sorted((m for m in downs if int(m["question_id"]) in asked),
                      key=lambda m: (float(m["asked_at"]), int(m["question_id"]), float(m["at"])))
        return [(str(asked[int(m["question_id"])]["question"]), str(m["why"]), str(m["note"])) for m in kept]

    def forget(self, user_id: int) -> int:
        reader = self.reader(user_id)
        mine = self._ids({"reader": reader})
        self._delete(mine)
        self._records.delete_where({"$and": [{"kind": VOTE}, {"reader": reader}]})
        numbers = [int(i) for i in mine]
        for start in range(0, len(numbers), SLICE):  # others' votes on the questions that went
            self._records.delete_where({"$and": [{"kind": VOTE}, {"question_id": {"$in": numbers[start:start + SLICE]}}]})
        return len(mine)

    def _read(self, where: dict[str, Any] | None, include: list[str]) -> list[tuple[str, dict[str, Any], Any]]:
        """Every question ``where`` matches: (id, metadata, embedding or None), a few pages at once."""
        total = self._questions.count()

        def page(offset: int) -> list[tuple[str, dict[str, Any], Any]]:
            got = self._questions.get(where=where, include=include, limit=PAGE, offset=offset)
            vectors = got.get("embeddings") if "embeddings" in include else None
            return [(i, dict(m), vectors[n] if vectors is not None else None)
                    for n, (i, m) in enumerate(zip(got["ids"], got["metadatas"], strict=True))]

        offsets = list(range(0, max(total, 1), PAGE))
        with ThreadPoolExecutor(max_workers=min(4, len(offsets))) as pool:
            pages = list(pool.map(page, offsets))
        more = page(len(offsets) * PAGE) if total and len(pages[-1]) == PAGE else []  # asked meanwhile
        seen: dict[str, tuple[str, dict[str, Any], Any]] = {}
        for row in [r for p in pages for r in p] + more:
            seen.setdefault(row[0], row)
        return list(seen.values())

    def entries(self, since: float | None = None, until: float | None = None) -> list[Entry]:
        rows = self._read(_period("asked_at", since, until), ["metadatas", "embeddings"])
        up: dict[int, int] = {}
        down: dict[int, int] = {}
        for m in self._records.find({"kind": VOTE}):
            tally = up if int(m["vote"]) > 0 else down
            tally[int(m["question_id"])] = tally.get(int(m["question_id"]), 0) + 1
        out = []
        kept: dict[int, tuple[str, np.ndarray]] = {}
        for i, m, vector in rows:
            qid = int(i)
            kept[qid] = (str(m.get("model", "")), np.asarray(vector, dtype=np.float32))
            out.append(Entry(qid, float(m["asked_at"]), str(m["question"]), bool(m["no_match"]), bool(m["weak"]),
                             str(m.get("reason", "")), tuple(json.loads(str(m["offered"]))), up.get(qid, 0),
                             down.get(qid, 0)))
        with self._lock:
            self._kept = kept
        return sorted(out, key=lambda e: (e.asked_at, e.id))

    def vectors(self, entries: Sequence[Entry], model: str, encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        if not entries:
            return np.zeros((0, 0), dtype=np.float32)
        with self._lock:
            kept = {qid: v for qid, (m, v) in self._kept.items() if m == model}
        wanted = [str(e.id) for e in entries if e.id not in kept]
        for start in range(0, len(wanted), SLICE):  # entries not read by entries() just before
            got = self._questions.get(ids=wanted[start:start + SLICE], include=["metadatas", "embeddings"])
            for i, m, v in zip(got["ids"], got["metadatas"], got["embeddings"], strict=True):
                if m.get("model") == model:
                    kept[int(i)] = np.asarray(v, dtype=np.float32)
        missing = [e for e in entries if e.id not in kept]
        if missing:  # kept under another model: encoded again with this one, and kept so
            texts = {e.id: encoded_text(e.question) for e in missing}
            distinct = list(dict.fromkeys(texts.values()))
            log.info("encoding %d questions kept with another model", len(distinct))
            by_text = dict(zip(distinct, np.asarray(encode(distinct), dtype=np.float32), strict=True))
            for e in missing:
                kept[e.id] = by_text[texts[e.id]]
            self._rekeep(missing, kept, model)
        return np.stack([kept[e.id] for e in entries])

    def _rekeep(self, entries: list[Entry], vectors: dict[int, np.ndarray], model: str) -> None:
        ids = [str(e.id) for e in entries]
        try:
            for start in range(0, len(ids), SLICE):
                part = ids[start:start + SLICE]
                self._questions.update(ids=part, embeddings=[vectors[int(i)] for i in part],
                                       metadatas=[{"model": model}] * len(part))
        except Exception as exc:  # another model's vectors are of another size: the collection keeps the old
            log.warning("the question record keeps vectors of another model (%s); questions are encoded again"
                        " each time `bot gaps` runs", exc)

    def counts(self, since: float, until: float) -> dict[str, int]:
        rows = self._read(_period("asked_at", since, until), ["metadatas"])
        votes = self._records.find(_period("at", since, until, {"kind": VOTE}) or {})
        return {"questions": len(rows), "no_match": sum(bool(m["no_match"]) for _, m, _ in rows),
                "weak": sum(bool(m["weak"]) and not bool(m["no_match"]) for _, m, _ in rows),
                "up": sum(int(m["vote"]) > 0 for m in votes), "down": sum(int(m["vote"]) < 0 for m in votes)}

    def close(self) -> None:
        pass
