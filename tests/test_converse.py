"""Ask by mention and follow up by reply or in an answer's thread, through the Discord API test server."""

from __future__ import annotations

import asyncio

import pytest

from tests.discord_harness import cited_section, running_bot

pytestmark = [pytest.mark.discord, pytest.mark.slow]
LAYERSKIP_URL = "https://newsletter.example.org/issues/oct_26#layerskip-early-exit-and-self-speculative-decoding"
FOLLOW_UP = "who released it, and is the code out?"


def run(coro):
    return asyncio.run(coro)


def cites_layerskip(answer: dict) -> bool:
    """The answer's first section is LayerSkip's, and it is not offered as a weak match."""
    return bool(answer["embeds"]) and cited_section(answer["embeds"][0]) == LAYERSKIP_URL \
        and "couldn't find" not in answer["content"]


def test_a_mention_is_answered_as_a_reply_and_a_bare_mention_gets_a_how_to(tmp_path, samples, embedder):
    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:
            s, me = r.server, f"<@{r.server.app_id}>"
            asked = await s.say(s.channel_id, f"{me} what is layer skip")
            answer = await s.answer_to(asked["id"])
            assert answer["channel_id"] == s.channel_id and answer["type"] == 19
            assert cited_section(answer["embeds"][0]) == LAYERSKIP_URL
            assert answer["allowed_mentions"]["parse"] == [] and answer["mentions"] == []
            assert me not in answer["content"] and "what is layer skip" in answer["content"]
            bare = await s.answer_to((await s.say(s.channel_id, f"  {me}  "))["id"])
            assert "mention me with a question" in bare["content"] and not bare["embeds"]
            assert s.rejected == []
    run(scenario())


def test_greetings_thanks_and_invisible_text_are_no_questions_and_markup_reads_as_the_menu_reads_it(
        tmp_path, samples, embedder):
    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:
            s, me = r.server, f"<@{r.server.app_id}>"
            invisible = await s.answer_to((await s.say(s.channel_id, f"{me} \u200b\u200b"))["id"])
            assert "mention me with a question" in invisible["content"] and not invisible["embeds"]
            reader = s.user("dmer")
            hi = await s.answer_to((await s.say(s.dm_channel(reader), "hi!", user=reader))["id"])
            assert "mention me with a question" in hi["content"] and not hi["embeds"]
            underlined = await s.answer_to((await s.say(s.channel_id, f"{me} what is __layer skip__"))["id"])
            assert cites_layerskip(underlined), underlined["content"]
            thanks = await s.say(s.channel_id, "thanks!", reply_to=underlined["id"], ping=False, user=s.user("b"))
            later = await s.answer_to((await s.say(s.channel_id, f"{me} what is layer skip"))["id"])
            assert cites_layerskip(later) and s.answers_to(thanks["id"]) == []  # answered in turn: thanks was not
            assert s.rejected == []
    run(scenario())


def test_without_embed_links_the_answer_comes_as_plain_text_and_the_log_says_why(tmp_path, samples, embedder, caplog):
    from tests.discord_api import DiscordTestServer
    from tests.discord_api.gateway import BOT_ROLE_PERMISSIONS

    embed_links = 1 << 14  # Discord's EMBED_LINKS: without it, a bot's embeds in a channel are not shown

    async def scenario():
        server = await DiscordTestServer().start()
        server.bot_role_permissions = BOT_ROLE_PERMISSIONS & ~embed_links
        try:
            async with running_bot(tmp_path, samples, embedder, server=server) as r:
                s, me = r.server, f"<@{r.server.app_id}>"
                for _ in range(2):
                    answer = await s.answer_to((await s.say(s.channel_id, f"{me} what is layer skip"))["id"])
                    assert answer["embeds"] == [] and len(answer["content"]) <= 2000
                    assert f"<{LAYERSKIP_URL}" in answer["content"] and "LayerSkip is a method" in answer["content"]
                assert s.rejected == []
        finally:
            await server.stop()
    run(scenario())
    warned = [r for r in caplog.records if "lacks the Embed Links permission" in r.getMessage()]
    assert len(warned) == 1  # once per channel, not per answer


