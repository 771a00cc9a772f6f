"""The weekly digest (issue 14 item 4) and the last 7 days in /status (item 5), through the Discord API test server.

The digest rides on the announcer's loop: the test takes its ticks and its clock (tests.test_announce), fills the
question record through the real QuestionRecord from real searches, and restarts the bot on the same data folder.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import sqlite3
import time

import pytest

from bot.feedback.digest import DIGEST, due, due_in, week_key
from bot.feedback.record import FILE_NAME
from bot.settings import FeedbackSettings
from index.search.retriever import Filters
from tests.discord_api import DiscordTestServer
from tests.test_announce import Clock, announcing, control, run
from tests.test_gaps import ANSWERED, DIFFUSION

pytestmark = [pytest.mark.announce, pytest.mark.discord]

HOUR = 3600.0
WEEK = 7 * 86400.0


def next_due() -> dt.datetime:
    """A digest time a day or so ahead of the real clock: the loop's own first tick (real time) and the test's
    clock then agree on which week was last due."""
    t = math.ceil((time.time() + 86400) / HOUR) * HOUR
    return dt.datetime.fromtimestamp(t, dt.timezone.utc)


def digest_toml(channel: str, at: dt.datetime, weekday: str | int | None = None) -> str:
    day = at.weekday() if weekday is None else weekday
    day = f'"{day}"' if isinstance(day, str) else day
    return f"[feedback]\ndigest_channel_id = {channel}\ndigest_weekday = {day}\ndigest_hour = {at.hour}\n"


def digests(server: DiscordTestServer, channel: str) -> list[dict]:
    return [m for m in server.channel_messages.get(channel, []) if m["embeds"]]


async def ask(r, questions: list[str], when: float) -> None:
    """Record questions as the bot records them: a real search, the real record, at the test's time."""
    for n, q in enumerate(questions):
        answer = await asyncio.to_thread(r.bot.retriever.search, q)
        await asyncio.to_thread(r.bot.record.add, "ask", 2000 + n, q, Filters(), answer, when + n)


def test_schedule_weeks_and_weekday_names():
    wed_9 = dt.datetime(2026, 12, 2, 9, tzinfo=dt.timezone.utc)  # a Wednesday
    assert due(wed_9.timestamp(), 2, 9) == wed_9
    assert due(wed_9.timestamp() - 1, 2, 9) == wed_9 - dt.timedelta(days=7)
    assert due((wed_9 + dt.timedelta(days=6)).timestamp(), 2, 9) == wed_9
    assert week_key(wed_9) == "2026-W49" and due_in("2026-W49", 2, 9) == wed_9
    assert FeedbackSettings(digest_weekday="Wednesday").digest_weekday == 2
    assert FeedbackSettings(digest_weekday="sun").digest_weekday == 6
    with pytest.raises(ValueError, match="0 \\(Monday\\) to 6 \\(Sunday\\)"):
        FeedbackSettings(digest_weekday="someday")


def test_a_long_digest_stays_within_discords_limits_with_its_footer():
    from bot.discord_text import CONTENT_MAX, TOTAL_MAX
    from bot.feedback.embeds import digest_post
    from tests.discord_api.limits import embed_size
    from tests.test_gaps import _long_report

    post = digest_post(_long_report(40), dt.date(2026, 11, 23), dt.date(2026, 11, 30), "Weekly digest 2026-W49")
    embed = post.embed.to_dict()
    assert embed_size(embed) <= TOTAL_MAX and len(embed["fields"]) <= 25 and len(post.content) <= CONTENT_MAX
    assert embed["footer"]["text"] == "Weekly digest 2026-W49" and embed["fields"][-1]["name"] == "More"
    assert post.role_id is None and "@everyone" not in post.content

