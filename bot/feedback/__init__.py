"""What readers asked (issue 14): the question record, weak matches, coverage gaps, and /gaps for administrators."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.client import BackissueBot

log = logging.getLogger(__name__)


async def setup(bot: BackissueBot) -> None:
    """Add /gaps (administrators): the coverage-gaps report over the question record; and with
    ``[feedback] digest_channel_id``, the weekly digest on the announcer's loop."""
    from bot.feedback._cog import GapsCog  # here, not above: importing bot.feedback's pure modules stays light

    await bot.add_cog(GapsCog(bot.settings, bot.retriever, bot.record))
    f = bot.settings.feedback
    if not f.digest_channel_id:
        return
    record = bot.record
    if record is None or bot.announcer is None:
        log.warning("[feedback] digest_channel_id is set but %s: no weekly digest",
                    "questions are not recorded ([feedback] enabled = false)" if record is None
                    else "there is no announce ledger")
        return
    from bot.feedback.digest import WeeklyDigest
    from bot.feedback.gather import gaps_report

    retriever = bot.retriever
    bot.announcer.jobs.append(WeeklyDigest(
        bot.announcer, f.digest_channel_id, f.digest_weekday, f.digest_hour,
        asked=lambda start, end: record.counts(start, end)["questions"],
        report=lambda start, end: gaps_report(record, retriever, start, end)))
    log.info("weekly digest to channel %s on weekday %d at %02d:00 UTC", f.digest_channel_id, f.digest_weekday,
             f.digest_hour)
