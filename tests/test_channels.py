"""Per-channel behaviour ([[channels]]) through the Discord API test server: a thread per question, a channel's
default source first (else the whole archive, saying so), and the settings that configure it."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from bot.settings import ConfigError, load_settings
from tests.discord_api import DiscordTestServer
from tests.discord_api.gateway import BOT_ROLE_PERMISSIONS, CREATE_PUBLIC_THREADS
from tests.discord_harness import cited_section, running_bot

LAYERSKIP_URL = "https://newsletter.example.org/issues/oct_26#layerskip-early-exit-and-self-speculative-decoding"
FOLLOW_UP = "who released it, and is the code out?"
FELL_BACK = "Nothing in kitchen answers this; from the whole archive:"

KITCHEN = {
    "bread.md": """---
title: "Bread Week"
date: 2024-11-02
---

# Kitchen Notes - Bread Week

## Sourdough Starter Care
Feed the sourdough starter equal weights of flour and water every day. A starter kept in the fridge needs
feeding once a week; take it out the evening before you bake so it is bubbly and doubles within six hours.

## Proofing the Dough
Let shaped sourdough loaves proof in a cold fridge overnight, twelve to sixteen hours. The cold slows the
yeast and deepens the flavour. A loaf is ready when a floured finger leaves a dent that springs back slowly.