def test_digest_posted_once_at_its_hour_and_not_again_after_a_restart(tmp_path, samples, embedder, caplog):
    at = next_due()

    async def scenario():
        server = await DiscordTestServer().start()
        admin = server.text_channel("admin")
        clock = Clock()
        clock.t = at.timestamp() - 2 * HOUR
        try:
            async with announcing(tmp_path, samples, embedder, server=server, clock=clock,
                                  extra=digest_toml(admin, at, weekday=at.strftime("%A"))) as (_, r, cog):
                await cog.tick()  # first start: the week last due is recorded as done
                await ask(r, [*DIFFUSION, *ANSWERED], at.timestamp() - 3 * HOUR)
                clock.t = at.timestamp() - 60  # a minute before its hour: nothing
                await cog.tick()
                assert digests(server, admin) == []
                clock.t = at.timestamp() + 30
                report = await cog.tick()
                assert report.posted == [week_key(at)]
                [post] = digests(server, admin)
                embed = post["embeds"][0]
                first = (at - dt.timedelta(days=7)).date()
                assert embed["title"] == f"Coverage gaps from {first} to {at.date()}"
                assert embed["description"].startswith(f"{len(DIFFUSION) + len(ANSWERED)} asked, ")
                assert embed["fields"][0]["name"].startswith("1. ")
                assert embed["footer"]["text"] == f"Weekly digest {week_key(at)}"
                assert post["content"].startswith("Weekly digest: what readers asked")
                assert digests(server, server.channel_id) == []  # the issues' channel is not the digest's
                clock.advance(HOUR)  # the next ticks in the same week
                await cog.tick()
                await cog.tick()
                assert len(digests(server, admin)) == 1
            clock.t = at.timestamp() + 2 * HOUR
            async with announcing(tmp_path, samples, embedder, server=server, clock=clock,
                                  extra=digest_toml(admin, at)) as (_, r, cog):  # a new bot, the same data folder
                await cog.tick()
                assert len(digests(server, admin)) == 1
                clock.t = at.timestamp() + WEEK + 60  # a week on, and nobody asked anything
                with caplog.at_level(logging.INFO, logger="bot.feedback.digest"):
                    await cog.tick()
                    await cog.tick()
                assert len(digests(server, admin)) == 1
                said = [m.getMessage() for m in caplog.records if "no questions asked" in m.getMessage()]
                assert len(said) == 1 and "no digest this week" in said[0]
                await ask(r, DIFFUSION[:2], clock.t + HOUR)
                clock.advance(WEEK)
                await cog.tick()
                assert len(digests(server, admin)) == 2
                assert digests(server, admin)[1]["embeds"][0]["description"].startswith("2 asked, 2 not answered")
        finally:
            await server.stop()
    run(scenario())


def test_no_digest_for_the_weeks_before_the_first_start_nor_without_a_channel(tmp_path, samples, embedder):
    at = next_due()

    async def scenario():
        server = await DiscordTestServer().start()
        admin = server.text_channel("admin")
        clock = Clock()
        clock.t = at.timestamp() - HOUR
        try:
            async with announcing(tmp_path, samples, embedder, server=server, clock=clock) as (_, r, cog):
                await cog.tick()
                await ask(r, DIFFUSION, at.timestamp() - 3 * HOUR)
                clock.t = at.timestamp() + 30  # no digest_channel_id: no digest, nothing in the ledger
                await cog.tick()
                assert digests(server, admin) == []
                assert r.bot.announce_state.rows(DIGEST) == {}
            # the digest set up later: the first start comes after the week's hour; that week is not posted
            async with announcing(tmp_path, samples, embedder, server=server, clock=clock,
                                  extra=digest_toml(admin, at)) as (_, r, cog):
                await cog.tick()
                await cog.tick()
                assert digests(server, admin) == []
                await ask(r, DIFFUSION[:3], at.timestamp() + HOUR)
                clock.t = at.timestamp() + WEEK + 30
                await cog.tick()
                assert len(digests(server, admin)) == 1
                assert digests(server, admin)[0]["embeds"][0]["description"].startswith("3 asked, ")
        finally:
            await server.stop()
    run(scenario())


