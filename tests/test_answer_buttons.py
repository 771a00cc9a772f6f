"""The buttons under an answer without Discord: their rows within Discord's limits (checked by the test server's own
validator), paging deeper into one ranking, and the answer store that makes them outlive a restart."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import pytest

from bot.ask.components import (
    LABEL_MAX,
    URL_MAX,
    answer_buttons,
    fits,
    more_id,
    public_rows,
    share_id,
    shared_rows,
)
from bot.converse.state import AnswerState, SqliteConversations
from index.search.paging import MAX_DEPTH, page
from index.search.retriever import Answer, Filters, Result
from tests.discord_api.limits import DiscordError, check_message


def result(n: int, *, title: str = "Issue", url: str | None = None) -> Result:
    return Result(source="examples", path=f"issue_{n}.md", title=f"{title} {n}", date="2024-10-26", heading=f"H{n}",
                  heading_path=(f"H{n}",), url=url or f"https://newsletter.example.org/issues/{n}#h{n}", snippet="s",
                  score=1.0 - n / 100)


def payload(rows) -> list[dict]:
    """The components discord.py sends for ``rows`` (a view needs an event loop)."""
    from bot.ask.buttons import to_view

    async def build():
        return to_view(rows).to_components()
    return asyncio.run(build())


def test_a_hostile_long_answer_gets_buttons_discord_accepts():
    results = [result(n, title="An Extremely Long Issue Title " * 12) for n in range(4)]
    results += [result(4, url="https://newsletter.example.org/" + "x" * 600 + "#far"),  # a link too long for a button
                result(5, url="issue_5.md#relative"),  # a source without base_url: no link button
                result(6, url=results[0].url.split("#")[0] + "#another-section")]  # the same issue again
    results += [result(n) for n in range(7, 10)]
    answer = Answer("q", False, results, more=True)
    rows = answer_buttons(answer, 2**63 - 1, private=True)  # the largest id SQLite gives
    assert fits(rows)
    own, links = rows
    assert [b.label for b in own] == ["More results", "Share to channel"]
    assert len(links) == 5 and all(len(b.label) <= LABEL_MAX and len(b.url) <= URL_MAX for b in links)
    assert len({b.url for b in links}) == 5 and not any("#" in b.url for b in links)
    check_message({"content": "q", "components": payload(rows)})  # as the test server checks what the bot sends


def test_more_is_absent_without_a_next_page_and_disabled_on_the_last_one():
    answer = Answer("q", False, [result(1)], more=False)
    assert [b.label for b in answer_buttons(answer, 7, private=False)[0]] == ["Issue 1 (2024-10-26)"]  # links only
    last = answer_buttons(answer, 7, private=False, paged=True)[0]
    assert last[0].label == "No more results" and last[0].disabled
    assert answer_buttons(Answer("q", True, []), 7, private=True) == []  # nothing to page, share or link
    assert answer_buttons(Answer("q", False, [result(1)], more=True), None, private=True)[0][0].url  # no record


def test_shared_and_public_rows():
    rows = answer_buttons(Answer("q", False, [result(1)], more=True), 7, private=True)
    done = shared_rows(rows)
    assert [(b.label, b.disabled) for b in done[0]] == [("More results", False), ("Shared", True)]
    public = public_rows(rows, 8)
    assert [b.custom_id for b in public[0]] == [more_id(8)] and fits(public)
    assert share_id(7) not in {b.custom_id for row in public for b in row}


def test_the_validator_refuses_what_discord_refuses():
    def refused(components) -> str:
        with pytest.raises(DiscordError) as err:
            check_message({"content": "x", "components": components})
        return str(err.value.body["errors"])
    button = {"type": 2, "style": 1, "label": "More", "custom_id": "bi:more:1"}
    assert "COMPONENT_CUSTOM_ID_DUPLICATED" in refused([{"type": 1, "components": [button, button]}])
    assert "BASE_TYPE_BAD_LENGTH" in refused([{"type": 1, "components": [{**button, "custom_id": f"b{n}"}
                                                                         for n in range(6)]}])
    assert "BASE_TYPE_MAX_LENGTH" in refused([{"type": 1, "components": [{**button, "custom_id": f"r{n}"}]}
                                              for n in range(6)])
    assert "BASE_TYPE_BAD_LENGTH" in refused([{"type": 1, "components": [{**button, "label": "x" * 81}]}])
    assert "BASE_TYPE_BAD_LENGTH" in refused([{"type": 1, "components": [{**button, "custom_id": "x" * 101}]}])
    link = {"type": 2, "style": 5, "label": "Issue", "url": "https://example.org/" + "x" * 493}  # 513
    assert "BASE_TYPE_BAD_LENGTH" in refused([{"type": 1, "components": [link]}])
    assert "NOT_ALLOWED" in refused([{"type": 1, "components": [{**link, "url": "https://e.org", "custom_id": "a"}]}])
    assert "BASE_TYPE_REQUIRED" in refused([{"type": 1, "components": [{**button, "custom_id": None}]}])
    assert "BASE_TYPE_CHOICES" in refused([button])  # a button outside an action row
    check_message({"content": "x", "components": [{"type": 1, "components": [{**button, "custom_id": f"c{r}{n}"}
                                                                             for n in range(5)]} for r in range(5)]})


def test_pages_go_deeper_into_one_ranking_and_stop_at_the_depth_limit():
    scores = {i: 1.0 - i / 100 for i in range(50)}
    assert page(scores, 3) == ([0, 1, 2], True)
    assert page(scores, 3, 3) == ([3, 4, 5], True)
    assert page(scores, 10, MAX_DEPTH - 10) == (list(range(20, 30)), False)  # as deep as an answer goes
    assert page({0: 1.0, 1: 0.5}, 3) == ([0, 1], False)
    assert page({0: 1.0, 1: 0.5}, 1, 5) == ([], False)


def test_the_answer_store_outlives_a_connection_shares_once_and_expires(tmp_path):
    path = tmp_path / "conversations.sqlite3"
    store = SqliteConversations(path)
    state = AnswerState(question="what is layer skip", filters=Filters(source="examples"), per_page=3, shown=3,
                        asker=store.reader(42), private=True, earlier=("what is fineweb",))
    answer_id = store.keep_answer(state)
    store.turn_page(answer_id, 6)
    store.close()
    again = SqliteConversations(path)
    kept = again.answer(answer_id)
    assert kept is not None and kept.shown == 6 and kept.earlier == ("what is fineweb",)
    assert kept.filters == Filters(source="examples") and kept.asker == again.reader(42) and kept.private
    assert again.mark_shared(answer_id) and not again.mark_shared(answer_id)
    assert again.mark_shared(answer_id, False) and again.mark_shared(answer_id)  # a failed share may be tried again
    assert again.answer(answer_id + 1) is None  # unknown
    again.close()
    expired = SqliteConversations(path, ttl=0.5)
    time.sleep(0.6)
    assert expired.answer(answer_id) is None
    expired.close()
    SqliteConversations(path, ttl=0.5).close()  # opening the store deletes what expired, not just hides it
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM answers").fetchone()[0] == 0


def test_an_answer_keeps_its_asker_only_as_a_keyed_hash_and_old_rows_are_hashed(tmp_path):
    """conversations.sqlite3 from before askers were hashed (its answers table held the Discord id): opening it
    hashes each row in place, so the asker still pages their private answer and the id is on disk no more."""
    from bot.converse.state import STEPS
    from index.store.migrations import applied

    asker, other = 123456789012345678, 876543210987654321
    path = tmp_path / "conversations.sqlite3"
    old = sqlite3.connect(path, isolation_level=None)
    old.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    for step in STEPS.steps[:3]:  # the schema as it was
        old.execute("BEGIN")
        step(old)
        old.execute("INSERT INTO _migrations VALUES (?, '2026-11-30T00:00:00+00:00')", (step.__name__,))
        old.execute("COMMIT")
    old.execute("INSERT INTO answers (question, earlier, filters, per_page, shown, asker, private, created)"
                " VALUES ('what is layer skip', '[]', ?, 3, 3, ?, 1, ?)", (Filters().to_json(), asker, time.time()))
    old.close()
    store = SqliteConversations(path)
    kept = store.answer(1)
    assert kept is not None and kept.asker == store.reader(asker) != store.reader(other)
    fresh = store.keep_answer(AnswerState(question="q", filters=Filters(), per_page=3, shown=3,
                                          asker=store.reader(other), private=False))
    assert store.answer(fresh).asker == store.reader(other)
    store.close()
    assert "m004_askers_hashed" in applied(sqlite3.connect(path))
    rows = sqlite3.connect(path).execute("SELECT asker, typeof(asker) FROM answers").fetchall()
    assert [kind for _, kind in rows] == ["text", "text"] and {a for a, _ in rows} == {kept.asker, store.reader(other)}
    assert len(store.reader(asker)) == 64 and SqliteConversations(path, key=b"another").reader(asker) != kept.asker