## Baking in a Dutch Oven
Preheat the Dutch oven at 250 °C for forty minutes, bake the loaf covered for twenty minutes to trap the
steam, then uncovered at 230 °C for twenty-five more until the crust is deep brown.
## Kitchen Tech Corner
Our recipe search on the kitchen tablet now runs a small language model with speculative decoding: a tiny
draft model guesses the next words and the larger model checks them, so suggestions appear faster.
""",
}


def run(coro):
    return asyncio.run(coro)


def kitchen(tmp_path: Path) -> Path:
    folder = tmp_path / "kitchen"
    folder.mkdir()
    for name, text in KITCHEN.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def sources_of(answer: dict) -> set[str]:
    return {e["footer"]["text"].split(" · ")[0] for e in answer["embeds"]}


def channels_toml(*entries: tuple[str, str]) -> str:
    return "\n".join(f"[[channels]]\nid = {cid}\n{body}\n" for cid, body in entries)


@contextlib.asynccontextmanager
async def two_newsletters(tmp_path, samples, embedder, configure, *, permissions: int = BOT_ROLE_PERMISSIONS):
    """The bot on two sources ("ai": the samples, "kitchen": a cooking newsletter), with the [[channels]] that
    ``configure(server)`` returns, the channels made before the bot connects (GUILD_CREATE lists them)."""
    server = await DiscordTestServer().start()
    server.bot_role_permissions = permissions
    try:
        extra = configure(server)
        async with running_bot(tmp_path, samples, embedder, server=server, extra=extra,
                               sources=[("ai", samples), ("kitchen", kitchen(tmp_path))]) as r:
            yield r
    finally:
        await server.stop()


async def thread_answer(s: DiscordTestServer, thread_id: str) -> dict:
    return (await s.posted_in(thread_id))[0]


@pytest.mark.discord
@pytest.mark.slow
def test_a_thread_channel_answers_each_question_in_its_own_thread_and_follow_ups_there(tmp_path, samples, embedder,
                                                                                       monkeypatch):
    monkeypatch.setenv("BACKISSUE_DISCORD__ASK_PER_SECONDS", "3600")  # a slow machine must not reopen the window
    async def scenario():
        def configure(s):
            s.busy = s.text_channel("help")
            return channels_toml((s.busy, 'reply = "thread"'))

        async with two_newsletters(tmp_path, samples, embedder, configure) as r:
            s, me = r.server, f"<@{r.server.app_id}>"
            reader = s.user("reader")
            asked = await s.say(s.busy, f"{me} what is layer skip", user=reader)
            answer = await thread_answer(s, asked["id"])  # Start Thread from Message: the thread's id is the message's
            thread = next(t for t in s.threads if t["id"] == asked["id"])
            assert thread["parent_id"] == s.busy and thread["name"] == "what is layer skip"
            assert thread["owner_id"] == s.app_id and thread["thread_metadata"]["auto_archive_duration"] == 1440
            assert cited_section(answer["embeds"][0]) == LAYERSKIP_URL and answer["allowed_mentions"]["parse"] == []
            assert [m for m in s.channel_messages[s.busy] if m["author"]["id"] == s.app_id] == []  # nothing inline
            # a follow-up in the thread (a mention: without Message Content a plain message arrives empty)
            follow = await s.answer_to((await s.say(thread["id"], f"{me} {FOLLOW_UP}", user=reader))["id"])
            assert follow["channel_id"] == thread["id"] and "Following up on" in follow["content"]
            assert cited_section(follow["embeds"][0]) == LAYERSKIP_URL
            assert len(s.threads) == 1  # no thread in the thread
            # the next question gets a thread of its own, named after it and cut at a word
            long = "what does " + " ".join(["the fineweb pretraining dataset"] * 5) + " contain"
            second = await s.say(s.busy, f"{me} {long}", user=reader)
            await thread_answer(s, second["id"])
            name = next(t for t in s.threads if t["id"] == second["id"])["name"]
            assert len(name) <= 100 and name.endswith("…") and long.startswith(name[:-1])
            # a bare mention still gets its how-to inline, as anywhere
            bare = await s.answer_to((await s.say(s.busy, me, user=reader))["id"])
            assert bare["channel_id"] == s.busy and len(s.threads) == 2
            # the shared per-reader limit (4 an hour here: three questions and the how-to) holds before any thread
            refused = await s.answer_to((await s.say(s.busy, f"{me} what is fineweb", user=reader))["id"])
            assert "try again in" in refused["content"] and refused["channel_id"] == s.busy and len(s.threads) == 2
            assert s.rejected == []
    run(scenario())


@pytest.mark.discord
@pytest.mark.slow
def test_without_create_public_threads_a_thread_channel_answers_inline(tmp_path, samples, embedder):
    async def scenario():
        def configure(s):
            s.busy = s.text_channel("help")
            return channels_toml((s.busy, 'reply = "thread"'))

        async with two_newsletters(tmp_path, samples, embedder, configure,
                                   permissions=BOT_ROLE_PERMISSIONS & ~CREATE_PUBLIC_THREADS) as r:
            s, me = r.server, f"<@{r.server.app_id}>"
            asked = await s.say(s.busy, f"{me} what is layer skip")
            answer = await s.answer_to(asked["id"])
            assert answer["channel_id"] == s.busy and cited_section(answer["embeds"][0]) == LAYERSKIP_URL
            assert s.threads == [] and s.statuses[403] == 0  # known from its permissions, not tried and refused
    run(scenario())


@pytest.mark.discord
@pytest.mark.slow
def test_a_channels_source_is_searched_first_by_mention_ask_and_follow_up(tmp_path, samples, embedder):
    async def scenario():
        def configure(s):
            s.plain = s.text_channel("off-topic")
            # the general channel (where the test server's interactions happen) is about the kitchen newsletter
            return channels_toml((s.channel_id, 'source = "kitchen"'))

        async with two_newsletters(tmp_path, samples, embedder, configure) as r:
            s, me = r.server, f"<@{r.server.app_id}>"
            question = "what is speculative decoding"  # both newsletters have it: the AI one at length
            # unconfigured: the whole archive, as before ([[channels]] changes nothing there)
            anywhere = await s.answer_to((await s.say(s.plain, f"{me} {question}"))["id"])
            assert anywhere["embeds"][0]["footer"]["text"].startswith("ai ·") and FELL_BACK not in anywhere["content"]
            assert anywhere["channel_id"] == s.plain and s.threads == []
            # in the kitchen channel: only the kitchen newsletter
            here = await s.answer_to((await s.say(s.channel_id, f"{me} {question}"))["id"])
            assert sources_of(here) == {"kitchen"} and FELL_BACK not in here["content"]
            # ... and its follow-up keeps the conversation's filters
            follow = await s.answer_to((await s.say(s.channel_id, "how much faster does it make text generation?",
                                                    reply_to=here["id"]))["id"])
            assert sources_of(follow) == {"kitchen"} and "Following up on" in follow["content"]
            # a question the kitchen newsletter cannot answer: the whole archive, saying so in one line
            other = await s.answer_to((await s.say(s.channel_id, f"{me} what is layer skip"))["id"])
            assert other["content"].splitlines()[0] == f"*{FELL_BACK}*"
            assert cited_section(other["embeds"][0]) == LAYERSKIP_URL
            # /ask there: the channel's source too, an explicit source wins
            ask = (await (await s.interact("ask", {"question": question})).answered()).messages[-1]
            assert sources_of(ask) == {"kitchen"}
            explicit = (await (await s.interact("ask", {"question": question, "source": "ai"})).answered()).messages[-1]
            assert sources_of(explicit) == {"ai"} and FELL_BACK not in explicit["content"]
            fell = (await (await s.interact("ask", {"question": "what is layer skip"})).answered()).messages[-1]
            assert FELL_BACK in fell["content"] and cited_section(fell["embeds"][0]) == LAYERSKIP_URL
            # the message command: the channel of the message it is used on
            target = await s.say(s.channel_id, question, user=s.user("someone"))
            searched = (await (await s.interact_message("Search back issues", target)).answered()).messages[-1]
            assert sources_of(searched) == {"kitchen"}
            assert s.rejected == []
    run(scenario())


@pytest.mark.discord
@pytest.mark.slow
def test_threads_and_forum_posts_inherit_their_channels_entry(tmp_path, samples, embedder):
    async def scenario():
        def configure(s):
            s.busy = s.text_channel("help")
            return channels_toml((s.forum_channel_id, 'source = "kitchen"\nreply = "thread"'),
                                 (s.channel_id, 'source = "kitchen"'), (s.busy, 'reply = "thread"'))

        async with two_newsletters(tmp_path, samples, embedder, configure) as r:
            s, me = r.server, f"<@{r.server.app_id}>"
            reader = s.user("reader")
            question = "what is speculative decoding"
            # a reader's forum post: the forum's source, answered in the post (no thread in a thread)
            post = await s.open_forum_post(s.forum_channel_id, "Kitchen tablet", reader)
            await asyncio.sleep(0.3)
            in_post = await s.answer_to((await s.say(post, f"{me} {question}", user=reader))["id"])
            assert in_post["channel_id"] == post and sources_of(in_post) == {"kitchen"}
            # a thread a reader started in the kitchen channel: the kitchen source too
            someone = await s.say(s.channel_id, "tablet talk", user=s.user("someone"))
            s.start_thread(s.channel_id, someone["id"], "tablet talk", reader)
            await asyncio.sleep(0.3)
            in_thread = await s.answer_to((await s.say(someone["id"], f"{me} {question}", user=reader))["id"])
            assert in_thread["channel_id"] == someone["id"] and sources_of(in_thread) == {"kitchen"}
            # a reader's thread in a thread channel: answered inline there, from the whole archive
            other = await s.say(s.busy, "tablet talk", user=s.user("someone"))
            s.start_thread(s.busy, other["id"], "tablet talk", reader)
            await asyncio.sleep(0.3)
            there = await s.answer_to((await s.say(other["id"], f"{me} {question}", user=reader))["id"])
            assert there["channel_id"] == other["id"] and there["embeds"][0]["footer"]["text"].startswith("ai ·")
            assert len(s.threads) == 3 and s.rejected == []
    run(scenario())


def settings_error(tmp_path: Path, body: str) -> str:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[[sources]]\nname = "ai"\npath = "{tmp_path}"\n\n{body}', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    return str(err.value)


def test_channel_settings_errors_name_the_entry(tmp_path):
    unknown = settings_error(tmp_path, channels_toml(("1", 'reply = "thread"'), ("2", 'source = "cooking"')))
    assert "channels[1].source" in unknown and "'cooking'" in unknown and "the sources are ai" in unknown
    bad_reply = settings_error(tmp_path, channels_toml(("1", 'reply = "threads"')))
    assert "channels[0].reply" in bad_reply and "'inline' or 'thread'" in bad_reply and "'threads'" in bad_reply
    dupe = settings_error(tmp_path, channels_toml(("5", ""), ("6", ""), ("5", 'reply = "thread"')))
    assert "channels[2].id" in dupe and "channels[0]" in dupe
    assert "channels[0].id" in settings_error(tmp_path, channels_toml(("0", "")))
    single = settings_error(tmp_path, "[channels]\nid = 5\n")
    assert "[[channels]]" in single
    ok = tmp_path / "ok.toml"
    ok.write_text(f'[[sources]]\nname = "ai"\npath = "{tmp_path}"\n\n' + channels_toml(("5", 'source = "ai"')),
                  encoding="utf-8")
    assert [(c.id, c.source, c.reply) for c in load_settings(ok).channels] == [(5, "ai", "inline")]
