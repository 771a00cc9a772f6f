"""👍 / 👎 under answers (issue 14 item 1), through the Discord API test server: votes kept for the right question
with the voter hashed, changed through the 👎 modal with its reason and note, one per reader, after a restart
too; none when feedback is off; `bot gaps` lists the 👎 question and `--forget-user` takes votes and notes."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from typing import Any

import aiohttp
import pytest

from bot.ask.components import answer_buttons, fits
from bot.cli import main
from bot.feedback.record import FILE_NAME, QuestionRecord
from bot.feedback.votes import DOWN, NOTE_ID, NOTE_MAX, REASON_ID, UP, press, submitted
from index.search.retriever import Answer, Result
from tests.discord_api import DiscordTestServer, InteractionRecord
from tests.discord_api.limits import EPHEMERAL, DiscordError, check_modal
from tests.discord_harness import running_bot

QUESTION = "what is layer skip"


def run(coro):
    return asyncio.run(coro)


def labels(msg: dict) -> dict[str, dict]:
    return {b["label"]: b for row in msg.get("components") or [] for b in row["components"]}


async def press_button(server, msg, label, user) -> InteractionRecord:
    return await (await server.click(msg, label, user=user)).answered()


def votes(data) -> list[tuple[int, str, int, str, str]]:
    db = sqlite3.connect(data / FILE_NAME)
    try:
        return db.execute("SELECT question_id, reader, vote, why, note FROM votes ORDER BY at").fetchall()
    finally:
        db.close()


def noted(rec: InteractionRecord) -> bool:
    """Acknowledged within Discord's 3 s by a message only the voter sees, thanking them."""
    return (rec.response_type == 4 and rec.ephemeral and bool(rec.original["flags"] & EPHEMERAL)
            and rec.acked_at - rec.created < 3 and "noted" in rec.original["content"])


