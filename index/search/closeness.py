"""How close in meaning a snippet's candidate sentences are to the question: the tie-break between sentences that
share as many of its words (``index.search.snippets``).

It is the costly part of a search: the other steps are products over vectors made at index time, while these
sentences must go through the model. Two things keep it cheap (``benchmarks/bench_query.py``):

- a sentence is compared by its opening words only (``PROBE_CHARS``): the model's cost grows with the tokens of
  the longest sentence in a batch, and which of two sentences is closer is almost always settled by then;
- sentence vectors are kept (``CACHE_SIZE``, least recently used first out): questions about one topic meet the
  same sentences again, and so does every later page of one answer.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from index.embedding.model import Embedder

PROBE_CHARS = 160  # about 35 word pieces: a sentence's opening words
CACHE_SIZE = 4096  # sentence vectors kept: about 6 MB for a 384-dimension model


def probe(sentence: str, limit: int = PROBE_CHARS) -> str:
    """The sentence's opening words, cut between words."""
    if len(sentence) <= limit:
        return sentence
    cut = sentence[:limit]
    return cut.rsplit(" ", 1)[0] if " " in cut else cut


class SentenceVectors:
    """Sentence vectors of one model, made on demand and kept."""

    def __init__(self, embedder: Embedder, *, size: int = CACHE_SIZE, probe_chars: int = PROBE_CHARS) -> None:
        self.embedder = embedder
        self.size = size
        self.probe_chars = probe_chars
        self._kept: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def similarities(self, question_vector: np.ndarray, sentences: Sequence[str]) -> dict[str, float]:
        """Cosine similarity of each sentence to the question; the sentences not kept are encoded in one batch."""
        probes = {s: probe(s, self.probe_chars) for s in sentences}
        distinct = list(dict.fromkeys(probes.values()))
        with self._lock:  # what is kept is taken now: another search may evict it before this one is done
            vectors = {p: self._kept[p] for p in distinct if p in self._kept}
            for p in vectors:
                self._kept.move_to_end(p)
        missing = [p for p in distinct if p not in vectors]
        if missing:
            made = dict(zip(missing, self.embedder.encode(missing), strict=True))
            vectors.update(made)
            with self._lock:
                self._kept.update(made)
                while len(self._kept) > self.size:
                    self._kept.popitem(last=False)
        return {s: float(vectors[p] @ question_vector) for s, p in probes.items()}
