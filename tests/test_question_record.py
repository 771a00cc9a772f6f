"""The question record: what /ask leaves in questions.sqlite3, and how a reader is forgotten."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
import time

import numpy as np
import pytest

from bot.cli import main
from bot.feedback.record import FILE_NAME, QuestionRecord
from bot.reader_key import KEY_NAME
from index.search.retriever import Answer, Filters, Result
from tests.discord_harness import running_bot

NO_MATCH_QUESTION = "What did the Zorblax-9 team from Veltrix announce?"


def _answer(no_match: bool = False) -> Answer:
    hit = Result(source="examples", path="a.md", title="A", date=None, heading="H", heading_path=("H",), url="",
                 snippet="s", score=0.5)
    return Answer("q", no_match, [hit], "reason" if no_match else "")


@pytest.mark.discord
@pytest.mark.slow
def test_ask_records_one_row_with_a_hashed_reader_and_no_match_flagged(tmp_path, samples, embedder):
    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:
            await (await r.server.interact("ask", {"question": NO_MATCH_QUESTION})).answered()
            return r
    run = asyncio.run(scenario())
    path = tmp_path / "data" / FILE_NAME
    db = sqlite3.connect(path)
    rows = db.execute("SELECT entry, reader, question, no_match, offered FROM questions").fetchall()
    assert len(rows) == 1
    entry, reader, question, no_match, _offered = rows[0]
    assert (entry, question, no_match) == ("ask", NO_MATCH_QUESTION, 1)
    user_id = str(run.server.user_id) if hasattr(run.server, "user_id") else None
    if user_id:
        assert user_id.encode() not in path.read_bytes()
    assert len(reader) == 64
    assert stat.S_IMODE((tmp_path / "data" / KEY_NAME).stat().st_mode) == 0o600
    # the vector its search made is kept with it (bot gaps groups by it), under the model's name
    (model, blob), = db.execute("SELECT model, vector FROM question_vectors").fetchall()
    assert model == embedder.identity
    assert float(np.frombuffer(blob, dtype=np.float32) @ embedder.encode_query(NO_MATCH_QUESTION)) > 0.999


@pytest.mark.discord
@pytest.mark.slow
def test_disabled_records_nothing_and_creates_no_file(tmp_path, samples, embedder):
    async def scenario():
        async with running_bot(tmp_path, samples, embedder, extra="[feedback]\nenabled = false") as r:
            await (await r.server.interact("ask", {"question": NO_MATCH_QUESTION})).answered()
    asyncio.run(scenario())
    assert not (tmp_path / "data" / FILE_NAME).exists()


def test_raw_id_never_written_and_migrations_recorded(tmp_path):
    record = QuestionRecord(tmp_path, keep_days=180)
    record.add("ask", 123456789012345678, "q", Filters(), _answer(True))
    record.close()
    assert b"123456789012345678" not in (tmp_path / FILE_NAME).read_bytes()
    db = sqlite3.connect(tmp_path / FILE_NAME)
    assert [r[0] for r in db.execute("SELECT name FROM _migrations")] == ["m001_questions", "m002_weak",
                                                                        "m003_question_vectors", "m004_vote_reasons"]
    assert db.execute("SELECT count(*) FROM votes").fetchone() == (0,)


def test_keep_days_prunes_old_questions(tmp_path):
    record = QuestionRecord(tmp_path, keep_days=30)
    now = time.time()
    record.add("ask", 1, "old", Filters(), _answer(), now=now - 31 * 86400)
    record.add("ask", 1, "new", Filters(), _answer(), now=now)
    assert record.prune(now) == 1
    record.close()
    db = sqlite3.connect(tmp_path / FILE_NAME)
    assert [r[0] for r in db.execute("SELECT question FROM questions")] == ["new"]


def test_forget_user_deletes_only_that_readers_rows(tmp_path, capsys):
    data = tmp_path / "data"
    record = QuestionRecord(data, keep_days=180)
    record.add("ask", 111, "mine", Filters(), _answer())
    record.add("mention", 111, "mine too", Filters(), _answer())
    record.add("ask", 222, "theirs", Filters(), _answer())
    record.close()
    cfg = tmp_path / "bot.toml"
    cfg.write_text(f'data_dir = "{data}"\n')
    assert main(["--config", str(cfg), "gaps", "--forget-user", "111"]) == 0
    assert "forgot 2 questions" in capsys.readouterr().out
    db = sqlite3.connect(data / FILE_NAME)
    assert [r[0] for r in db.execute("SELECT question FROM questions")] == ["theirs"]


def _rows(tmp_path) -> list[tuple[str, str]]:
    db = sqlite3.connect(tmp_path / "data" / FILE_NAME)
    try:
        return db.execute("SELECT entry, question FROM questions ORDER BY id").fetchall()
    finally:
        db.close()


@pytest.mark.discord
@pytest.mark.slow
def test_every_way_of_asking_leaves_one_row_named_by_its_entry(tmp_path, samples, embedder):
    from bot.ask.message import NAME

    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:
            s, me = r.server, f"<@{r.server.app_id}>"
            cogs = [r.bot.get_cog(name) for name in ("AskCog", "MessageSearchCog", "ConverseCog")]
            assert r.bot.record is not None and all(c.record is r.bot.record for c in cogs)  # one for the bot
            target = await s.say(s.channel_id, "**what** is speculative decoding")
            await (await s.interact_message(NAME, target)).answered()
            first = await s.answer_to((await s.say(s.channel_id, f"{me} what is layer skip"))["id"])
            await s.answer_to((await s.say(s.channel_id, "who released it?", reply_to=first["id"], ping=False))["id"])
            s.start_thread(s.channel_id, first["id"], "layer skip", s.user("reader"))
            await asyncio.sleep(0.3)
            await s.answer_to((await s.say(first["id"], f"{me} is the code out?"))["id"])
            bare = await s.answer_to((await s.say(s.channel_id, me))["id"])  # a how-to asks nothing
            assert "mention me with a question" in bare["content"]
            return r.bot.record
    record = asyncio.run(scenario())
    with pytest.raises(sqlite3.ProgrammingError):  # closed once, when the bot stopped
        record.no_matches()
    assert _rows(tmp_path) == [("message", "what is speculative decoding"), ("mention", "what is layer skip"),
                               ("reply", "who released it?"), ("thread", "is the code out?")]


@pytest.mark.discord
@pytest.mark.slow
def test_disabled_records_no_mention_and_no_message_command(tmp_path, samples, embedder):
    from bot.ask.message import NAME

    async def scenario():
        async with running_bot(tmp_path, samples, embedder, extra="[feedback]\nenabled = false") as r:
            s = r.server
            await s.answer_to((await s.say(s.channel_id, f"<@{s.app_id}> {NO_MATCH_QUESTION}"))["id"])
            await (await s.interact_message(NAME, await s.say(s.channel_id, NO_MATCH_QUESTION))).answered()
    asyncio.run(scenario())
    assert not (tmp_path / "data" / FILE_NAME).exists()


@pytest.mark.discord
@pytest.mark.slow
def test_a_reply_to_an_announcement_leaves_one_row_named_announcement_with_that_issue(tmp_path, embedder):
    from tests.test_announce import announcing, posts, write_issue

    newsletter = tmp_path / "weekly"
    newsletter.mkdir()
    write_issue(newsletter, 1, date="2024-01-01", body="Lighthouse keepers record every passing ship.")

    async def scenario():
        async with announcing(tmp_path, newsletter, embedder) as (s, _r, cog):
            await cog.tick()
            write_issue(newsletter, 2, date="2024-01-08", body="One lighthouse now counts ships with a camera.")
            await cog.tick()
            [announcement] = posts(s, s.channel_id)
            await s.answer_to((await s.say(s.channel_id, "how are ships counted?", reply_to=announcement["id"],
                                           ping=False))["id"])
    asyncio.run(scenario())
    db = sqlite3.connect(tmp_path / "data" / FILE_NAME)
    [(entry, question, filters)] = db.execute("SELECT entry, question, filters FROM questions").fetchall()
    assert (entry, question) == ("announcement", "how are ships counted?")
    assert Filters.from_json(filters).issue == "issue_002.md"  # asked about the announced issue first


@pytest.mark.discord
@pytest.mark.slow
def test_a_direct_message_and_its_follow_up_each_leave_one_row(tmp_path, samples, embedder):
    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:
            s = r.server
            reader = s.user("reader")
            dm = s.dm_channel(reader)
            answer = await s.answer_to((await s.say(dm, "what is layer skip", user=reader))["id"])
            await s.answer_to((await s.say(dm, "who released it?", user=reader, reply_to=answer["id"]))["id"])
    asyncio.run(scenario())
    assert _rows(tmp_path) == [("dm", "what is layer skip"), ("reply", "who released it?")]


def test_a_record_from_before_weak_matches_gets_them_from_its_scores(tmp_path):
    """m002: rows kept before weak matches were recorded are judged from the first score they kept."""
    from bot.feedback.record import m001_questions
    from index.store.migrations import Migrations

    db = sqlite3.connect(tmp_path / FILE_NAME, isolation_level=None)
    old = Migrations()
    old(m001_questions)
    old.apply(db)
    for question, score, no_match in (("How do diffusion models draw pictures?", 0.31, 0),
                                      ("How does speculative decoding work?", 0.69, 0),
                                      ("What did Zorblax-9 announce?", 0.2, 1)):
        db.execute("INSERT INTO questions (asked_at, entry, reader, question, filters, offered, no_match)"
                   " VALUES (?, 'ask', 'r', ?, '{}', ?, ?)",
                   (time.time(), question, f'[{{"source": "s", "path": "p", "heading": "h", "score": {score}}}]',
                    no_match))
    db.close()
    QuestionRecord(tmp_path, keep_days=180).close()
    db = sqlite3.connect(tmp_path / FILE_NAME)
    assert dict(db.execute("SELECT question, weak FROM questions")) == {
        "How do diffusion models draw pictures?": 1, "How does speculative decoding work?": 0,
        "What did Zorblax-9 announce?": 0}


def test_a_forgotten_or_pruned_question_takes_its_vector_with_it(tmp_path, embedder):
    record = QuestionRecord(tmp_path, keep_days=30, vector_of=embedder.encode_query, model=embedder.identity)
    now = time.time()
    record.add("ask", 111, "How do diffusion models draw?", Filters(), _answer(), now=now)
    record.add("ask", 222, "What is the EU AI Act?", Filters(), _answer(), now=now - 31 * 86400)
    record.add("ask", 333, "Who wrote this?", Filters(), _answer(), now=now)
    db = sqlite3.connect(tmp_path / FILE_NAME)
    assert db.execute("SELECT count(*) FROM question_vectors").fetchone() == (3,)
    assert record.forget(111) == 1 and record.prune(now) == 1
    record.close()
    assert db.execute("SELECT count(*) FROM question_vectors").fetchone() == (1,)
