"""Exactly once when the answer is lost: forum posts, busy text channels, an expired nonce window, and faults that
reach the announcer itself (errors that outlast discord.py's own retries, timeouts), with bounded retries."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.discord_api import DiscordTestServer
from tests.test_announce import Clock, announcing, posts, run, urls, write_issue

pytestmark = [pytest.mark.announce, pytest.mark.discord]

URL2 = "https://newsletter.example.org/issues/issue_002/"
RETRY = 3600.0  # seconds on the test clock: every backoff is over


@pytest.fixture
def newsletter(tmp_path):
    folder = tmp_path / "weekly"
    folder.mkdir()
    return folder


def forum(server: DiscordTestServer) -> str:
    return server.forum_channel_id


def bot_threads(server: DiscordTestServer) -> list[dict]:
    return [t for t in server.threads if t["owner_id"] == server.app_id]


def starter_urls(server: DiscordTestServer) -> list[str]:
    return [server.channel_messages[t["id"]][0]["embeds"][0]["url"] for t in bot_threads(server)]


def row(r, path: str = "issue_002.md"):
    return r.bot.announce_state.rows("weekly")[("weekly", path)]


def test_forum_post_whose_answer_is_lost_is_not_posted_again(tmp_path, newsletter, embedder):
    """Discord creates the thread, the answer never arrives: the retry finds the thread instead of making another."""
    write_issue(newsletter, 1, date="2024-01-01")

    async def scenario():
        clock = Clock()
        async with announcing(tmp_path, newsletter, embedder, channel=forum, clock=clock) as (server, r, cog):
            await cog.tick()
            server.forum_post(server.forum_channel_id, "Issue 2")  # a reader's thread of the same name
            write_issue(newsletter, 2, date="2024-01-08")
            server.faults.append("drop")
            report = await cog.tick()
            assert report.posted == [] and len(bot_threads(server)) == 1 and server.injected.cut_off == 1
            assert row(r).status == "pending" and row(r).attempts > 0
            clock.advance(RETRY)
            await cog.tick()
            [thread] = bot_threads(server)
            assert starter_urls(server) == [URL2]
            assert row(r).status == "posted" and row(r).message_id == int(thread["id"])
            assert r.bot.announce_state.channel_error(int(server.forum_channel_id)) is None  # no trouble left shown
            clock.advance(RETRY)
            await cog.tick()
            assert len(bot_threads(server)) == 1
    run(scenario())


def test_forum_post_archived_before_the_retry_is_found_among_archived_threads(tmp_path, newsletter, embedder):
    write_issue(newsletter, 1, date="2024-01-01")

    async def scenario():
        clock = Clock()
        async with announcing(tmp_path, newsletter, embedder, channel=forum, clock=clock) as (server, r, cog):
            await cog.tick()
            write_issue(newsletter, 2, date="2024-01-08")
            server.faults.append("drop")
            await cog.tick()
            [thread] = bot_threads(server)
            server.archive(thread["id"])  # the bot was down longer than the thread's auto-archive duration
            for n in range(3):  # later archived threads of readers come first in the listing
                server.archive(server.forum_post(server.forum_channel_id, f"Question {n}"))
            f = newsletter / "issue_002.md"  # and the author corrected the title meanwhile
            f.write_text(f.read_text().replace('title: "Issue 2"', 'title: "Issue 2 (corrected)"'))
            clock.advance(RETRY)
            await cog.tick()
            assert len(bot_threads(server)) == 1
            assert row(r).status == "posted" and row(r).message_id == int(thread["id"])
    run(scenario())


def test_text_post_lost_then_fifty_newer_messages_and_the_nonce_window_over(tmp_path, newsletter, embedder):
    """The answer is lost; by the retry 60 readers' messages came after it and Discord no longer drops the nonce."""
    write_issue(newsletter, 1, date="2024-01-01")

    async def scenario():
        clock = Clock()
        async with announcing(tmp_path, newsletter, embedder, clock=clock) as (server, r, cog):
            await cog.tick()
            write_issue(newsletter, 2, date="2024-01-08")
            server.faults.append("drop")
            await cog.tick()
            assert urls(server, server.channel_id) == [URL2] and row(r).status == "pending"
            server.chatter(server.channel_id, 60)
            server.nonce_window = 0.0  # Discord's few minutes have passed
            clock.advance(RETRY)
            await cog.tick()
            assert urls(server, server.channel_id) == [URL2]
            assert row(r).status == "posted" and row(r).message_id == int(posts(server, server.channel_id)[0]["id"])
            assert r.bot.announce_state.problems() == []
    run(scenario())


