"""Ask from anywhere: /ask and the message command are installable to a reader's account, so /ask works in a DM
with the bot and in other DMs; the administrators' commands stay in servers."""

from __future__ import annotations

import asyncio

import pytest

from tests.discord_api.interactions import BOT_DM, GUILD_INSTALL, PRIVATE_CHANNEL, USER_INSTALL
from tests.discord_harness import cited_section, running_bot
from tests.test_discord import LAYERSKIP_URL, message

pytestmark = [pytest.mark.discord, pytest.mark.slow]


def test_ask_in_a_dm_through_a_user_install_and_admin_commands_only_in_servers(tmp_path, samples, embedder):
    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:
            s = r.server
            registered = {c["name"]: c for cmds in s.commands.values() for c in cmds}
            assert registered["ask"]["integration_types"] == [0, 1]
            assert registered["ask"]["contexts"] == [0, 1, 2]
            assert registered["Search back issues"]["integration_types"] == [0, 1]
            assert registered["reindex"]["contexts"] == [0]  # never in DMs
            reader = s.user("reader")
            for context in (BOT_DM, PRIVATE_CHANNEL):
                rec = await (await s.interact("ask", {"question": "what is layer skip"}, user=reader,
                                              context=context, installs=(USER_INSTALL,))).answered()
                answer = message(rec)
                assert answer["channel_id"] == rec.channel_id != s.channel_id
                assert cited_section(answer["embeds"][0]) == LAYERSKIP_URL and rec.errors == []
            with pytest.raises(ValueError, match="would not offer"):
                await s.interact("reindex", {}, user=reader, admin=True, context=BOT_DM,
                                 installs=(GUILD_INSTALL, USER_INSTALL))
            assert s.rejected == []
    asyncio.run(scenario())
