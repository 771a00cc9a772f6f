"""What readers asked (issue 14): the question record, weak matches, coverage gaps, and /gaps for administrators."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.client import BackissueBot


async def setup(bot: BackissueBot) -> None:
    """Add /gaps (administrators): the coverage-gaps report over the question record."""
    from bot.feedback._cog import GapsCog  # here, not above: importing bot.feedback's pure modules stays light

    await bot.add_cog(GapsCog(bot.settings, bot.retriever))