def test_text_post_in_a_channel_busier_than_one_page_per_request(tmp_path, newsletter, embedder):
    """350 messages after the lost one: the lookup pages forward from the first attempt's time (100 a request)."""
    write_issue(newsletter, 1, date="2024-01-01")

    async def scenario():
        clock = Clock()
        async with announcing(tmp_path, newsletter, embedder, clock=clock) as (server, r, cog):
            server.chatter(server.channel_id, 500, ago=600)  # ten minutes before the attempt: never read
            await cog.tick()
            write_issue(newsletter, 2, date="2024-01-08")
            server.faults.append("drop")
            await cog.tick()
            server.chatter(server.channel_id, 350)
            server.nonce_window = 0.0
            reads = server.history_reads
            clock.advance(RETRY)
            await cog.tick()
            assert urls(server, server.channel_id) == [URL2] and row(r).status == "posted"
            assert server.history_reads - reads == 1  # the post is among the first 100 after the attempt
            assert server.rejected == []
    run(scenario())


@pytest.mark.parametrize("where", ["text", "forum"])
def test_a_post_that_hangs_times_out_and_is_found_on_the_retry(tmp_path, newsletter, embedder, where):
    write_issue(newsletter, 1, date="2024-01-01")

    async def scenario():
        clock = Clock()
        channel = forum if where == "forum" else (lambda s: s.channel_id)
        async with announcing(tmp_path, newsletter, embedder, channel=channel, clock=clock) as (server, r, cog):
            r.bot.announcer.poster.timeout = 1.0  # the bot's own limit for one post
            server.injected.stall_seconds = 20.0  # Discord stored it but answers far too late
            await cog.tick()
            write_issue(newsletter, 2, date="2024-01-08")
            server.faults.append("stall")
            started = dt.datetime.now()
            report = await cog.tick()
            assert (dt.datetime.now() - started).total_seconds() < 10
            assert report.posted == [] and row(r).status == "pending" and "TimeoutError" in row(r).last_error
            server.nonce_window = 0.0
            clock.advance(RETRY)
            await cog.tick()
            assert row(r).status == "posted"
            got = starter_urls(server) if where == "forum" else urls(server, server.channel_id)
            assert got == [URL2]
    run(scenario())


@pytest.mark.parametrize("where", ["text", "forum"])
@pytest.mark.parametrize("fault,tries", [("503", 1), ("429", 5)])
def test_errors_that_outlast_discord_py_are_retried_later_once_each_and_bounded(tmp_path, newsletter, embedder,
                                                                                 where, fault, tries):
    """503 (discord.py does not retry it) and 429 five times running (discord.py gives up after five tries) reach
    the announcer: it stops for the channel, waits its backoff, then posts each issue once. Every non-2xx
    answer is counted, by status: one failing attempt per backoff, not one per issue or per tick."""
    write_issue(newsletter, 1, date="2024-01-01")

    async def scenario():
        clock = Clock()
        channel = forum if where == "forum" else (lambda s: s.channel_id)
        async with announcing(tmp_path, newsletter, embedder, channel=channel, clock=clock) as (server, r, cog):
            await cog.tick()
            for n in range(2, 6):
                write_issue(newsletter, n, date=f"2024-01-0{n}")
            before = server.non_2xx()
            server.faults.extend([fault] * tries * 3)  # three failing attempts in a row
            for _ in range(10):  # ten ticks within the first backoff (15 s): one attempt
                await cog.tick()
                clock.advance(1)
            assert server.statuses[int(fault)] == tries and server.non_2xx() - before == tries
            for _ in range(12):  # the backoff doubles: 15 s, 30 s, 60 s ...; two more failing attempts, then posts
                clock.advance(40)
                await cog.tick()
            assert server.faults == [] and server.non_2xx() - before == 3 * tries, server.statuses
            got = starter_urls(server) if where == "forum" else urls(server, server.channel_id)
            assert sorted(got) == [f"https://newsletter.example.org/issues/issue_{n:03d}/" for n in range(2, 6)]
            assert all(rw.status == "posted" for rw in r.bot.announce_state.rows("weekly").values()
                       if rw.path != "issue_001.md")
            assert server.rejected == []
    run(scenario())