def test_the_bot_ignores_itself_other_bots_and_messages_not_for_it(tmp_path, samples, embedder):
    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:
            s, me = r.server, f"<@{r.server.app_id}>"
            other_bot = {**s.user("helperbot"), "bot": True}
            by_bot = await s.say(s.channel_id, f"{me} what is layer skip", user=other_bot)
            by_itself = await s.say(s.channel_id, f"{me} what is layer skip", user=s.bot_user)
            plain = await s.say(s.channel_id, "what is layer skip")  # no mention: its text never arrives
            someone = await s.say(s.channel_id, "layer skip is neat")
            reply_to_someone = await s.say(s.channel_id, "what is layer skip", reply_to=someone["id"])
            control = await s.say(s.channel_id, f"{me} what is speculative decoding")
            await s.answer_to(control["id"])  # answered after the ones before it were read
            await asyncio.sleep(0.5)
            for ignored in (by_bot, by_itself, plain, someone, reply_to_someone):
                assert s.answers_to(ignored["id"]) == []
    run(scenario())


def test_a_follow_up_cites_the_section_only_with_its_context(tmp_path, samples, embedder):
    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:
            s, me = r.server, f"<@{r.server.app_id}>"
            first = await s.answer_to((await s.say(s.channel_id, f"{me} what is layer skip"))["id"])
            # a reply that does not ping the bot: Discord still delivers the text of a reply to its message
            follow = await s.answer_to((await s.say(s.channel_id, FOLLOW_UP, reply_to=first["id"], ping=False))["id"])
            assert cites_layerskip(follow), cited_section(follow["embeds"][0])
            assert "Following up on" in follow["content"]
            alone = await s.answer_to((await s.say(s.channel_id, f"{me} {FOLLOW_UP}"))["id"])
            assert not cites_layerskip(alone)
            # a thread started from an answer carries the conversation: a mention in it is a follow-up
            s.start_thread(s.channel_id, first["id"], "layer skip", s.user("reader"))
            await asyncio.sleep(0.3)
            in_thread = await s.answer_to((await s.say(first["id"], f"{me} {FOLLOW_UP}"))["id"])
            assert in_thread["channel_id"] == first["id"] and cites_layerskip(in_thread)
            # without the Message Content intent a plain message in the thread arrives empty: not answered
            plain = await s.say(first["id"], FOLLOW_UP)
            control = await s.say(first["id"], f"{me} what is speculative decoding")
            await s.answer_to(control["id"])
            assert s.answers_to(plain["id"]) == []
            assert s.rejected == []
    run(scenario())


def test_a_conversation_survives_a_restart_of_the_bot(tmp_path, samples, embedder):
    async def scenario():
        from tests.discord_api import DiscordTestServer

        server = await DiscordTestServer().start()
        try:
            me = f"<@{server.app_id}>"
            async with running_bot(tmp_path, samples, embedder, server=server):
                first = await server.answer_to((await server.say(server.channel_id, f"{me} what is layer skip"))["id"])
            async with running_bot(tmp_path, samples, embedder, server=server):
                asked = await server.say(server.channel_id, FOLLOW_UP, reply_to=first["id"])
                assert cites_layerskip(await server.answer_to(asked["id"]))
        finally:
            await server.stop()
    run(scenario())


def test_mentions_and_ask_share_one_rate_limit(tmp_path, samples, embedder):
    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:  # 4 questions per 30 s by default
            s, me = r.server, f"<@{r.server.app_id}>"
            eager = s.user("eager")
            for n in range(2):
                await (await s.interact("ask", {"question": f"layer skip {n}"}, user=eager)).answered()
            for n in range(2):
                answer = await s.answer_to((await s.say(s.channel_id, f"{me} fineweb {n}", user=eager))["id"])
                assert answer["embeds"]
            refused = await s.answer_to((await s.say(s.channel_id, f"{me} fineweb again", user=eager))["id"])
            assert "try again in" in refused["content"] and not refused["embeds"]
            rec = await (await s.interact("ask", {"question": "layer skip"}, user=eager)).answered()
            assert rec.ephemeral and "try again in" in rec.messages[-1]["content"]
            other = await s.answer_to((await s.say(s.channel_id, f"{me} fineweb"))["id"])
            assert other["embeds"]  # another reader is not held back
    run(scenario())


def test_a_direct_message_is_a_question_and_a_reply_in_the_dm_follows_up(tmp_path, samples, embedder):
    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:
            s = r.server
            reader = s.user("reader")
            dm = s.dm_channel(reader)
            asked = await s.say(dm, "what is layer skip", user=reader)  # no mention: a DM is for the bot
            answer = await s.answer_to(asked["id"])
            assert answer["channel_id"] == dm and "guild_id" not in answer
            assert cited_section(answer["embeds"][0]) == LAYERSKIP_URL
            follow = await s.answer_to((await s.say(dm, FOLLOW_UP, user=reader, reply_to=answer["id"]))["id"])
            assert cites_layerskip(follow) and "Following up on" in follow["content"]
            assert s.rejected == []
    run(scenario())
