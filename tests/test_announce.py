"""Announcing new issues exactly once, through the Discord API test server, with a controllable clock."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import random
import time

import pytest

from tests.discord_api import DiscordTestServer
from tests.discord_harness import running_bot

pytestmark = [pytest.mark.announce, pytest.mark.discord, pytest.mark.slow]


class Clock:
    def __init__(self) -> None:
        self.t = time.time()

    def time(self) -> float:
        return self.t

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.t, dt.timezone.utc)

    def advance(self, seconds: float) -> None:
        self.t += seconds


def run(coro):
    return asyncio.run(coro)


def write_issue(folder, n: int, *, date: str, extra: str = "", body: str = "") -> str:
    name = f"issue_{n:03d}.md"
    (folder / name).write_text(
        f"---\ntitle: \"Issue {n}\"\ndate: {date}\ndescription: \"Number {n} of the weekly\"\n{extra}---\n\n"
        f"# highlights:\n\n- First point of {n}\n- Second point of {n}\n\n## Story {n}\n{body or f'Text of issue {n}.'}\n")
    return name


async def control(r, clock: Clock):
    """Take the announcer's loop into the test's hands: ticks come when the test says, at the test's time."""
    cog = r.bot.get_cog("AnnounceCog")
    cog.loop.cancel()
    await asyncio.sleep(0)
    r.bot.announcer.clock = clock.time
    r.bot.announcer.now = clock.now
    r.services.indexer.clock = clock.now
    if r.runner.current is not None:
        await asyncio.wrap_future(r.runner.current)
    return cog


def posts(server: DiscordTestServer, channel: str) -> list[dict]:
    return [m for m in server.channel_messages.get(channel, []) if m["embeds"]]


def urls(server, channel) -> list[str]:
    return [m["embeds"][0]["url"] for m in posts(server, channel)]


@pytest.fixture
def newsletter(tmp_path):
    folder = tmp_path / "weekly"
    folder.mkdir()
    return folder


def _announce_to(channel: str, more: str = "") -> dict[str, str]:
    return {"weekly": f"announce_channel_id = {channel}\n{more}"}


@contextlib.asynccontextmanager
async def announcing(tmp_path, folder, embedder, *, channel=lambda s: s.channel_id, more: str = "", extra: str = "",
                     server: DiscordTestServer | None = None, clock: Clock | None = None):
    """The bot announcing ``folder`` as source "weekly" to ``channel(server)``, its ticks in the test's hands."""
    own = server is None
    server = server or await DiscordTestServer().start()
    try:
        async with running_bot(tmp_path, folder, embedder, server=server, sources=[("weekly", folder)],
                               source_extra=_announce_to(channel(server), more), extra=extra,
                               settle=False) as r:  # the test takes the loop before its first tick can post
            yield server, r, await control(r, clock or Clock())
    finally:
        if own:
            await server.stop()


def test_first_start_posts_nothing_for_existing_issues(tmp_path, newsletter, embedder):
    for n in range(50):
        write_issue(newsletter, n, date=(dt.date(2024, 1, 1) + dt.timedelta(days=n)).isoformat())

    async def scenario():
        async with announcing(tmp_path, newsletter, embedder) as (server, _r, cog):
            await cog.tick()
            await cog.tick()
            assert posts(server, server.channel_id) == []
            write_issue(newsletter, 50, date="2024-03-01")
            report = await cog.tick()
            assert report.posted == ["issue_050.md"]
            assert urls(server, server.channel_id) == ["https://newsletter.example.org/issues/issue_050/"]
    run(scenario())


def test_a_first_start_before_the_archive_could_be_read_floods_nothing_later(tmp_path, newsletter, embedder):
    for n in range(5):
        write_issue(newsletter, n, date=f"2024-01-0{n + 1}")
    away = newsletter.rename(tmp_path / "not-mounted-yet")  # the folder is not there at the first start

    async def scenario():
        async with announcing(tmp_path, newsletter, embedder) as (server, _r, cog):
            report = await cog.tick()
            assert report.seeded == 0 and report.waiting == ["weekly: waiting for its first complete index"]
            away.rename(newsletter)  # the archive appears: its issues existed before, none is announced
            await cog.tick()
            await cog.tick()
            assert posts(server, server.channel_id) == []
            write_issue(newsletter, 9, date="2024-02-01")
            assert (await cog.tick()).posted == ["issue_009.md"]
    run(scenario())