@pytest.mark.slow
def test_500s_that_outlast_discord_py_retries_reach_the_announcer(tmp_path, newsletter, embedder):
    """discord.py retries a 500 five times with 1+3+5+7+9 s pauses (25 s); after that the announcer sees it."""
    write_issue(newsletter, 1, date="2024-01-01")

    async def scenario():
        clock = Clock()
        async with announcing(tmp_path, newsletter, embedder, channel=forum, clock=clock) as (server, r, cog):
            r.bot.announcer.poster.timeout = 120.0
            await cog.tick()
            write_issue(newsletter, 2, date="2024-01-08")
            server.faults.extend(["500"] * 5)
            await cog.tick()
            assert server.statuses[500] == 5 and row(r).status == "pending" and "500" in row(r).last_error
            assert bot_threads(server) == []
            clock.advance(RETRY)
            await cog.tick()
            assert starter_urls(server) == [URL2] and server.statuses[500] == 5
    run(scenario())


@pytest.mark.parametrize("where", [
    "text",
    pytest.param("forum", marks=pytest.mark.xfail(strict=True, reason=(
        "discord.py itself retries a 500 on Start Thread in Forum Channel, which has no nonce: Discord"
        " creates a second thread before the announcer hears of anything"))),
])
def test_a_500_after_discord_stored_the_post(tmp_path, newsletter, embedder, where):
    """discord.py retries the 500 at once: in a text channel the same nonce makes Discord return the first
    message; a forum thread has no such guard."""
    write_issue(newsletter, 1, date="2024-01-01")

    async def scenario():
        clock = Clock()
        channel = forum if where == "forum" else (lambda s: s.channel_id)
        async with announcing(tmp_path, newsletter, embedder, channel=channel, clock=clock) as (server, r, cog):
            await cog.tick()
            write_issue(newsletter, 2, date="2024-01-08")
            server.faults.append("500-stored")
            await cog.tick()
            clock.advance(RETRY)
            await cog.tick()
            assert server.statuses[500] == 1 and row(r).status == "posted"
            got = starter_urls(server) if where == "forum" else urls(server, server.channel_id)
            assert got == [URL2]
    run(scenario())


@pytest.mark.parametrize("where", ["text", "forum"])
def test_the_lookup_itself_failing_leaves_the_post_pending_not_posted_again(tmp_path, newsletter, embedder, where):
    """The answer was lost; at the retry the lookup gets a 503, then a 429 five times running: nothing is posted
    until a lookup has said whether the earlier post is there."""
    write_issue(newsletter, 1, date="2024-01-01")

    async def scenario():
        clock = Clock()
        channel = forum if where == "forum" else (lambda s: s.channel_id)
        async with announcing(tmp_path, newsletter, embedder, channel=channel, clock=clock) as (server, r, cog):
            await cog.tick()
            write_issue(newsletter, 2, date="2024-01-08")
            server.faults.append("drop")
            await cog.tick()
            server.nonce_window = 0.0
            server.injected.read_faults.extend(["503"] + ["429"] * 5)
            for _ in range(2):
                clock.advance(RETRY)
                await cog.tick()
                assert row(r).status == "pending"
            assert server.injected.read_faults == [] and server.statuses[503] == 1 and server.statuses[429] == 5
            clock.advance(RETRY)
            await cog.tick()
            assert row(r).status == "posted"
            got = starter_urls(server) if where == "forum" else urls(server, server.channel_id)
            assert got == [URL2]
    run(scenario())
