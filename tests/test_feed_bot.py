"""Feed sources in the application: `bot reindex` and `bot status`, and announcing a new entry through the Discord test server."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.conftest import write_config
from tests.feed_samples import SITE, Entry, rss2
from tests.feed_server import FeedServer
from tests.test_announce import announcing, posts, urls
from tests.test_cli import bot

pytestmark = pytest.mark.slow  # subprocesses and the Discord test server


@pytest.fixture
def server():
    s = FeedServer().start()
    yield s
    s.stop()


def test_reindex_and_status_fetch_the_feed_and_report_a_page_that_is_no_feed(tmp_path, server):
    server.put("/feed.xml", rss2([Entry(1), Entry(2), Entry(3)]))
    cfg = write_config(tmp_path / "c.toml", tmp_path / "data", [("garden", f"feed+{server.url('/feed.xml')}")])
    first = bot("--config", str(cfg), "reindex")
    assert first.returncode == 0, first.stderr
    assert "3 new" in first.stdout
    again = bot("--config", str(cfg), "reindex")
    assert "3 unchanged" in again.stdout and server.hits_for("/feed.xml")[-1].status == 304
    status = json.loads(bot("--config", str(cfg), "status", "--json").stdout)["sources"][0]
    assert status["issues"] == 3 and status["problem"] is None
    assert status["feed"]["entries"] == 3 and status["feed"]["error"] is None and status["feed"]["not_modified"]
    assert "feed: 3 entries in the feed (not modified since), 3 kept" in bot("--config", str(cfg), "status").stdout

    server.put("/feed.xml", "<!doctype html><html><head><title>Shop</title></head><body>Buy seeds</body></html>",
               "text/html; charset=utf-8")
    broken = bot("--config", str(cfg), "reindex")
    assert broken.returncode == 1, broken.stderr  # reported, and the rest indexed
    assert broken.stderr.count("garden: the feed URL serves an HTML page, not a feed") == 1, broken.stderr  # logged once
    assert "garden: the feed URL serves an HTML page, not a feed (Content-Type text/html; charset=utf-8);" \
           " the 3 entries fetched before are kept" in broken.stdout
    text = bot("--config", str(cfg), "status").stdout
    assert "garden: 3 issues" in text and "failing: the feed URL serves an HTML page" in text


def test_a_new_feed_entry_is_announced_once_and_the_first_fetch_floods_nothing(tmp_path, server, embedder):
    server.put("/feed.xml", rss2([Entry(1), Entry(2)]))
    feed = f"feed+{server.url('/feed.xml')}"

    async def scenario():
        # check_seconds = 0: the feed is fetched at every tick (by default at most every 300 s)
        async with announcing(tmp_path, feed, embedder, more="check_seconds = 0\n") as (discord, _r, cog):
            await cog.tick()
            await cog.tick()
            assert posts(discord, discord.channel_id) == []  # the entries there at first start are not announced
            server.put("/feed.xml", rss2([Entry(1), Entry(2), Entry(3)]))
            report = await cog.tick()
            assert len(report.posted) == 1 and urls(discord, discord.channel_id) == [f"{SITE}/notes/3/"]
            [msg] = posts(discord, discord.channel_id)
            assert msg["embeds"][0]["title"] == "Seedling notes 3"
            assert "A short teaser of note 3" in msg["embeds"][0]["description"]
            await cog.tick()
            server.put("/feed.xml", rss2([Entry(3), Entry(4)]))  # the window moves on: 1 and 2 drop out
            await cog.tick()
            await cog.tick()
            assert urls(discord, discord.channel_id) == [f"{SITE}/notes/3/", f"{SITE}/notes/4/"]
            server.put("/feed.xml", rss2([Entry(3, title="Seedling notes 3, corrected"), Entry(4)]))
            report = await cog.tick()
            assert len(report.edited) == 1 and len(posts(discord, discord.channel_id)) == 2  # edited, not posted again
            ask = await (await discord.interact("ask", {"question": "aphids broad beans nasturtiums"})).answered()
            assert any(e["url"].startswith(f"{SITE}/notes/") for e in ask.messages[-1]["embeds"])
            status = await (await discord.interact("status", {})).answered()
            assert "feed: 2 entries in the feed" in str(status.messages[-1]["embeds"][0])  # and 4 kept
            assert "4 kept" in str(status.messages[-1]["embeds"][0])

    asyncio.run(scenario())


def test_reindex_reads_an_export_source_and_lists_its_drafts(tmp_path):
    from tests.test_exports import substack_export

    folder = substack_export(tmp_path / "export", [(1, True, "everyone"), (2, False, "everyone")])
    cfg = write_config(tmp_path / "c.toml", tmp_path / "data", [("garden", f"export+{folder}")])
    r = bot("--config", str(cfg), "reindex")
    assert r.returncode == 0, r.stderr
    assert "1 new" in r.stdout and "1 held back" in r.stdout
    assert "garden/" in r.stdout and ": draft (is_published is false in posts.csv)" in r.stdout
    status = json.loads(bot("--config", str(cfg), "status", "--json").stdout)["sources"][0]
    assert status["issues"] == 1 and status["held_back"] == 1 and status["problem"] is None