def test_an_issue_discord_refuses_waits_alone_and_the_next_ones_are_announced(tmp_path, newsletter, embedder):
    write_issue(newsletter, 1, date="2024-01-01")

    async def scenario():
        clock = Clock()
        async with announcing(tmp_path, newsletter, embedder, clock=clock) as (server, _r, cog):
            await cog.tick()  # first start
            write_issue(newsletter, 2, date="2024-01-08", extra='cover: "images/a cover with spaces.png"\n')
            write_issue(newsletter, 3, date="2024-01-15")
            report = await cog.tick()
            assert report.posted == ["issue_003.md"]  # issue 2's cover URL is refused (400); issue 3 goes on
            assert server.statuses[400] >= 1 and urls(server, server.channel_id) == [
                "https://newsletter.example.org/issues/issue_003/"]
            clock.advance(3600)
            assert (await cog.tick()).posted == []  # retried alone, refused again, nothing else repeated
            assert len(posts(server, server.channel_id)) == 1
    run(scenario())


def test_backfill_posts_the_newest_few_in_date_order(tmp_path, newsletter, embedder):
    for n in range(50):
        write_issue(newsletter, n, date=(dt.date(2024, 1, 1) + dt.timedelta(days=n)).isoformat())

    async def scenario():
        async with announcing(tmp_path, newsletter, embedder, extra="[announce]\nbackfill = 3\n") as (server, _r, cog):
            await cog.tick()
            titles = [m["embeds"][0]["title"] for m in posts(server, server.channel_id)]
            assert titles == ["Issue 47", "Issue 48", "Issue 49"]
            await cog.tick()
            assert len(posts(server, server.channel_id)) == 3
    run(scenario())


def test_scheduled_issue_waits_for_its_date_and_a_draft_never_posts(tmp_path, newsletter, embedder):
    write_issue(newsletter, 1, date="2024-01-01")

    async def scenario():
        clock = Clock()
        async with announcing(tmp_path, newsletter, embedder, clock=clock) as (server, _r, cog):
            await cog.tick()
            when = clock.now() + dt.timedelta(hours=2)
            write_issue(newsletter, 2, date=when.isoformat())
            write_issue(newsletter, 3, date="2024-02-01", extra="draft: true\n")
            for _ in range(3):  # an hour passes, one interval at a time: not yet
                clock.advance(60 * 20)
                await cog.tick()
            assert posts(server, server.channel_id) == []
            clock.advance(60 * 60 + 30)  # the date has passed; the next interval's tick posts it
            await cog.tick()
            assert [m["embeds"][0]["title"] for m in posts(server, server.channel_id)] == ["Issue 2"]
            ask = await (await server.interact("ask", {"question": "Story 2"})).answered()
            assert "Issue 2" in [e["title"].split(" · ")[0] for e in ask.messages[-1]["embeds"]]
            clock.advance(86400 * 30)
            await cog.tick()
            assert len(posts(server, server.channel_id)) == 1  # the draft never
    run(scenario())


def test_post_has_highlights_cover_role_and_only_that_role_pings(tmp_path, newsletter, embedder):
    write_issue(newsletter, 1, date="2024-01-01")

    async def scenario():
        more = "announce_role_id = 555555555555555555\ncrosspost = true\n"
        async with announcing(tmp_path, newsletter, embedder, channel=lambda s: s.news_channel_id,
                              more=more) as (server, _r, cog):
            await cog.tick()
            write_issue(newsletter, 2, date="2024-01-08", extra='cover:\n    image: "/covers/two.png"\n')
            await cog.tick()
            [msg] = posts(server, server.news_channel_id)
            embed = msg["embeds"][0]
            assert embed["title"] == "Issue 2" and embed["url"] == "https://newsletter.example.org/issues/issue_002/"
            assert "Number 2 of the weekly" in embed["description"] and "• First point of 2" in embed["description"]
            assert embed["image"]["url"] == "https://newsletter.example.org/covers/two.png"
            assert msg["content"].startswith("<@&555555555555555555>")
            mentions = msg["allowed_mentions"]
            assert mentions["parse"] == [] and [str(x) for x in mentions["roles"]] == ["555555555555555555"]
            assert not mentions.get("users") and not mentions.get("replied_user")
            assert msg["id"] in server.crossposted
    run(scenario())


