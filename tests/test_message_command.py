"""The message command "Search back issues" (a message's context menu → Apps), through the Discord API test server;
and the test server's rules for message commands, as Discord documents them."""

from __future__ import annotations

import asyncio
import logging
import sqlite3

import pytest

from bot.ask.message import NAME, NO_TEXT, message_question
from index.store.catalog import Catalog
from tests.discord_api.limits import DiscordError, check_commands
from tests.discord_harness import cited_section, running_bot
from tests.test_discord import LAYERSKIP_URL, message

IMAGE = {"id": "1", "filename": "chart.png", "size": 1024, "url": "https://cdn.example/chart.png",
         "proxy_url": "https://cdn.example/chart.png", "content_type": "image/png", "width": 10, "height": 10}


def run(coro):
    return asyncio.run(coro)


# --- the test server refuses what Discord refuses -----------------------------------------------------------

def _refused(commands: list[dict]) -> dict:
    with pytest.raises(DiscordError) as refused:
        check_commands(commands)
    return refused.value.body["errors"]["0"]


def test_a_message_command_may_not_have_a_description_or_options():
    check_commands([{"name": "Search back issues", "type": 3}])  # no description: as discord.py sends it
    check_commands([{"name": "Search back issues", "type": 3, "description": ""}])  # "" is let through
    errors = _refused([{"name": "Search back issues", "type": 3, "description": "Search for this message"}])
    assert errors["description"]["_errors"][0]["code"] == "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION_INVALID"
    errors = _refused([{"name": "Search back issues", "type": 3,
                        "options": [{"name": "q", "description": "q", "type": 3}]}])
    assert errors["options"]["_errors"][0]["code"] == "APPLICATION_COMMAND_CONTEXT_MENU_OPTIONS_INVALID"


def test_message_command_names_may_have_capitals_and_spaces_slash_command_names_may_not():
    check_commands([{"name": "Search back issues", "type": 3}, {"name": "High Five", "type": 2}])
    assert "name" in _refused([{"name": "Search back issues", "type": 1, "description": "d"}])
    assert "name" in _refused([{"name": "x" * 33, "type": 3}])
    assert "name" in _refused([{"name": "", "type": 3}])


def test_names_are_unique_per_type():
    check_commands([{"name": "search", "type": 1, "description": "d"}, {"name": "search", "type": 3}])
    with pytest.raises(DiscordError) as refused:
        check_commands([{"name": "Search", "type": 3}, {"name": "Search", "type": 3}])
    assert refused.value.body["errors"]["1"]["name"]["_errors"][0]["code"] == "APPLICATION_COMMANDS_DUPLICATE_NAME"


# --- what a message asks ---------------------------------------------------------------------------------------

def test_a_messages_question_is_its_text_without_discord_markup():
    assert message_question("<@123> **what** is __layer skip__? <:wave:456> <#789>") == "what is layer skip ?"
    assert message_question("> [LayerSkip](https://example.org/x) ||spoiler|| `code`") == "LayerSkip spoiler code"
    assert message_question("snake_case stays") == "snake_case stays"
    assert message_question("<@123> <:wave:456> https://example.org/x") == ""
    assert message_question("") == ""
    assert len(message_question("layer skip " * 400)) <= 2000  # as /ask's question; a message may hold 4000
    # NUL characters are no text, and never read as the escapes' placeholders ("\\*" is kept as a star)
    assert message_question("hi \x005\x00 there \\*") == "hi 5 there *"
    assert message_question("\u200b\u200b") == message_question("🚀🔥") == ""  # nothing to search for: NO_TEXT


# --- through Discord ---------------------------------------------------------------------------------------

@pytest.mark.discord
@pytest.mark.slow
def test_the_message_command_is_registered_as_type_3_with_an_empty_description(tmp_path, samples, embedder):
    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:
            cmds = [c for c in r.server.commands[None] if c["name"] == NAME]
            assert len(cmds) == 1
            assert cmds[0]["type"] == 3 and cmds[0]["description"] == "" and cmds[0]["options"] == []
            assert r.server.rejected == []
    run(scenario())


