"""/ask and the message command "Search back issues": the cogs and the pure rendering of answers into Discord
messages."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.client import BackissueBot


async def setup(bot: BackissueBot) -> None:
    """Add /ask and the message command, searching with the bot's retriever and reader and recording in the
    bot's one question record; each reader may ask ``ask_rate`` questions per ``ask_per_seconds``, however
    they ask (``bot.limit``)."""
    from bot.ask._cog import AskCog  # here, not above: importing bot.ask.render stays light
    from bot.ask.message import MessageSearchCog
    from bot.channels import ChannelRules

    s = bot.settings
    # the buttons under every answer (/ask's and the conversations'): their records share the conversation store
    from bot.ask.buttons import DYNAMIC_ITEMS, AnswerButtons
    from bot.converse.state import open_conversations

    store = await asyncio.to_thread(open_conversations, s.data_dir)
    votes = None
    if bot.record is not None:  # [feedback] enabled: 👍 / 👎 on every answer, kept in the question record
        from bot.feedback._vote_cog import AnswerVotes

        votes = AnswerVotes(bot.record, store)
        await bot.add_cog(votes)
    buttons = AnswerButtons(bot.retriever, store, bot.limit, votes, paid=bot.paid)
    await bot.add_cog(buttons)
    bot.add_dynamic_items(*DYNAMIC_ITEMS)  # a button pressed after a restart is found again by its custom_id
    await bot.add_cog(AskCog(bot.retriever, bot.reader, [x.name for x in s.sources], runner=bot.runner,
                             record=bot.record, buttons=buttons, channels=ChannelRules.of(s.channels), paid=bot.paid))
    await bot.add_cog(MessageSearchCog(bot.tree, bot.retriever, runner=bot.runner, record=bot.record,
                                       buttons=buttons, channels=ChannelRules.of(s.channels), paid=bot.paid))
