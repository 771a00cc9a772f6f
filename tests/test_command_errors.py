"""The one error handler, through the Discord API test server: what the reader sees, and the one log line."""

from __future__ import annotations

import asyncio
import logging

import pytest

from index.search.retriever import Retriever
from tests.discord_api.limits import EPHEMERAL, LOADING
from tests.discord_harness import running_bot

pytestmark = [pytest.mark.discord, pytest.mark.slow]
HANDLER = "bot.command_tree"


class BrokenRetriever(Retriever):
    """A store that fails mid-search (a disk error, a server gone away)."""

    def search(self, *args, **kwargs):
        raise RuntimeError("the vector store's disk is on fire")


def handler_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == HANDLER]


def library_errors(caplog) -> list[logging.LogRecord]:
    """discord.py's own "Ignoring exception in command" lines: the handler replaces them."""
    return [r for r in caplog.records if r.name.startswith("discord.app_commands")]


def test_a_failing_search_replaces_the_thinking_message_and_logs_one_traceback(tmp_path, samples, embedder, caplog):
    caplog.set_level(logging.INFO)

    async def scenario():
        async with running_bot(tmp_path, samples, embedder, retriever_class=BrokenRetriever) as r:
            for private in (False, True):
                caplog.clear()
                rec = await (await r.server.interact("ask", {"question": "what is layer skip",
                                                             "private": private})).answered()
                assert rec.response_type == 5 and rec.followups == []  # deferred, then the loading message edited
                msg = rec.original
                assert msg["content"] == "Sorry, something went wrong with /ask. The server's log has the details."
                assert msg["embeds"] == [] and msg["allowed_mentions"] == {"parse": []}
                assert not msg["flags"] & LOADING and rec.ephemeral is private  # the defer chose who sees it
                assert "on fire" not in str(msg)  # no internals shown to readers
                lines = handler_lines(caplog)
                assert len(lines) == 1 and lines[0].levelno == logging.ERROR
                assert "/ask from user" in lines[0].getMessage() and "failed" in lines[0].getMessage()
                assert lines[0].exc_info and isinstance(lines[0].exc_info[1], RuntimeError)
                assert library_errors(caplog) == []
            assert r.server.rejected == []
    asyncio.run(scenario())


def test_a_failure_before_any_reply_is_answered_privately(tmp_path, samples, embedder, caplog):
    caplog.set_level(logging.INFO)

    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:
            r.bot.reader.close()  # /status reads the catalog first: it cannot
            caplog.clear()
            rec = await (await r.server.interact("status", {})).answered()
            assert rec.response_type == 4 and rec.ephemeral
            assert rec.original["content"] == ("Sorry, something went wrong with /status. "
                                               "The server's log has the details.")
            lines = handler_lines(caplog)
            assert len(lines) == 1 and lines[0].levelno == logging.ERROR and lines[0].exc_info
            assert library_errors(caplog) == []
    asyncio.run(scenario())


def test_the_cooldown_is_per_reader_ends_after_its_period_and_logs_one_line(tmp_path, samples, embedder, caplog,
                                                                           monkeypatch):
    monkeypatch.setenv("BACKISSUE_DISCORD__ASK_RATE", "2")
    monkeypatch.setenv("BACKISSUE_DISCORD__ASK_PER_SECONDS", "3")
    caplog.set_level(logging.INFO)

    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:
            eager, other = r.server.user("eager"), r.server.user("other")

            async def ask(user):
                return await (await r.server.interact("ask", {"question": "what is layer skip"}, user=user)).answered()

            first = [await ask(eager), await ask(eager)]
            assert all(rec.response_type == 5 for rec in first)
            caplog.clear()
            refused = await ask(eager)
            assert refused.response_type == 4 and refused.ephemeral and refused.original["flags"] & EPHEMERAL
            content = refused.original["content"]
            assert content.startswith("You're asking faster than I can look things up — try again in ")
            assert int(content.rsplit("in ", 1)[1].split(" ")[0]) in (1, 2, 3)
            lines = handler_lines(caplog)
            assert len(lines) == 1 and lines[0].levelno == logging.INFO and not lines[0].exc_info
            assert "/ask from user" in lines[0].getMessage() and "cooldown" in lines[0].getMessage()
            assert (await ask(other)).response_type == 5  # another reader is not held up
            await asyncio.sleep(3.2)
            again = await ask(eager)
            assert again.response_type == 5
            for _ in range(100):
                if again.original["embeds"]:
                    break
                await asyncio.sleep(0.1)
            assert again.original["embeds"]
    asyncio.run(scenario())


def test_refusals_and_missing_permissions_are_one_line_without_a_traceback(tmp_path, samples, embedder, caplog):
    caplog.set_level(logging.INFO)

    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:
            cases = [
                ("reindex", {}, "Only server administrators can use /reindex."),
                ("ask", {"question": "x", "since": "last week"}, "`since` must be a date like 2024-10-26."),
                ("ask", {"question": "x", "source": "@everyone **nope**"}, "There is no newsletter called"),
            ]
            for name, options, said in cases:
                caplog.clear()
                rec = await (await r.server.interact(name, options)).answered()
                assert rec.response_type == 4 and rec.ephemeral and said in rec.original["content"]
                assert rec.original["allowed_mentions"] == {"parse": []}
                lines = handler_lines(caplog)
                assert len(lines) == 1 and lines[0].levelno == logging.INFO and not lines[0].exc_info, name
                assert f"/{name} from user" in lines[0].getMessage() and "refused" in lines[0].getMessage()
            assert "\\*\\*nope\\*\\*" in rec.original["content"]  # the reader's text shown inert
            assert r.runner.running is None
    asyncio.run(scenario())
