"""Follow-up retrieval on the bundled samples, and the conversations kept for it (real model, Chroma, SQLite)."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest

from bot.converse.state import MAX_TURNS, Conversation, SqliteConversations
from index.search.followup import readings, search_followup
from index.search.retriever import Filters

pytestmark = pytest.mark.slow
PAIRS = Path(__file__).parent / "data" / "followups.jsonl"


@pytest.fixture
def retriever(index_env, samples, spec_for):
    index_env.indexer.reindex([spec_for(samples)])
    return index_env.retriever()


def pairs() -> list[dict]:
    return [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines() if line.strip()]


def found(answer, heading: str) -> bool:
    return not answer.no_match and heading in [r.heading for r in answer.results]


def test_each_follow_up_finds_its_section_with_context_and_not_without(retriever):
    with_context = without = 0
    for p in pairs():
        with_context += found(search_followup(retriever, p["followup"], [p["first"]]), p["heading"])
        without += found(retriever.search(p["followup"]), p["heading"])
    assert with_context == len(pairs())  # every pair
    assert without <= len(pairs()) // 2  # they were written to need their context


def test_a_follow_up_that_changes_the_subject_is_not_dragged_back(retriever):
    answer = search_followup(retriever, "what is FineWeb?", ["what is layer skip"])
    assert answer.results[0].heading == "FineWeb: An Open Pretraining Dataset" and not answer.no_match


def test_the_earlier_filters_still_apply(retriever):
    answer = search_followup(retriever, "is the code out?", ["what is layer skip"], 3, Filters(issue="sep_28.md"))
    assert {r.path for r in answer.results} == {"sep_28.md"}


def test_older_turns_count_less_and_discord_syntax_is_no_part_of_a_reading():
    got = readings("<@123> and who made it?", ["what is fineweb", "what is layer skip <:skip:42>"])
    assert got == [("and who made it?", 1.0), ("what is layer skip and who made it?", 2.0),
                   ("what is fineweb and who made it?", 1.0)]


def test_conversations_are_bounded_expire_and_outlive_the_connection(tmp_path):
    path = tmp_path / "conversations.sqlite3"
    store = SqliteConversations(path)
    c = Conversation("", (), Filters(source="examples"))
    for n in range(MAX_TURNS + 2):
        c = c.then(1000 + n, f"question {n}")
    store.save(c, [c_id := int(c.id), 77])
    store.close()
    again = SqliteConversations(path)
    kept = again.find([12345, c_id])
    assert kept is not None and kept.turns == tuple(f"question {n}" for n in range(2, MAX_TURNS + 2))
    assert kept.filters == Filters(source="examples") and again.find([77]) == kept
    again.close()
    expired = SqliteConversations(path, ttl=0.5)
    time.sleep(0.6)
    assert expired.find([c_id]) is None
    expired.close()


def test_a_conversation_keeps_every_filter_of_its_first_question(tmp_path):
    # a title cut to fit an autocomplete value names the issue by its start: a follow-up must still
    first = Filters(source="examples", issue="A very long issue ti", issue_title_prefix=True,
                    since=dt.date(2024, 1, 1), until=dt.date(2024, 12, 31))
    store = SqliteConversations(tmp_path / "conversations.sqlite3")
    store.save(Conversation("5", ("what is layer skip",), first), [5])
    found = store.find([5])
    store.close()
    assert found is not None and found.filters == first