def test_forum_channel_gets_a_post_named_after_the_issue(tmp_path, newsletter, embedder):
    write_issue(newsletter, 1, date="2024-01-01")

    async def scenario():
        async with announcing(tmp_path, newsletter, embedder, channel=lambda s: s.forum_channel_id) as (server, _r, cog):
            await cog.tick()
            write_issue(newsletter, 2, date="2024-01-08")
            await cog.tick()
            assert [t["name"] for t in server.threads] == ["Issue 2"]
    run(scenario())


def test_a_corrected_issue_edits_its_message(tmp_path, newsletter, embedder):
    write_issue(newsletter, 1, date="2024-01-01")

    async def scenario():
        async with announcing(tmp_path, newsletter, embedder) as (server, _r, cog):
            await cog.tick()
            name = write_issue(newsletter, 2, date="2024-01-08")
            await cog.tick()
            f = newsletter / name
            f.write_text(f.read_text().replace('title: "Issue 2"', 'title: "Issue 2 (corrected)"'))
            report = await cog.tick()
            assert report.edited == [name] and report.posted == []
            [msg] = posts(server, server.channel_id)
            assert msg["embeds"][0]["title"] == "Issue 2 (corrected)" and msg["edited_timestamp"]
            f.write_text(f.read_text().replace("Text of issue 2.", "Text of issue 2, with a typo fixed."))
            report = await cog.tick()  # the post shows nothing of the body text: no edit, no new post
            assert report.edited == [] and len(posts(server, server.channel_id)) == 1
    run(scenario())


def test_missing_permission_backs_off_and_shows_in_status(tmp_path, newsletter, embedder):
    write_issue(newsletter, 1, date="2024-01-01")

    async def scenario():
        clock = Clock()
        server = await DiscordTestServer().start()
        locked = server.text_channel("locked")
        server.forbidden.add(locked)
        try:
            async with announcing(tmp_path, newsletter, embedder, server=server, channel=lambda s: locked,
                                  clock=clock) as (server, r, cog):
                await cog.tick()
                for n in range(2, 6):
                    write_issue(newsletter, n, date=f"2024-01-0{n}")
                refused_before = server.non_2xx()
                for _ in range(5):  # five intervals within the backoff: one attempt, not five times four
                    await cog.tick()
                    clock.advance(10)
                status = await (await server.interact("status", {})).answered()
                text = str(status.messages[-1]["embeds"][0])
                assert "missing permission" in text and "403" in text
                assert r.bot.announce_state.channel_error(int(locked)) is not None
                assert len(r.bot.announce_state.rows()) == 5 and posts(server, locked) == []
                # no request storm: every non-2xx answer counts, by status; one 403 in the whole backoff
                assert server.statuses[403] == 1 and server.non_2xx() - refused_before == 1, server.statuses
                server.forbidden.discard(locked)  # an admin fixes the permission; after the backoff it posts
                clock.advance(3600)
                await cog.tick()
                assert len(posts(server, locked)) == 4
        finally:
            await server.stop()
    run(scenario())


