"""The question record in the Chroma server (server mode): every host of one installation writes to and reads the
same questions and votes. The same ``QuestionLedger`` as the SQLite ``QuestionRecord``.

Each question is one record of the ``backissue-questions`` collection: its embedding is the question's vector (the
one its search made, of the configured model, named in the record's ``model``), its metadata the rest (when it
was asked, how, the reader's keyed hash, the text, filters, the sections offered, no-match, weak). Its id is a
random 53-bit number, so hosts never collide and the vote buttons can name it. Votes are records beside the
announce ledger's (``index.store.server.records.ServerRecords``, kind ``question-vote``, one key per question
and reader, so one vote per reader). The secret readers are hashed under is made once, in the shared store
(``feedback-key``): the first host writes it, every host reads back the one that stayed.

Reading many questions (``bot gaps``, /gaps, the digest, /status) goes through the host's copy in its data
folder (:mod:`bot.feedback.server_copy`): only the questions it does not hold yet are fetched. Forgetting a
reader leaves a tombstone in the shared store (kind ``questions-forgotten``: the ids of their questions, no
reader), which every host applies to its copy each time it reads and, recording, every ``FORGOTTEN_EVERY``, so
the questions leave every host's copy, not only the one that ran ``--forget-user``. Tombstones go when they are
older than what is kept.

``[feedback] keep_days`` may differ between the hosts (or processes) sharing the record: the smallest wins, the
safe reading for privacy. Each declares its own (kind ``feedback-keep-days``, one record per host and data
folder) when it opens the record and each time it prunes, and every host prunes with the smallest declared in
the last ``DECLARED_FOR`` (30 days): a host stopped for longer no longer counts, so a raised ``keep_days`` takes
effect once every host runs with it.
"""

from __future__ import annotations

import json
import logging
import secrets
import socket
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.feedback.record import Entry, Vote, encoded_text
from bot.feedback.server_copy import QuestionCopy, Row, loads
from bot.reader_key import new_key, reader_hash
from index.store.server.records import SLICE, ServerRecords

if TYPE_CHECKING:  # only named, as in bot.feedback.record
    from index.search.retriever import Answer, Filters

