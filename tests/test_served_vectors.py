"""The served chunks' vectors are saved beside the keyword index: a restart answers from that file without opening
the store, and a changed archive never answers from the vectors of what it served before."""

from __future__ import annotations

import logging

import pytest

from index.search.retriever import Retriever

QUESTIONS = ["what is layer skip", "How can a big model fit in the memory of an ordinary notebook computer?",
             "Should I let a strong model grade answers?"]


def _answers(retriever: Retriever) -> list[list[tuple[str, str, float]]]:
    return [[(r.path, r.heading, round(r.score, 5)) for r in retriever.search(q).results] for q in QUESTIONS]


def _restarted(env, store) -> Retriever:
    return Retriever(env.catalog, store, env.embedder, env.data_dir / "keyword-index")


def _never_opened():
    pytest.fail("the store was opened, although the served vectors were saved")


@pytest.fixture
def indexed(index_env, samples, spec_for):
    index_env.indexer.reindex([spec_for(samples)])
    return index_env


def test_a_restart_answers_the_same_without_opening_the_store(indexed):
    first = _answers(indexed.retriever())
    assert first[0][0][1].startswith("LayerSkip")
    assert _answers(_restarted(indexed, _never_opened)) == first
    assert len(list((indexed.data_dir / "keyword-index-vectors").glob("vectors-*.npy"))) == 1


def test_a_changed_issue_is_answered_from_its_new_vectors(indexed, samples, spec_for):
    indexed.retriever().search("what is layer skip")
    (samples / "dec_7.md").write_text(
        "---\ntitle: Dec 7 Weekly Newsletter\ndate: 2024-12-07\n---\n\n## Beekeeping in winter\n"
        "Honeybees cluster together through the cold months, shivering their wing muscles to keep the queen warm.\n",
        encoding="utf-8")
    indexed.indexer.reindex([spec_for(samples)])
    fresh = _restarted(indexed, indexed.store)
    top = fresh.search("how do bees stay warm when it is cold outside").results[0]
    assert top.heading == "Beekeeping in winter"  # found by meaning: the new issue's vectors, not the old file's
    assert len(list((indexed.data_dir / "keyword-index-vectors").glob("vectors-*.npy"))) == 1  # the old one gone
    assert _answers(_restarted(indexed, _never_opened)) == _answers(fresh)


def test_a_damaged_file_is_read_again_from_the_store(indexed, caplog):
    first = _answers(indexed.retriever())
    (saved,) = (indexed.data_dir / "keyword-index-vectors").glob("vectors-*.npy")
    saved.write_bytes(saved.read_bytes()[:1000])  # cut short, as by a full disk
    with caplog.at_level(logging.WARNING):
        assert _answers(_restarted(indexed, indexed.store)) == first
    assert "reading them from the store" in caplog.text
    assert _answers(_restarted(indexed, _never_opened)) == first  # and saved whole again
