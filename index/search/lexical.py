"""Keyword (BM25) ranking of sections, kept on disk beside the catalog.

Local Chroma has no keyword ranking, so this is ours: bm25s with an English stemmer
over each section's issue title, heading path and text. The index is rebuilt when the
catalog's generation changes (any issue indexed, changed or removed) and loaded from
disk otherwise, so a restart does not rebuild it.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"(?u)\b\w\w+\b")


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def terms(text: str) -> list[str]:
    """Stemmed, lower-cased word tokens without English stop words."""
    stop = _stopwords()
    words = [w for w in _TOKEN.findall(text.lower()) if w not in stop]
    return list(_stemmer().stemWords(words)) if words else []


@dataclass(frozen=True)
class TermInfo:
    term: str
    df: int  # sections containing the term (0: nowhere in the index)


class LexicalIndex:
    """BM25 over a list of documents identified by position (0..n-1)."""

    def __init__(self, bm25: bm25s.BM25, size: int) -> None:
        self._bm25 = bm25
        self.size = size
        vocab: dict[str, int] = (bm25.vocab_dict or {}) if size else {}
        self._vocab = vocab
        indptr = np.asarray(bm25.scores["indptr"]) if size else np.zeros(0)
        self._df = np.diff(indptr) if indptr.size else np.zeros(0, dtype=np.int64)
        self._indptr = indptr
        self._indices = np.asarray(bm25.scores["indices"]) if size else np.zeros(0, dtype=np.int64)

    @classmethod
    def build(cls, documents: Sequence[str]) -> LexicalIndex:
        bm25 = bm25s.BM25(k1=1.2, b=0.75)
        if documents:
            bm25.index([terms(d) or ["\x00empty"] for d in documents], show_progress=False)
        return cls(bm25, len(documents))

    def save(self, folder: Path, generation: str) -> None:
        if not self.size:
            return
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        self._bm25.save(str(tmp), show_progress=False)
        (tmp / "backissue.json").write_text(json.dumps({"generation": generation, "size": self.size}))
        old = folder.with_name(folder.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if folder.exists():
            folder.rename(old)
        tmp.rename(folder)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path, generation: str) -> LexicalIndex | None:
        """The saved index if it matches ``generation``, else None."""
        try:
            info = json.loads((folder / "backissue.json").read_text())
        except (OSError, ValueError):
            return None
        if info.get("generation") != generation:
            return None
        try:
            bm25 = bm25s.BM25.load(str(folder), show_progress=False)
        except Exception as exc:
            log.warning("keyword index in %s is unreadable (%s); rebuilding", folder, exc)
            return None
        return cls(bm25, int(info["size"]))

    def query_terms(self, question: str) -> list[str]:
        """The question's terms, plus joined neighbours that the index knows ("layer skip" → "layerskip")."""
        stop = _stopwords()
        words = [w for w in _TOKEN.findall(question.lower())]
        out = terms(question)
        for a, b in itertools.pairwise(words):
            if a in stop or b in stop:
                continue
            joined = _stemmer().stemWord(a + b)
            if joined in self._vocab and joined not in out:
                out.append(joined)
        return out

    def term_info(self, query_terms: Sequence[str]) -> list[TermInfo]:
        out = []
        for t in dict.fromkeys(query_terms):
            i = self._vocab.get(t)
            out.append(TermInfo(t, int(self._df[i]) if i is not None and i < len(self._df) else 0))
        return out

    def documents_with(self, term: str) -> np.ndarray:
        """Positions of the documents that contain ``term`` (empty when none does)."""
        i = self._vocab.get(term)
        if i is None or i + 1 >= len(self._indptr):
            return np.zeros(0, dtype=np.int64)
        return self._indices[int(self._indptr[i]) : int(self._indptr[i + 1])]

    def scores(self, query_terms: Sequence[str], mask: np.ndarray | None = None) -> np.ndarray:
        """BM25 score of every document (0 where masked out or no term matches)."""
        known = [t for t in query_terms if t in self._vocab]
        if not known or self.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        scores = np.asarray(self._bm25.get_scores(known), dtype=np.float32)
        if mask is not None:
            scores = scores * mask
        return scores