log = logging.getLogger(__name__)
COLLECTION = "backissue-questions"
VOTE = "question-vote"
KEY = "feedback-key"
PRUNE_EVERY = 86400.0
FORGOTTEN = "questions-forgotten"  # a tombstone: the ids of a forgotten reader's questions
FORGOTTEN_EVERY = 600.0  # seconds between a recording host's looks for tombstones
KEEP = "feedback-keep-days"  # one host's [feedback] keep_days
DECLARED_FOR = 30 * 86400.0  # a host's keep_days counts this long after it last declared it


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
                 encode: Callable[[list[str]], np.ndarray] | None = None, copy: Path | None = None,
                 host: str = "") -> None:
        """``vector_of``: the vector a search just made for a question's text, or None; ``encode`` makes one when
        it did not (a question's record needs its vector); ``model`` names the model of both. ``copy``: the
        file of this host's copy (None: every read fetches everything). ``host``: what this process's
        ``keep_days`` is declared under (by default the machine's name)."""
        if (vector_of is not None or encode is not None) and not model:
            raise ValueError("vector_of and encode need the name of their model")
        self._questions = client.get_or_create_collection(COLLECTION, embedding_function=None)
        self._records = records
        self._vector_of, self._encode, self._model = vector_of, encode, model
        self.keep_days = keep_days  # this host's; pruning keeps the smallest of every host's (kept_days)
        self.kept_days = keep_days
        self._host = host or socket.gethostname()
        kept = records.get(KEY) or records.put_new(KEY, {"kind": KEY, "key": new_key().hex()})
        self._key = bytes.fromhex(str(kept["key"]))
        self._kept: dict[int, tuple[str, np.ndarray]] = {}  # vectors read with the last entries()
        self._lock = threading.Lock()
        self._pruned = 0.0
        self._warned = False
        self._copy = QuestionCopy(copy) if copy is not None else None
        self._looked = time.monotonic()  # for tombstones: opening deletes what the server no longer has
        self.prune()
        if self._copy is not None:  # what went on other hosts meanwhile goes from this one's copy too
            self._copy.keep_only(self._server_ids())

    def reader(self, user_id: int) -> str:
        return reader_hash(self._key, user_id)

    def _ids(self, where: dict[str, Any] | None) -> list[str]:
        return self._questions.get(where=where, include=[])["ids"] if where else []

    def _delete(self, ids: list[str]) -> None:
        for start in range(0, len(ids), SLICE):
            self._questions.delete(ids=ids[start:start + SLICE])

    def _declare(self, now: float) -> int:
        """Declare this host's keep_days; the smallest any host declared in the last DECLARED_FOR."""
        self._records.put_one(f"{KEEP}:{self._host}", {"kind": KEEP, "host": self._host, "days": int(self.keep_days),
                                                        "at": float(now)})
        declared = self._records.find({"$and": [{"kind": KEEP}, {"at": {"$gte": now - DECLARED_FOR}}]})
        days = min([int(self.keep_days), *(int(m["days"]) for m in declared)])
        if days != self.kept_days and days < self.keep_days:
            log.info("keeping questions %d days, not %d: another host of the installation has [feedback] keep_days"
                     " = %d (the smallest wins)", days, self.keep_days, days)
        self.kept_days = days
        return days

    def prune(self, now: float | None = None) -> int:
        """Delete the questions older than the smallest keep_days of the hosts (:meth:`_declare`)."""
        now = time.time() if now is None else now
        cutoff = now - self._declare(now) * 86400
        gone = self._ids({"asked_at": {"$lt": cutoff}})
        self._delete(gone)
        if self._copy is not None:
            self._copy.keep_only((), None, cutoff)
        self._records.delete_where({"$and": [{"kind": VOTE}, {"asked_at": {"$lt": cutoff}}]})
        self._records.delete_where({"$and": [{"kind": FORGOTTEN}, {"at": {"$lt": cutoff}}]})  # nothing left to apply
        self._pruned = now
        return len(gone)

    def _apply_forgotten(self) -> None:
        """Delete from this host's copy the questions of every reader forgotten (on any host)."""
        if self._copy is None:
            return
        self._looked = time.monotonic()
        ids = [int(i) for m in self._records.find({"kind": FORGOTTEN}) for i in json.loads(str(m["ids"]))]
        if gone := self._copy.delete(ids):
            log.info("deleted %d questions of forgotten readers from this host's copy", gone)

    def add(self, entry: str, user_id: int, question: str, filters: Filters, answer: Answer,
            now: float | None = None) -> int | None:
        from bot.feedback.weak import weak_match

        try:
            now = time.time() if now is None else now
            if now - self._pruned >= PRUNE_EVERY:
                self.prune(now)
            if time.monotonic() - self._looked >= FORGOTTEN_EVERY:
                try:
                    self._apply_forgotten()
                except Exception as exc:  # the question is recorded all the same; the next look applies them
                    log.debug("cannot look for forgotten readers now: %s", exc)
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
        numbers = [int(i) for i in mine]
        for start in range(0, len(numbers), SLICE):  # first: every host's copy deletes them when it next looks
            self._records.put_one(f"{FORGOTTEN}:{secrets.token_hex(8)}", {
                "kind": FORGOTTEN, "at": time.time(), "ids": json.dumps(numbers[start:start + SLICE])})
        self._delete(mine)
        if self._copy is not None:
            self._copy.keep_only(self._server_ids())
        self._records.delete_where({"$and": [{"kind": VOTE}, {"reader": reader}]})
        for start in range(0, len(numbers), SLICE):  # others' votes on the questions that went
            self._records.delete_where({"$and": [{"kind": VOTE}, {"question_id": {"$in": numbers[start:start + SLICE]}}]})
        return len(mine)

    def _server_ids(self) -> list[int]:
        return [int(i) for i in self._questions.get(include=[])["ids"]]

    def _fetch(self, ids: Sequence[int], vectors: bool = True) -> list[Row]:
        """These questions from the server (those still there), a few requests at once."""
        include = ["metadatas", "embeddings"] if vectors else ["metadatas"]

        def part(start: int) -> list[Row]:
            got = self._questions.get(ids=[str(i) for i in ids[start:start + SLICE]], include=include)
            kept = got["embeddings"] if vectors else [None] * len(got["ids"])
            return [(int(i), dict(m), str(m.get("model", "")), np.asarray(v, dtype=np.float32) if v is not None
                     else np.zeros(0, dtype=np.float32)) for i, m, v in zip(got["ids"], got["metadatas"], kept,
                                                                           strict=True)]
        starts = list(range(0, len(ids), SLICE))
        if not starts:
            return []
        with ThreadPoolExecutor(max_workers=min(4, len(starts))) as pool:
            return [row for rows in pool.map(part, starts) for row in rows]

    def _rows(self, since: float | None, until: float | None, vectors: bool = True) -> list[Row]:
        """The questions asked in the period: the ids from the server, the questions through the copy."""
        where = _period("asked_at", since, until)
        ids = [int(i) for i in self._questions.get(where=where, include=[])["ids"]]
        if self._copy is None:
            return self._fetch(ids, vectors)
        self._apply_forgotten()  # also outside the period
        self._copy.keep_only(ids, since, until)
        held = self._copy.held(ids)
        self._copy.put(self._fetch([i for i in ids if i not in held]))
        return self._copy.read(ids)

    def entries(self, since: float | None = None, until: float | None = None) -> list[Entry]:
        rows = self._rows(since, until)
        up: dict[int, int] = {}
        down: dict[int, int] = {}
        for m in self._records.find({"kind": VOTE}):
            tally = up if int(m["vote"]) > 0 else down
            tally[int(m["question_id"])] = tally.get(int(m["question_id"]), 0) + 1
        out = []
        kept: dict[int, tuple[str, np.ndarray]] = {}
        for qid, m, model, vector in rows:
            kept[qid] = (model, vector)
            out.append(Entry(qid, float(m["asked_at"]), str(m["question"]), bool(m["no_match"]), bool(m["weak"]),
                             str(m.get("reason", "")), tuple(loads(str(m["offered"]))), up.get(qid, 0),
                             down.get(qid, 0)))
        with self._lock:
            self._kept = kept
        return sorted(out, key=lambda e: (e.asked_at, e.id))

    def vectors(self, entries: Sequence[Entry], model: str, encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        if not entries:
            return np.zeros((0, 0), dtype=np.float32)
        with self._lock:
            kept = {qid: v for qid, (m, v) in self._kept.items() if m == model}
        wanted = [e.id for e in entries if e.id not in kept]  # entries not read by entries() just before
        kept.update({qid: v for qid, _m, got_model, v in self._fetch(wanted) if got_model == model})
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
            if self._copy is not None:
                self._copy.put([(qid, m, model, vectors[qid]) for qid, m, _, _ in self._copy.read([e.id for e in entries])])
        except Exception as exc:  # another model's vectors are of another size: the collection keeps the old
            log.warning("the question record keeps vectors of another model (%s); questions are encoded again"
                        " each time `bot gaps` runs", exc)

    def counts(self, since: float, until: float) -> dict[str, int]:
        rows = self._rows(since, until, vectors=self._copy is not None)
        votes = self._records.find(_period("at", since, until, {"kind": VOTE}) or {})
        return {"questions": len(rows), "no_match": sum(bool(m["no_match"]) for _, m, _, _ in rows),
                "weak": sum(bool(m["weak"]) and not bool(m["no_match"]) for _, m, _, _ in rows),
                "up": sum(int(m["vote"]) > 0 for m in votes), "down": sum(int(m["vote"]) < 0 for m in votes)}

    def close(self) -> None:
        if self._copy is not None:
            self._copy.close()
