"""The weekly digest: the past week's coverage gaps, posted once a week to an admin channel.

It rides on the announcer (``Announcer.jobs``): its tick, its lease in server mode, its ledger and its exactly-once
path (``Announcer.deliver``). Each week's digest is a post keyed (``DIGEST``, "2026-W49": the ISO week of the day it
is due) in the announce ledger: pending with a nonce before it is sent, posted once Discord took it; a retry first
looks for the earlier attempt by the embed's footer, which is that key. At the first start the latest due week is
recorded as done, so no digest is posted for the weeks before the bot ran; a week without questions gets none.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Sequence

from bot.announce.engine import Announcer, Delivery, Report
from bot.announce.post import nonce_for
from bot.feedback.embeds import digest_post
from bot.feedback.report import Report as GapsReport

log = logging.getLogger(__name__)
DIGEST = "#digest"  # the ledger's first key for digests: no source can be named so (a name starts with a letter or digit)
WEEK = dt.timedelta(days=7)


def due(now: float, weekday: int, hour: int) -> dt.datetime:
    """The latest time a digest was due at or before ``now`` (POSIX): ``weekday`` (0 Monday) at ``hour`` UTC."""
    t = dt.datetime.fromtimestamp(now, dt.timezone.utc)
    day = t.date() - dt.timedelta(days=(t.weekday() - weekday) % 7)
    at = dt.datetime.combine(day, dt.time(hour), dt.timezone.utc)
    return at - WEEK if at > t else at


def week_key(at: dt.datetime) -> str:
    year, week, _ = at.isocalendar()
    return f"{year}-W{week:02d}"


def due_in(key: str, weekday: int, hour: int) -> dt.datetime:
    """When the digest of week ``key`` ("2026-W49") is due."""
    year, week = key.split("-W")
    day = dt.date.fromisocalendar(int(year), int(week), weekday + 1)
    return dt.datetime.combine(day, dt.time(hour), dt.timezone.utc)


def mark(key: str) -> str:
    """The digest's footer: how a retry recognises the post among the bot's messages."""
    return f"Weekly digest {key}"


class WeeklyDigest:
    def __init__(self, announcer: Announcer, channel_id: int, weekday: int, hour: int, *,
                 asked: Callable[[float, float], int],
                 report: Callable[[float, float], tuple[GapsReport, Sequence[tuple[str, str, str]]]]) -> None:
        """``asked(start, end)``: how many questions were asked then; ``report(start, end)``: their gaps report
        and what readers said with each 👎 (question, reason, note).
        Both block (SQLite, the model): they run off the event loop."""
        self.announcer = announcer
        self.channel_id = channel_id
        self.weekday = weekday
        self.hour = hour
        self.asked = asked
        self.report = report

    async def __call__(self, report: Report) -> None:
        """One tick: record this week's digest as pending once it is due, then post what is pending."""
        state, clock = self.announcer.state, self.announcer.clock
        at = due(clock(), self.weekday, self.hour)
        key = week_key(at)
        if not await asyncio.to_thread(state.is_seeded, DIGEST):
            await asyncio.to_thread(state.seed, DIGEST, [(key, "seeded", "", "")])
            log.info("weekly digest: first start; the first digest comes %s UTC", f"{at + WEEK:%A %Y-%m-%d %H:%M}")
            return
        rows = await asyncio.to_thread(state.rows, DIGEST)
        if (DIGEST, key) not in rows:
            start, end = (at - WEEK).timestamp(), at.timestamp()
            if await asyncio.to_thread(self.asked, start, end) == 0:
                await asyncio.to_thread(state.mark_all, DIGEST, [(key, "")])
                log.info("weekly digest %s: no questions asked from %s to %s UTC; no digest this week", key,
                         f"{at - WEEK:%Y-%m-%d %H:%M}", f"{at:%Y-%m-%d %H:%M}")
                return
            await asyncio.to_thread(state.add_pending, DIGEST, key, nonce_for(DIGEST, key, 0), "")
            rows = await asyncio.to_thread(state.rows, DIGEST)
        for (_, week), row in sorted(rows.items()):
            if row.status != "pending" or row.next_attempt > clock():
                continue
            trouble = await asyncio.to_thread(state.channel_error, self.channel_id)
            if trouble is not None and trouble[1] > clock():
                return
            end = due_in(week, self.weekday, self.hour)
            gaps, downs = await asyncio.to_thread(self.report, (end - WEEK).timestamp(), end.timestamp())
            if not gaps.questions:  # the record lost them meanwhile (pruned, a reader forgotten, another host's)
                await asyncio.to_thread(state.mark_all, DIGEST, [(week, "")])
                log.info("weekly digest %s: no questions recorded for it any more; no digest", week)
                continue
            post = digest_post(gaps, (end - WEEK).date(), end.date(), mark(week), downs)
            if not await self.announcer.deliver(row, Delivery(DIGEST, week, self.channel_id, post, mark(week)), report):
                return  # the channel is failing: try again later