@pytest.mark.discord
@pytest.mark.slow
def test_searching_a_message_answers_privately_and_sets_markup_aside(tmp_path, samples, embedder):
    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:
            s = r.server
            # the bot has no Message Content intent: it never saw this text, yet the command gets it
            assert not s.intents & (1 << 15)
            plain = await s.say(s.channel_id, "what is layer skip")
            rec = await (await s.interact_message(NAME, plain)).answered()
            answer = message(rec)
            assert rec.ephemeral and rec.response_type == 5  # private, and acknowledged at once
            assert cited_section(answer["embeds"][0]) == LAYERSKIP_URL
            assert answer["allowed_mentions"] == {"parse": []}
            assert answer["content"] == "**Q:** what is layer skip"
            buttons = {b["label"] for row in answer["components"] for b in row["components"]}
            assert {"More results", "Share to channel"} <= buttons  # private, as /ask's private answers
            someone = s.user("someone")
            marked = await s.say(s.channel_id, f"<@{someone['id']}> **what** is __layer skip__ <:wave:123456>",
                                 user=s.user("asker"))
            answer = message(await (await s.interact_message(NAME, marked)).answered())
            assert cited_section(answer["embeds"][0]) == LAYERSKIP_URL
            assert answer["content"] == "**Q:** what is layer skip"  # no mention, no stars, no emoji echoed
            for target in (await s.say(s.channel_id, "", attachments=[IMAGE]),
                           await s.say(s.channel_id, f"<@{someone['id']}> <:wave:123456>")):
                rec = await (await s.interact_message(NAME, target)).answered()
                assert rec.ephemeral and rec.response_type == 4
                assert message(rec)["content"] == NO_TEXT and not message(rec)["embeds"]
            assert s.rejected == []
    run(scenario())


@pytest.mark.discord
@pytest.mark.slow
def test_the_message_command_shares_the_per_reader_limit_with_ask(tmp_path, samples, embedder):
    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:
            s = r.server
            eager, other = s.user("eager"), s.user("other")
            target = await s.say(s.channel_id, "what is speculative decoding")
            for i in range(2):
                await (await s.interact("ask", {"question": f"layer skip {i}"}, user=eager)).answered()
                await (await s.interact_message(NAME, target, user=eager)).answered()
            refused = await (await s.interact_message(NAME, target, user=eager)).answered()
            assert refused.ephemeral and "try again in" in message(refused)["content"]
            assert not message(refused)["embeds"]
            ok = message(await (await s.interact_message(NAME, target, user=other)).answered())
            assert ok["embeds"]  # another reader is not held back
    run(scenario())


@pytest.mark.discord
@pytest.mark.slow
def test_while_the_first_index_runs_the_message_command_says_so(tmp_path, samples, embedder):
    catalog = tmp_path / "data" / "catalog.sqlite3"
    made = Catalog(catalog)  # as after an earlier start that was stopped before indexing
    made.set_meta("model", embedder.identity)
    made.close()
    blocker = sqlite3.connect(catalog, timeout=30, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # the first index cannot record anything until the test lets it

    async def scenario():
        async with running_bot(tmp_path, samples, embedder, prebuilt=False, settle=False) as r:
            s = r.server
            target = await s.say(s.channel_id, "what is layer skip")
            rec = await (await s.interact_message(NAME, target)).answered()  # the deferred message, edited
            assert rec.ephemeral and "Indexing the archive is under way" in message(rec)["content"]
            blocker.execute("ROLLBACK")
    try:
        run(scenario())
    finally:
        blocker.close()


@pytest.mark.discord
@pytest.mark.slow
def test_a_failing_search_tells_the_reader_privately_naming_the_command(tmp_path, samples, embedder, caplog):
    from tests.test_command_errors import BrokenRetriever, handler_lines

    caplog.set_level(logging.INFO)

    async def scenario():
        async with running_bot(tmp_path, samples, embedder, retriever_class=BrokenRetriever) as r:
            s = r.server
            rec = await (await s.interact_message(NAME, await s.say(s.channel_id, "what is layer skip"))).answered()
            assert rec.ephemeral and message(rec)["content"] == (
                "Sorry, something went wrong with “Search back issues”. The server's log has the details.")
            lines = handler_lines(caplog)
            assert len(lines) == 1 and "“Search back issues” from user" in lines[0].getMessage()
    run(scenario())