@pytest.mark.parametrize("where", ["text", "forum"])
def test_hundred_issues_through_faults_and_restarts_are_each_posted_exactly_once(tmp_path, newsletter, embedder,
                                                                                  caplog, where):
    """Faults that discord.py absorbs (500, 429) and faults that reach the announcer (503, a lost answer, an
    answer too late), restarts in the middle of a post, and no help from Discord's nonce window at all."""
    rng = random.Random(20261127)
    write_issue(newsletter, 0, date="2023-12-31")
    clock = Clock()
    channel = (lambda s: s.forum_channel_id) if where == "forum" else (lambda s: s.channel_id)

    async def scenario():
        server = await DiscordTestServer().start()
        server.nonce_window = 0.0  # every retry comes too late for Discord to drop it: only the lookup helps
        server.injected.stall_seconds = 5.0
        try:
            published = 0
            for life in range(4):  # the bot is stopped and started again between lives, at awkward moments
                async with announcing(tmp_path, newsletter, embedder, server=server, clock=clock,
                                      channel=channel) as (_, r, cog):
                    r.bot.announcer.poster.timeout = 1.0
                    if life == 0:
                        await cog.tick()  # first start: issue 0 exists and is recorded, not posted
                    for _ in range(3):
                        for _ in range(rng.randint(5, 12)):
                            if published < 100:
                                published += 1
                                write_issue(newsletter, published,
                                            date=(dt.date(2024, 1, 1) + dt.timedelta(days=published)).isoformat())
                        server.faults.extend(rng.choice(["500", "429", "503", "drop", "stall", "ok", "ok", "drop"])
                                             for _ in range(rng.randint(1, 4)))
                        await cog.tick()
                        clock.advance(120)
                    if life < 3:
                        # die in the middle of a tick: the message is stored by Discord, the answer never arrives
                        server.faults[:0] = ["drop"]
                        task = asyncio.create_task(cog.tick())
                        await asyncio.sleep(rng.uniform(0.0, 0.3))
                        task.cancel()
                        await asyncio.gather(task, return_exceptions=True)
            async with announcing(tmp_path, newsletter, embedder, server=server, clock=clock,
                                  channel=channel) as (_, _r, cog):
                while published < 100:
                    published += 1
                    write_issue(newsletter, published, date=(dt.date(2024, 1, 1) + dt.timedelta(days=published)).isoformat())
                server.faults.clear()
                for _ in range(6):  # settle: every retry is due within a few backoffs
                    clock.advance(3600)
                    await cog.tick()
            if where == "forum":
                got = [server.channel_messages[t["id"]][0]["embeds"][0]["url"] for t in server.threads]
            else:
                got = urls(server, server.channel_id)
            expected = [f"https://newsletter.example.org/issues/issue_{n:03d}/" for n in range(1, 101)]
            assert sorted(got) == expected, (len(got), len(set(got)))
            reached = " ".join(rec.getMessage() for rec in caplog.records if "announcement failed" in rec.getMessage())
            for seen in ("ServerDisconnectedError", "TimeoutError", "503"):  # these reached the announcer itself
                assert seen in reached, seen
        finally:
            await server.stop()
    run(scenario())


def test_announce_dry_run_and_mark_all_from_the_host(tmp_path, newsletter):
    from tests.conftest import write_config
    from tests.test_cli import bot

    write_issue(newsletter, 1, date="2024-01-01")
    write_issue(newsletter, 2, date="2099-01-01")
    write_issue(newsletter, 3, date="2024-01-03", extra="draft: true\n")
    cfg = write_config(tmp_path / "c.toml", tmp_path / "data", [("weekly", newsletter)],
                       extra="[announce]\nbackfill = 1\n", source_extra={"weekly": "announce_channel_id = 42"})
    early = bot("--config", str(cfg), "announce", "--dry-run")  # before anything was indexed: say why it is empty
    assert early.returncode == 0 and "nothing indexed yet" in early.stdout and "bot reindex" in early.stdout
    assert bot("--config", str(cfg), "reindex").returncode == 0
    dry = bot("--config", str(cfg), "announce", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    out = dry.stdout
    assert "weekly → channel 42" in out
    assert "would be posted (backfill): Issue 1" in out
    assert "held back, scheduled for 2099-01-01" in out and "Issue 2" in out
    assert "held back, draft: true" in out
    marked = bot("--config", str(cfg), "announce", "--mark-all-announced")
    assert marked.returncode == 0 and "recorded 1 issue(s) as announced" in marked.stdout
    assert "recorded as announced without a post: Issue 1" in bot("--config", str(cfg), "announce", "--dry-run").stdout