@pytest.mark.discord
@pytest.mark.slow
def test_votes_are_kept_per_reader_changed_through_the_modal_and_survive_a_restart(tmp_path, samples, embedder,
                                                                                   capsys):
    note = "I wanted the code release, not the paper"
    data = tmp_path / "data"

    async def scenario():
        server = await DiscordTestServer().start()
        try:
            asker, other, late = server.user("asker"), server.user("other"), server.user("late")
            async with running_bot(tmp_path, samples, embedder, server=server):
                answer = (await (await server.interact("ask", {"question": QUESTION}, user=asker)).answered()).original
                before = json.dumps({k: answer[k] for k in ("content", "embeds", "components")})
                assert {"👍", "👎"} <= set(labels(answer)), labels(answer)
                up = await press_button(server, answer, "👍", asker)
                assert noted(up)
                # the asker changes their mind: 👎 asks why in a modal, whose submission replaces the 👍
                down = await press_button(server, answer, "👎", asker)
                assert down.response_type == 9 and down.acked_at - down.created < 3
                assert down.modal["title"] and len(down.modal["components"]) == 2
                submit = await (await server.submit_modal(down, {REASON_ID: ["out_of_date"], NOTE_ID: note})).answered()
                assert noted(submit)
                # another reader's 👍 is theirs, beside the asker's 👎; they open the 👎 modal before a restart
                assert noted(await press_button(server, answer, "👍", other))
                opened = await press_button(server, answer, "👎", other)
                assert opened.response_type == 9
                # an answer to a mention has them too, voting on that question
                me = f"<@{server.app_id}>"
                mention = await server.answer_to((await server.say(server.channel_id, f"{me} what is fineweb",
                                                                   user=other))["id"])
                assert noted(await press_button(server, mention, "👍", asker))
                # nobody else sees any of it: the answer is as it was
                assert json.dumps({k: server.any_message(answer["id"])[k]
                                   for k in ("content", "embeds", "components")}) == before
            async with running_bot(tmp_path, samples, embedder, server=server):  # a new process, the same data
                submitted_late = await (await server.submit_modal(opened, {REASON_ID: ["wrong_issue"]})).answered()
                assert noted(submitted_late)
                assert noted(await press_button(server, answer, "👍", late))
                # pressing the same again withdraws it
                withdrawn = await press_button(server, answer, "👍", late)
                assert withdrawn.ephemeral and "withdrawn" in withdrawn.original["content"]
            assert server.rejected == []
            return asker, other, late
        finally:
            await server.stop()

    asker, other, _late = run(scenario())
    record = QuestionRecord(data, keep_days=180)
    try:
        db = sqlite3.connect(data / FILE_NAME)
        (qid,) = db.execute("SELECT id FROM questions WHERE question = ?", (QUESTION,)).fetchone()
        (mentioned,) = db.execute("SELECT id FROM questions WHERE entry = 'mention'").fetchone()
        db.close()
        kept = votes(data)
        assert sorted(kept) == sorted([(qid, record.reader(int(asker["id"])), DOWN, "out_of_date", note),
                                       (qid, record.reader(int(other["id"])), DOWN, "wrong_issue", ""),
                                       (mentioned, record.reader(int(asker["id"])), UP, "", "")])
        assert not any(asker["id"] in row[1] or other["id"] in row[1] for row in kept)  # only a keyed hash
    finally:
        record.close()

    # `bot gaps` counts the answered question with a 👎 among what the archive did not answer well
    cfg = tmp_path / "bot.toml"
    assert main(["--config", str(cfg), "gaps", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert any(QUESTION in g["examples"] and g["why"]["thumbs_down"] == 1 for g in report["gaps"]), report["gaps"]
    # and what readers said with it, for the author: the reason and the note, word for word, no reader
    assert report["thumbs_down"] == [{"question": QUESTION, "why": "out_of_date", "note": note},
                                     {"question": QUESTION, "why": "wrong_issue", "note": ""}]
    assert main(["--config", str(cfg), "gaps"]) == 0
    text = capsys.readouterr().out
    assert "What readers said with 👎" in text and f"“{note}”" in text and "It is out of date" in text
    # forgetting a reader takes their votes and notes, and their question with the votes on it; the asker's 👎 stays
    assert main(["--config", str(cfg), "gaps", "--forget-user", other["id"]]) == 0
    capsys.readouterr()
    assert [(v[2], v[4]) for v in votes(data)] == [(DOWN, note)]
    # forgetting the asker takes theirs (and their question)
    assert main(["--config", str(cfg), "gaps", "--forget-user", asker["id"]]) == 0
    assert votes(data) == []
    db = sqlite3.connect(data / FILE_NAME)
    assert db.execute("SELECT count(*) FROM votes WHERE note != ''").fetchone() == (0,)
    db.close()


@pytest.mark.discord
@pytest.mark.slow
def test_no_vote_buttons_when_feedback_is_off(tmp_path, samples, embedder):
    async def scenario():
        async with running_bot(tmp_path, samples, embedder, extra="[feedback]\nenabled = false") as r:
            answer = (await (await r.server.interact("ask", {"question": QUESTION, "results": 1})).answered()).original
            assert "More results" in labels(answer)  # the answer's other buttons are there
            assert not {"👍", "👎"} & set(labels(answer))
            assert r.server.rejected == []
    run(scenario())
    assert not (tmp_path / "data" / FILE_NAME).exists()


# --- the pieces, without a bot -----------------------------------------------------------------------------------

def test_a_press_replaces_the_other_vote_and_the_same_press_withdraws_it():
    assert press(None, UP) == press(DOWN, UP) == press(None, UP)
    assert not press(None, UP).ask_why and press(None, DOWN).ask_why and press(UP, DOWN).ask_why
    assert press(UP, UP).withdraw and press(DOWN, DOWN).withdraw and not press(UP, DOWN).withdraw


def test_a_submission_is_read_as_a_reason_and_a_short_note():
    def label(component: dict) -> dict:
        return {"type": 18, "id": 1, "component": component}
    why, note = submitted([label({"type": 3, "id": 2, "custom_id": REASON_ID, "values": ["not_covered"]}),
                           label({"type": 4, "id": 3, "custom_id": NOTE_ID, "value": "  x" * 200})])
    assert why == "not_covered" and len(note) == NOTE_MAX and note.startswith("x")
    assert submitted([label({"type": 3, "custom_id": REASON_ID, "values": ["made up"]})]) == ("other", "")


def test_the_vote_buttons_fit_in_the_first_row_beside_more_and_share():
    results = list(Result(source="examples", path=f"i{n}.md", title=f"Issue {n}", date="", heading="H",
                           heading_path=("H",), url=f"https://newsletter.example.org/{n}#h", snippet="s", score=0.9)
                    for n in range(5))
    answer = Answer(query="q", no_match=False, results=results, more=True)
    rows = answer_buttons(answer, 7, private=True, votes=True)
    assert [b.label for b in rows[0]] == ["More results", "Share to channel", "👍", "👎"] and fits(rows)
    assert [b.custom_id for b in rows[0]][2:] == ["bi:up:7", "bi:down:7"]
    assert "👍" not in [b.label for b in answer_buttons(answer, 7, private=True)[0]]


def modal(**changes: Any) -> dict:
    base = {"custom_id": "bi:why:1", "title": "What went wrong?", "components": [
        {"type": 18, "label": "What went wrong", "component": {
            "type": 3, "custom_id": "why", "options": [{"label": "Other", "value": "other"}]}},
        {"type": 18, "label": "A note", "component": {"type": 4, "custom_id": "note", "style": 2, "max_length": 300,
                                                      "required": False}}]}
    return {**base, **changes}


@pytest.mark.parametrize("bad", [
    {"title": "x" * 46},
    {"custom_id": "x" * 101},
    {"components": []},
    {"components": modal()["components"] * 3},  # 6, and their custom_ids repeat
    {"components": [{"type": 1, "components": [{"type": 3, "custom_id": "why", "options": [
        {"label": "a", "value": "a"}]}]}]},  # a select in an action row: it must be in a label
    {"components": [{"type": 18, "label": "x" * 46, "component": modal()["components"][1]["component"]}]},
    {"components": [{"type": 18, "label": "Note", "component": {"type": 4, "custom_id": "n", "style": 2,
                                                                "max_length": 4001}}]},
    {"components": [{"type": 18, "label": "Why", "component": {"type": 3, "custom_id": "w", "disabled": True,
                                                               "options": [{"label": "a", "value": "a"}]}}]},
    {"components": [{"type": 18, "label": "Pick", "component": {"type": 2, "custom_id": "b", "style": 1}}]},
])
def test_the_test_server_refuses_a_modal_discord_refuses(bad):
    check_modal(modal())
    with pytest.raises(DiscordError) as refused:
        check_modal(modal(**bad))
    assert refused.value.status == 400 and refused.value.body["code"] == 50035


@pytest.mark.discord
def test_a_modal_submit_may_not_be_answered_with_another_modal():
    async def scenario():
        server = await DiscordTestServer().start()
        session = aiohttp.ClientSession()
        try:
            async def callback(rec: InteractionRecord, body: dict) -> int:
                async with session.post(f"{server.api_base}/interactions/{rec.id}/{rec.token}/callback",
                                        json=body) as response:
                    return response.status
            submit = InteractionRecord(id=server.snowflake(), token="aW50ZXJhY3Rpb24" + "z" * 40, type=5,
                                       data={"custom_id": "m", "components": []}, user_id=server.snowflake(),
                                       created=time.monotonic())
            server.interactions[submit.id] = submit
            assert await callback(submit, {"type": 9, "data": modal()}) == 400
            assert await callback(submit, {"type": 6}) == 400  # not opened from a button: no message to update
            assert await callback(submit, {"type": 4, "data": {"content": "Thanks", "flags": EPHEMERAL}}) == 204
        finally:
            await session.close()
            await server.stop()
    run(scenario())
