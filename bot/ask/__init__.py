"""The /ask feature: the cog and the pure rendering of answers into Discord messages."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.client import BackissueBot


async def setup(bot: BackissueBot) -> None:
    """Add /ask, searching with the bot's retriever and reader; each reader may ask ``ask_rate`` questions per
    ``ask_per_seconds``, however they ask (``bot.limit``)."""
    from bot.ask._cog import AskCog  # here, not above: importing bot.ask.render stays light

    s = bot.settings
    record = None
    if s.feedback.enabled:
        from bot.feedback.record import QuestionRecord

        record = await asyncio.to_thread(QuestionRecord, s.data_dir, keep_days=s.feedback.keep_days,
                                         vector_of=bot.retriever.vector_of, model=bot.retriever.embedder.identity)
    await bot.add_cog(AskCog(bot.retriever, bot.reader, [x.name for x in s.sources], runner=bot.runner,
                             record=record))