def test_a_digest_discord_stored_but_never_acknowledged_is_not_posted_again(tmp_path, samples, embedder):
    """Discord stores the digest, the answer is lost, the bot restarts: the retry finds it by its footer."""
    at = next_due()

    async def scenario():
        server = await DiscordTestServer().start()
        admin = server.text_channel("admin")
        clock = Clock()
        clock.t = at.timestamp() - HOUR
        try:
            async with announcing(tmp_path, samples, embedder, server=server, clock=clock,
                                  extra=digest_toml(admin, at)) as (_, r, cog):
                await cog.tick()
                await ask(r, DIFFUSION, at.timestamp() - 3 * HOUR)
                server.faults.append("drop")  # stored, then the connection closes before the answer
                clock.t = at.timestamp() + 30
                report = await cog.tick()
                assert report.posted == [] and server.injected.cut_off == 1 and len(digests(server, admin)) == 1
                row = r.bot.announce_state.rows(DIGEST)[(DIGEST, week_key(at))]
                assert row.status == "pending" and row.attempts > 0
            server.nonce_window = 0.0  # Discord's few minutes are over: its nonce check would not save us
            clock.t = at.timestamp() + 2 * HOUR  # every backoff is over
            async with announcing(tmp_path, samples, embedder, server=server, clock=clock,
                                  extra=digest_toml(admin, at)) as (_, r, cog):
                await cog.tick()
                await cog.tick()
                [post] = digests(server, admin)
                row = r.bot.announce_state.rows(DIGEST)[(DIGEST, week_key(at))]
                assert row.status == "posted" and row.message_id == int(post["id"])
                assert r.bot.announce_state.problems() == []
        finally:
            await server.stop()
    run(scenario())


def test_a_digest_without_announcements_still_has_its_loop(tmp_path, samples, embedder):
    """No source announces: the digest alone starts the announcer's loop."""
    from tests.discord_harness import running_bot

    at = next_due()

    async def scenario():
        server = await DiscordTestServer().start()
        admin = server.text_channel("admin")
        clock = Clock()
        clock.t = at.timestamp() - HOUR
        try:
            async with running_bot(tmp_path, samples, embedder, server=server, extra=digest_toml(admin, at),
                                   settle=False) as r:
                cog = await control(r, clock)
                await cog.tick()
                await ask(r, DIFFUSION[:2], at.timestamp() - 3 * HOUR)
                clock.t = at.timestamp() + 30
                await cog.tick()
                assert len(digests(server, admin)) == 1
        finally:
            await server.stop()
    run(scenario())


def test_status_shows_the_last_seven_days_of_questions(tmp_path, samples, embedder):
    from tests.discord_harness import running_bot

    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:
            now = time.time()
            await ask(r, [*DIFFUSION, *ANSWERED], now - HOUR)
            await ask(r, DIFFUSION[:2], now - 8 * 86400)  # more than a week ago: not counted
            rows = await asyncio.to_thread(r.bot.record.entries, now - WEEK, now)
            no_match = sum(e.no_match for e in rows)
            weak = sum(e.weak and not e.no_match for e in rows)
            assert no_match + weak > 0  # the diffusion questions are not answered well by the samples
            # votes: the 👍/👎 buttons write this table (another branch); here they are written as they will be
            db = sqlite3.connect(r.settings.data_dir / FILE_NAME)
            ids = [e.id for e in rows]
            db.executemany("INSERT INTO votes (question_id, reader, vote, at) VALUES (?, ?, ?, ?)",
                           [(ids[0], "a", 1, now - 60), (ids[1], "a", 1, now - 60), (ids[2], "b", -1, now - 60),
                            (ids[3], "b", -1, now - 9 * 86400)])  # the last one cast more than a week ago
            db.commit()
            db.close()
            rec = await (await r.server.interact("status", {})).answered()
            embed = (rec.messages[-1] if rec.original is None else rec.original)["embeds"][0]
            [week] = [f for f in embed["fields"] if f["name"] == "Questions, last 7 days"]
            assert week["value"] == (f"{len(rows)} questions, {no_match} no match, {weak} weak matches;"
                                     f" 👍 2, 👎 1")
            assert len(rows) == len(DIFFUSION) + len(ANSWERED)
    run(scenario())


