"""Ask by mention, follow up by reply or in the thread of an answer: the cog and the pure parts it uses."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.client import BackissueBot


async def setup(bot: BackissueBot) -> None:
    """Answer mentions and follow-ups, with the conversations kept in the data folder, the shared reader limit and
    the bot's one question record."""
    from bot.ask.buttons import COG_NAME, AnswerButtons
    from bot.channels import ChannelRules
    from bot.converse._cog import ConverseCog  # here, not above: as the other features do
    from bot.converse.state import open_conversations

    s = bot.settings
    store = await asyncio.to_thread(open_conversations, s.data_dir)
    buttons = bot.get_cog(COG_NAME)  # bot.ask's, when that feature runs (before this one)
    await bot.add_cog(ConverseCog(bot, bot.retriever, store, bot.limit, runner=bot.runner, record=bot.record,
                                  plain_in_threads=s.discord.message_content,
                                  announcements=bot.announce_state,
                                  buttons=buttons if isinstance(buttons, AnswerButtons) else None,
                                  channels=ChannelRules.of(s.channels), paid=bot.paid))
