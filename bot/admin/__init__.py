"""Admin features: /reindex and /status."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.client import BackissueBot


async def setup(bot: BackissueBot) -> None:
    """Add /reindex (administrators) and /status (the index, the reindex job, the announcer's trouble,
    the last 7 days' questions)."""
    from bot.admin._cog import AdminCog  # here, not above: importing bot.admin.render stays light

    await bot.add_cog(AdminCog(bot.runner, bot.settings, bot.reader, bot.started, bot.announce_state,
                               bot.record))
