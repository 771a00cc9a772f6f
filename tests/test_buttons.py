"""The buttons under answers, pressed through the Discord API test server: more results, share, restart-safe."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time

import pytest

from tests.discord_api import DiscordTestServer
from tests.discord_api.limits import EPHEMERAL
from tests.discord_harness import running_bot

pytestmark = [pytest.mark.discord, pytest.mark.slow]


def run(coro):
    return asyncio.run(coro)


def shown(rec_or_msg) -> dict:
    return rec_or_msg.original if hasattr(rec_or_msg, "original") else rec_or_msg


def urls(msg: dict) -> list[tuple[str, str]]:
    """The sections a message shows: deep link and heading path (sections under one anchor share a link)."""
    return [(e["url"], e["description"].split("\n", 1)[0]) for e in msg["embeds"]]


def labels(msg: dict) -> dict[str, dict]:
    return {b["label"]: b for row in msg.get("components") or [] for b in row["components"]}


async def ask(server, question: str, *, user=None, **options):
    return await (await server.interact("ask", {"question": question, **options}, user=user)).answered()


async def until(check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def press(server, msg, label, user):
    return await (await server.click(msg, label, user=user)).answered()


def test_more_results_turns_the_page_to_further_sections_until_there_are_none(tmp_path, samples, embedder):
    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:
            s, asker = r.server, r.server.user("asker")
            rec = await ask(s, "what is layer skip", user=asker, results=5)
            msg = shown(rec)
            seen = urls(msg)
            assert len(seen) == 5 and "More results" in labels(msg)
            pages = 1
            while "More results" in labels(s.any_message(msg["id"])):
                turned = await press(s, msg, "More results", asker)
                assert turned.response_type == 6 and turned.original["id"] == msg["id"]  # the same message, in place
                assert turned.acked_at - turned.created < 3  # acknowledged within Discord's 3 s, searched after
                now = urls(s.any_message(msg["id"]))
                assert now and not set(now) & set(seen), "a page repeats sections shown before"
                assert re.search(rf"sections? {len(seen) + 1}\b", s.any_message(msg["id"])["content"])
                seen += now
                pages += 1
                assert pages <= 6  # 30 sections deep at most
            # the last page: the button says there is nothing more, and cannot be pressed
            assert pages >= 3 and labels(s.any_message(msg["id"]))["No more results"]["disabled"]
            assert s.any_message(msg["id"])["allowed_mentions"] == {"parse": []}
            assert s.rejected == []
    run(scenario())


def test_more_results_on_a_mention_answer_pages_the_follow_up_in_its_context(tmp_path, samples, embedder):
    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:
            s, me, reader = r.server, f"<@{r.server.app_id}>", r.server.user("reader")
            first = await s.answer_to((await s.say(s.channel_id, f"{me} what is layer skip", user=reader))["id"])
            follow = await s.answer_to((await s.say(s.channel_id, "who released it, and is the code out?",
                                                    user=reader, reply_to=first["id"], ping=False))["id"])
            before = urls(follow)
            turned = await press(s, follow, "More results", reader)
            assert turned.response_type == 6
            after = s.any_message(follow["id"])
            assert urls(after) and not set(urls(after)) & set(before) and "sections 4–6" in after["content"]
            assert s.rejected == []
    run(scenario())


def test_another_reader_is_refused_a_private_answer_and_pages_a_public_one_privately(tmp_path, samples, embedder):
    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:
            s, asker, stranger = r.server, r.server.user("asker"), r.server.user("stranger")
            private = shown(await ask(s, "what is layer skip", user=asker, private=True))
            before = {**s.any_message(private["id"])}
            for label in ("More results", "Share to channel"):
                refused = await press(s, private, label, stranger)
                assert refused.response_type == 4 and refused.ephemeral
                assert "Only the reader who asked" in refused.original["content"]
            assert s.any_message(private["id"])["embeds"] == before["embeds"]  # untouched
            public = shown(await ask(s, "what is layer skip", user=asker))
            theirs = await press(s, public, "More results", stranger)
            assert theirs.ephemeral and theirs.original["id"] != public["id"]
            assert not set(urls(theirs.original)) & set(urls(public))
            assert urls(s.any_message(public["id"])) == urls(public)  # the asker's answer stays as it was
            assert s.rejected == []
    run(scenario())


def test_share_posts_the_private_answer_publicly_naming_the_sharer_and_pinging_no_one(tmp_path, samples, embedder):
    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:
            s, asker = r.server, r.server.user("asker")
            rec = await ask(s, "what is layer skip", user=asker, private=True)
            private = shown(rec)
            assert rec.ephemeral and "Share to channel" in labels(private)
            shared = await press(s, private, "Share to channel", asker)
            assert shared.response_type == 7  # the private answer says it is shared, at once
            assert labels(s.any_message(private["id"]))["Shared"]["disabled"]
            await until(lambda: shared.followups)
            await asyncio.sleep(0.3)
            assert len(shared.followups) == 1  # one press, one post
            post = shared.followups[0]
            assert not post["flags"] & EPHEMERAL
            assert f"<@{asker['id']}> shared this answer" in post["content"]
            assert post["allowed_mentions"] == {"parse": []} and post["mentions"] == []
            assert urls(post) == urls(private)
            assert "Share to channel" not in labels(post) and "More results" in labels(post)
            with pytest.raises(LookupError):  # shared once: the button is disabled
                await s.click(private, "Shared", user=asker)
            # anyone may page the public copy
            theirs = await press(s, post, "More results", s.user("stranger"))
            assert theirs.ephemeral and not set(urls(theirs.original)) & set(urls(post))
            assert s.rejected == []
    run(scenario())


def test_paging_counts_against_the_readers_one_rate_limit(tmp_path, samples, embedder):
    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:  # 4 questions per 30 s by default
            s, eager = r.server, r.server.user("eager")
            answer = shown(await ask(s, "what is layer skip", user=eager))
            before = urls(answer)
            for n in range(3):
                await ask(s, f"fineweb {n}", user=eager)
            refused = await press(s, answer, "More results", eager)
            assert refused.ephemeral and "try again in" in refused.original["content"]
            assert urls(s.any_message(answer["id"])) == before  # the page did not turn
    run(scenario())


def test_buttons_work_after_a_restart_and_an_expired_one_answers_kindly(tmp_path, samples, embedder):
    async def scenario():
        server = await DiscordTestServer().start()
        try:
            asker = server.user("asker")
            async with running_bot(tmp_path, samples, embedder, server=server):
                one = shown(await ask(server, "what is layer skip", user=asker))
                two = shown(await ask(server, "what is fineweb", user=asker))
                first_page, two_embeds = urls(one), list(two["embeds"])
            async with running_bot(tmp_path, samples, embedder, server=server):  # a new client, the same data folder
                turned = await press(server, one, "More results", asker)
                assert turned.response_type == 6
                assert urls(server.any_message(one["id"])) and not set(urls(server.any_message(one["id"]))) & set(first_page)
            with sqlite3.connect(tmp_path / "data" / "conversations.sqlite3") as db:  # two days pass for the other
                db.execute("UPDATE answers SET created = created - 2 * 86400 WHERE id = ?",
                           (int(labels(two)["More results"]["custom_id"].rsplit(":", 1)[1]),))
            async with running_bot(tmp_path, samples, embedder, server=server):
                expired = await press(server, two, "More results", asker)
                assert expired.response_type == 4 and expired.ephemeral
                assert "expired" in expired.original["content"]
                assert server.any_message(two["id"])["embeds"] == two_embeds
            assert server.rejected == []
        finally:
            await server.stop()
    run(scenario())


def test_a_long_answer_keeps_its_buttons_within_discord_limits(tmp_path, samples, embedder):
    long_title = "An Extremely Long Issue Title " * 12
    for n in range(6):
        body = "\n\n".join(f"## {'Heading ' * 30}{n}-{m}\n" + ("quantization " + "word " * 60) * 20 for m in range(4))
        (samples / f"{'long_path_' * 20}{n}.md").write_text(f"---\ntitle: \"{long_title}{n}\"\ndate: 2024-05-0{n + 1}\n"
                                                           f"---\n{body}\n")

    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:
            s, asker = r.server, r.server.user("asker")
            rec = await ask(s, "quantization word", user=asker, results=10, private=True)
            msg = shown(rec)
            assert rec.errors == [] and s.rejected == []
            rows = msg["components"]
            assert 1 <= len(rows) <= 5 and all(1 <= len(row["components"]) <= 5 for row in rows)
            buttons = [b for row in rows for b in row["components"]]
            assert all(len(b["label"]) <= 80 for b in buttons)
            assert all(len(b["url"]) <= 512 for b in buttons if b["style"] == 5)
            assert {"More results", "Share to channel"} <= set(labels(msg))
            links = [b for b in buttons if b["style"] == 5]
            assert links and len({b["url"] for b in links}) == len(links)  # each cited issue once
            await press(s, msg, "More results", asker)
            assert s.rejected == []
    run(scenario())


def test_more_results_under_an_announcement_pages_within_the_announced_issue(tmp_path, embedder):
    from tests.test_announce import announcing, posts, write_issue

    folder = tmp_path / "weekly"
    folder.mkdir()
    write_issue(folder, 1, date="2024-01-01", body="Lighthouse keepers record passing ships in a logbook.")
    notes = "\n\n".join(f"## Lighthouse note {n}\nLighthouse keepers on rock {n} record each passing ship, its flag "
                        f"and the hour, in logbook number {n}." for n in range(7))

    async def scenario():
        async with announcing(tmp_path, folder, embedder) as (s, _r, cog):
            await cog.tick()
            write_issue(folder, 2, date="2024-01-08", body=f"Lighthouses.\n\n{notes}")
            await cog.tick()
            [announcement] = posts(s, s.channel_id)
            reader = s.user("reader")
            under = await s.answer_to((await s.say(s.channel_id, "how do lighthouse keepers record passing ships?",
                                                   user=reader, reply_to=announcement["id"], ping=False))["id"])
            first = urls(under)
            assert all(e["title"].startswith("Issue 2") for e in under["embeds"])
            await press(s, under, "More results", reader)
            turned = s.any_message(under["id"])
            assert urls(turned) and not set(urls(turned)) & set(first)
            assert all(e["title"].startswith("Issue 2") for e in turned["embeds"])  # the same issue, further on
            assert s.rejected == []
    run(scenario())
