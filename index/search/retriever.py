"""Hybrid retrieval: keyword (BM25) and dense rankings of sections, fused, with an honest no-match.

Works at section level: the windows of one section collapse into one result. Filters by
source, issue and date range apply to both rankings.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.embedding.model import Embedder
from index.errors import InvalidRequest
from index.search import query as reading
from index.search import served_vectors
from index.search.closeness import SentenceVectors
from index.search.fragments import fragment_url, page_text
from index.search.fusion import dense_similarities, fuse
from index.search.judge import is_question, judge
from index.search.lexical import LexicalIndex
from index.search.paging import page
from index.search.query import Query, read_question, scoring_terms
from index.search.snippets import make_snippet, tied_sentences
from index.store.catalog import ServedSection
from index.store.record import ServedRecord
from index.store.vectors import VectorStore

log = logging.getLogger(__name__)

MAX_K = 10
CANDIDATES = 100  # sections taken from the keyword ranking before fusion
DENSE_CANDIDATES = 60  # sections taken from the dense ranking before fusion


def parse_day(value: str | None) -> dt.date | None:
    """A YYYY-MM-DD filter date; None when absent. Raises ValueError for anything else."""
    return dt.date.fromisoformat(value) if value else None


class BackwardsRange(InvalidRequest, ValueError):
    """A date range whose start comes after its end."""

    def __init__(self, since: dt.date, until: dt.date) -> None:
        super().__init__(f"the date range is backwards: {since} comes after {until}")
        self.since, self.until = since, until


@dataclass(frozen=True)
class Filters:
    source: str | None = None
    issue: str | None = None  # an issue's path or its title
    issue_title_prefix: bool = False  # ``issue`` may also be the start of a title (a value cut to fit somewhere)
    since: dt.date | None = None
    until: dt.date | None = None

    def __post_init__(self) -> None:
        if self.since is not None and self.until is not None and self.since > self.until:
            raise BackwardsRange(self.since, self.until)

    def to_json(self) -> str:
        """The filters as JSON, for the records that keep them (conversations, the question record)."""
        return json.dumps({"source": self.source, "issue": self.issue, "issue_title_prefix": self.issue_title_prefix,
                           "since": self.since.isoformat() if self.since else None,
                           "until": self.until.isoformat() if self.until else None})

    @classmethod
    def from_json(cls, text: str) -> Filters:
        d = json.loads(text)
        day = lambda v: dt.date.fromisoformat(v) if v else None  # noqa: E731
        return cls(source=d.get("source"), issue=d.get("issue"), issue_title_prefix=bool(d.get("issue_title_prefix")),
                   since=day(d.get("since")), until=day(d.get("until")))

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.source, self.issue, self.since, self.until))


@dataclass(frozen=True)
class Result:
    source: str
    path: str
    title: str
    date: str | None
    heading: str
    heading_path: tuple[str, ...]
    url: str  # the section's: the page, and the heading's anchor when it has one
    snippet: str
    score: float
    quote_url: str = ""  # ``url`` with a text fragment that lands on the snippet's words ("" when turned off)
    access: str = ""  # the issue's (index.reading.paywall): "preview" and "paid" are labelled, "paid" quoted to members

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "path": self.path, "title": self.title, "date": self.date,
            "heading": self.heading, "heading_path": list(self.heading_path), "url": self.url,
            "quote_url": self.quote_url, "snippet": self.snippet, "score": round(self.score, 4),
            **({"access": self.access} if self.access else {}),
        }


@dataclass
class Answer:
    query: str
    no_match: bool
    results: list[Result] = field(default_factory=list)
    reason: str = ""  # why it is a no-match
    more: bool = False  # further sections rank after these (within paging.MAX_DEPTH): a next page exists

    def to_dict(self) -> dict[str, Any]:
        return {"query": self.query, "no_match": self.no_match, "reason": self.reason,
                "results": [r.to_dict() for r in self.results]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        results = [Result(**{**r, "heading_path": tuple(r.get("heading_path", ()))}) for r in data.get("results", [])]
        return cls(query=data["query"], no_match=bool(data["no_match"]), results=results, reason=data.get("reason", ""))


@dataclass
class _Table:
    """Every served section, in the order the keyword index uses too."""

    generation: str
    keys: list[tuple[str, str, int]]
    index_of: dict[tuple[str, str, int], int]
    sections: list[ServedSection]  # what a result shows of each
    source: np.ndarray  # object array of source names
    path: np.ndarray
    title_lower: np.ndarray
    day: np.ndarray  # int YYYYMMDD, 0 when unknown
    link_share: np.ndarray  # share of each section's text that is link text
    vectors: np.ndarray  # every served chunk's embedding, rows grouped by section
    starts: np.ndarray  # first row of each section in ``vectors``
    lexical: LexicalIndex
    pages: dict[tuple[str, str], str] = field(default_factory=dict)  # an issue's visible text, once asked for


def unanswerable(query: Query) -> Answer | None:
    """The answer to a question with nothing to search for (empty, or only mentions, emoji and links), else None."""
    if not query.original:
        return Answer(query.original, True, [], "the question is empty")
    if query.empty:
        return Answer(query.original, True, [], "the question has no words besides mentions, emoji and links")
    return None


def _day(date: str | None) -> int:
    return int(date.replace("-", "")) if date else 0


class Retriever:
    """Answers questions from a catalog, its vector store and a keyword index kept in ``lexical_dir``."""

    def __init__(self, catalog: ServedRecord, store: VectorStore | Callable[[], VectorStore], embedder: Embedder,
                 lexical_dir: Path, *, loaded: Callable[[], None] | None = None, text_fragments: bool = True) -> None:
        """``store``: the vector store, or what opens it when first needed (vectors saved beside the keyword index
        are mapped from their file, so a restart need not open the store at all)."""
        self.catalog = catalog
        self.text_fragments = text_fragments  # links that land on the quoted words
        self.loaded = loaded  # called after each load of the served table (the bot keeps it out of garbage collection)
        self._store = store
        self.embedder = embedder
        self.lexical_dir = lexical_dir
        self._table: _Table | None = None
        self._lock = threading.Lock()
        self._last_query: tuple[str, np.ndarray] | None = None  # see _query_vector
        self._sentences = SentenceVectors(embedder)
        self._search_lock = threading.Lock()  # one search at a time: there is one model and little CPU anyway

    @property
    def store(self) -> VectorStore:
        if not isinstance(self._store, VectorStore):
            self._store = self._store()
        return self._store

    # --- keeping in step with the catalog -------------------------------------------------
    def refresh(self) -> None:
        self.catalog.follow()
        generation = self.catalog.generation()
        if self._table is not None and self._table.generation == generation:
            return
        with self._lock:
            if self._table is None or self._table.generation != generation:
                self._table = self._load(generation)
                if self.loaded is not None:
                    self.loaded()

    def _load(self, generation: str) -> _Table:
        lexical = LexicalIndex.load(self.lexical_dir, generation)
        rows = self.catalog.served_sections(with_text=lexical is None)
        if lexical is not None and lexical.size != len(rows):
            lexical = None
            rows = self.catalog.served_sections(with_text=True)
        keys = [(r.source, r.path, r.position) for r in rows]
        if lexical is None:
            docs = [f"{r.title}\n{' '.join(r.heading_path)}\n{' '.join(r.heading_path)}\n{r.text}" for r in rows]
            lexical = LexicalIndex.build(docs)
            try:
                lexical.save(self.lexical_dir, generation)
            except OSError as exc:
                log.warning("cannot save the keyword index to %s: %s", self.lexical_dir, exc)
            rows = [dataclasses.replace(r, text=None) for r in rows]  # the table keeps what results show
        index_of = {k: i for i, k in enumerate(keys)}
        vectors, starts = self._load_vectors(index_of, len(keys), generation)
        return _Table(
            generation=generation, keys=keys, index_of=index_of, sections=rows,
            source=np.array([r.source for r in rows], dtype=object), path=np.array([r.path for r in rows], dtype=object),
            title_lower=np.array([r.title.lower() for r in rows], dtype=object),
            day=np.array([_day(r.date) for r in rows], dtype=np.int64),
            link_share=np.array([r.link_share for r in rows], dtype=np.float32),
            vectors=vectors, starts=starts, lexical=lexical,
        )

    def warm_up(self) -> None:
        """Load the model and the keyword index now rather than on the first question."""
        self.refresh()
        self.embedder.encode_query("warm up")

    def _load_vectors(self, index_of: dict[tuple[str, str, int], int], n_sections: int,
                      generation: str) -> tuple[np.ndarray, np.ndarray]:
        """The committed chunks' vectors, grouped by section (exact search needs them all).

        Measured on the four real archives (benchmarks/bench_hnsw.py): Chroma's HNSW index missed the
        true nearest chunks of some queries entirely, whatever ef_search, while an exact product over
        24k vectors takes under a millisecond. So search is exact, over vectors read from the store once per
        served state and then mapped from a file of their own (``index.search.served_vectors``).
        """
        rows: list[tuple[int, str]] = []
        for cid, source, path, position in self.catalog.chunk_refs():
            idx = index_of.get((source, path, position))
            if idx is not None:
                rows.append((idx, cid))
        rows.sort()
        ids = [cid for _, cid in rows]
        key = "\n".join([self.embedder.identity, generation, *ids])
        folder = self.lexical_dir.with_name(self.lexical_dir.name + "-vectors")
        matrix = served_vectors.served_matrix(lambda: self.store, folder, key, ids)
        owners = np.array([idx for idx, _ in rows], dtype=np.int64)
        starts = np.searchsorted(owners, np.arange(n_sections)) if n_sections else np.zeros(0, dtype=np.int64)
        if len(rows) and len(set(owners.tolist())) != n_sections:
            log.warning("some sections have no vectors; they are found by keywords only")
        return matrix, starts

    # --- searching -----------------------------------------------------------------------
    def _mask(self, t: _Table, f: Filters) -> np.ndarray | None:
        if not f.any:
            return None
        mask = np.ones(len(t.keys), dtype=bool)
        if f.source is not None:
            mask &= t.source == f.source
        if f.issue is not None:
            wanted = f.issue.lower()
            by_title = t.title_lower == wanted
            if f.issue_title_prefix:
                by_title = by_title | np.array([x.startswith(wanted) for x in t.title_lower], dtype=bool)
            mask &= (t.path == f.issue) | by_title
        if f.since is not None:
            mask &= t.day >= int(f.since.strftime("%Y%m%d"))
        if f.until is not None:
            mask &= (t.day <= int(f.until.strftime("%Y%m%d"))) & (t.day > 0)
        return mask

    def rankings(self, question: str, filters: Filters = Filters(), table: _Table | None = None, *,
                 feedback: tuple[float, int] | None = None, strip_scaffolding: bool | None = None
                 ) -> tuple[_Table, list[str], dict[int, float], dict[int, float], np.ndarray | None]:
        """The raw evidence: query terms, keyword scores and dense similarities per section index.

        Over the newest served table, or over ``table`` (one returned before), so that several rankings of one
        search index the same sections even when a reindex commits meanwhile. ``feedback`` (weight, sections)
        and ``strip_scaffolding`` override the settings in ``index.search.fusion`` and ``index.search.query``
        (both off: measured for issue 16, neither won), for benchmarks.
        """
        if table is None:
            self.refresh()
        t = table or self._table
        assert t is not None
        q_terms = t.lexical.query_terms(question)
        mask = self._mask(t, filters)
        strip = reading.STRIP_SCAFFOLDING if strip_scaffolding is None else strip_scaffolding
        lex_scores = t.lexical.scores(scoring_terms(q_terms) if strip else q_terms,
                                      mask.astype(np.float32) if mask is not None else None)
        top = np.argsort(-lex_scores)[:CANDIDATES]
        lexical = {int(i): float(lex_scores[i]) for i in top if lex_scores[i] > 0}
        dense: dict[int, float] = {}
        if (mask is None or mask.any()) and len(t.vectors):
            vector = self._query_vector(question)
            section_sims = dense_similarities(t.vectors, t.starts, vector, mask, feedback)
            n = min(DENSE_CANDIDATES, len(section_sims))
            top_dense = np.argpartition(-section_sims, n - 1)[:n]
            for i in (*top_dense.tolist(), *lexical):
                if section_sims[i] > -2.0:
                    dense[i] = float(section_sims[i])
            # dense candidates keep whatever keyword score they have
            for i in dense:
                if i not in lexical and lex_scores[i] > 0:
                    lexical[i] = float(lex_scores[i])
        return t, q_terms, lexical, dense, mask

    def exclusive(self) -> threading.Lock:
        """The lock one search holds from its rankings to its snippets (see ``index.search.followup``)."""
        return self._search_lock

    def results(self, t: _Table, chosen: Sequence[int], scores: dict[int, float], q_terms: Sequence[str],
                question: str) -> list[Result]:
        """The sections ``chosen`` (indices into ``t``) as results, snippets picked for ``question``."""
        closeness = self._closeness(question, [t.sections[i].markdown for i in chosen], q_terms)
        return [self._result(t, i, scores[i], q_terms, closeness) for i in chosen]

    def search(self, question: str, k: int = 3, filters: Filters = Filters(), offset: int = 0) -> Answer:
        """The ``k`` best sections for ``question`` after the first ``offset`` (a later page of the same answer)."""
        with self._search_lock:
            return self._search(question, k, filters, offset)

    def _search(self, question: str, k: int, filters: Filters, offset: int) -> Answer:
        k = max(1, min(MAX_K, k))
        query = read_question(question)
        if (nothing := unanswerable(query)) is not None:
            return nothing
        t, q_terms, lexical, dense, mask = self.rankings(query.text, filters)
        fused = fuse(lexical, dense, question_like=is_question(query.text), link_share=t.link_share)
        verdict = judge(t.lexical, query, lexical, dense, fused, mask)
        chosen, more = page(fused, k, offset)
        results = self.results(t, chosen, fused, q_terms, query.text)
        return Answer(query.original, verdict.no_match, results, verdict.reason, more=more)

    def _closeness(self, question: str, sections: Sequence[str], q_terms: Sequence[str]
                   ) -> Callable[[list[str]], list[float]]:
        """Cosine similarity of sentences to the question, for the snippets of ``sections`` (their Markdown).

        The sentences whose ties the snippets will break are compared together, with the question vector the dense
        ranking just made: at most one call of the model for a whole answer (``index.search.closeness``).
        """
        wanted = list(dict.fromkeys(text for md in sections for text in tied_sentences(md, q_terms)))
        sims = self._sentences.similarities(self._query_vector(question), wanted) if wanted else {}

        def closeness(texts: list[str]) -> list[float]:
            return [sims[x] for x in texts]  # make_snippet asks about tied_sentences' sentences: both use _ties
        return closeness

    def vector_of(self, text: str) -> np.ndarray | None:
        """The vector the last search encoded, when it was for ``text`` (a question as read: ``Query.text``); never
        encodes. For the question record, which keeps it to group questions by meaning."""
        last = self._last_query
        return last[1] if last is not None and last[0] == text else None

    def _query_vector(self, question: str) -> np.ndarray:
        """The question's vector: the one its rankings made when they were the last encoded, else a new one."""
        last = self._last_query
        if last is not None and last[0] == question:
            return last[1]
        vector = self.embedder.encode_query(question)
        self._last_query = (question, vector)
        return vector

    def _result(self, t: _Table, idx: int, score: float, q_terms: Sequence[str],
                closeness: Callable[[list[str]], list[float]]) -> Result:
        s = t.sections[idx]
        snippet = make_snippet(s.markdown, q_terms, closeness=closeness)
        quote_url = fragment_url(s.url, s.anchor, snippet, _page(self.catalog, t, idx)) if self.text_fragments else ""
        return Result(
            source=s.source, path=s.path, title=s.title, date=s.date, heading=s.heading,
            heading_path=s.heading_path, url=f"{s.url}#{s.anchor}" if s.anchor else s.url,
            snippet=snippet, score=score, quote_url=quote_url, access=s.access,
        )


def _page(catalog: ServedRecord, t: _Table, idx: int) -> str:
    """The visible text of the whole issue of section ``idx`` (text fragments must be unique on its page): the
    sections' plain text the index keeps, kept per table once asked for."""
    key = t.keys[idx][:2]
    if (text := t.pages.get(key)) is None:
        lines = [line for section in catalog.issue_text(*key) for line in section.split("\n")]
        text = t.pages[key] = page_text([" ".join(line.split()) for line in lines])
    return text