def test_bot_status_on_the_host_shows_the_last_seven_days(tmp_path, samples, index_env, spec_for, capsys):
    import json

    from bot.cli import main
    from bot.feedback.record import QuestionRecord
    from tests.conftest import write_config

    index_env.indexer.reindex([spec_for(samples)])
    retriever = index_env.retriever()
    cfg = write_config(tmp_path / "bot.toml", tmp_path / "data", [])
    assert main(["--config", str(cfg), "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["last_7_days"] is None  # nothing recorded yet: no record made
    assert not (tmp_path / "data" / FILE_NAME).exists()
    record = QuestionRecord(tmp_path / "data", keep_days=180)
    now = time.time()
    for n, q in enumerate([*DIFFUSION, *ANSWERED]):
        record.add("ask", 3000 + n, q, Filters(), retriever.search(q), now=now - HOUR + n)
    record.add("ask", 1, ANSWERED[0], Filters(), retriever.search(ANSWERED[0]), now=now - 8 * 86400)
    expected = record.counts(now - WEEK, now + 60)
    record.close()
    assert main(["--config", str(cfg), "status", "--json"]) == 0
    week = json.loads(capsys.readouterr().out)["last_7_days"]
    assert week == expected and week["questions"] == len(DIFFUSION) + len(ANSWERED)
    assert main(["--config", str(cfg), "status"]) == 0
    assert (f"last 7 days: {week['questions']} questions, {week['no_match']} no match, {week['weak']} weak matches;"
            " 👍 0, 👎 0") in capsys.readouterr().out


@pytest.mark.chroma_server
def test_in_server_mode_a_bot_on_another_host_does_not_post_the_digest_again(tmp_path, samples, embedder):
    """The digest's row is in the announce ledger in the Chroma server: the process that takes over the announcer
    (its lease released by the first), with an empty data folder of its own, posts the week's digest the first
    could not, once, counting the questions both hosts recorded in the server."""
    from tests.chroma_server import ChromaServer
    from tests.discord_harness import running_bot

    at = next_due()
    chroma = ChromaServer(tmp_path / "chroma-server")
    hosts = [tmp_path / "host-a", tmp_path / "host-b"]
    for h in hosts:
        h.mkdir()

    async def scenario():
        discord = await DiscordTestServer().start()
        admin = discord.text_channel("admin")
        kwargs = {"server": discord, "settle": False,
                  "extra": f'[chroma]\nurl = "{chroma.url}"\n{digest_toml(admin, at)}'}
        clock = Clock()
        clock.t = at.timestamp() - HOUR
        try:
            async with running_bot(hosts[0], samples, embedder, **kwargs) as r:
                cog = await control(r, clock)
                await cog.tick()  # first start, recorded in the server
                await ask(r, DIFFUSION[:3], at.timestamp() - 3 * HOUR)
                clock.t = at.timestamp() + 30
                discord.faults.append("503")  # refused, nothing stored: the digest stays pending
                await cog.tick()
                assert digests(discord, admin) == []
            clock.advance(HOUR)  # every backoff is over
            async with running_bot(hosts[1], samples, embedder, **kwargs) as r:
                cog = await control(r, clock)
                # the question record is in the server too: the digest counts every host's questions of the
                # week, the 3 asked on the first host and the 2 asked here
                await ask(r, DIFFUSION[:2], at.timestamp() - 2 * HOUR)
                await cog.tick()
                assert cog.holding and len(digests(discord, admin)) == 1  # it took over the lease and the digest
                clock.advance(HOUR)
                await cog.tick()
                assert len(digests(discord, admin)) == 1
                [post] = digests(discord, admin)
                assert post["embeds"][0]["description"].startswith("5 asked, ")
        finally:
            await discord.stop()
            chroma.stop()
    run(scenario())
