"""Announcing each new issue exactly once: state, post rendering, the engine, and the cog that runs it."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.client import BackissueBot


async def setup(bot: BackissueBot) -> None:
    """The loop that follows the sources: announcing rides on it (each tick indexes what changed, then announces).

    With announce targets (or a weekly digest) and a ledger, the announcer (``bot.announcer``) and its loop; else, with
    ``[index] refresh_seconds``, the refresh loop alone; else nothing.
    """
    # here, not above: the host-side CLI imports bot.announce.state without discord.py's commands extension
    from bot.announce._cog import AnnounceCog
    from bot.announce.discord_poster import DiscordPoster
    from bot.announce.engine import Announcer, Target
    from bot.refresh import RefreshCog
    from index.store.server.leases import holder_id

    s = bot.settings
    specs = {spec.name: spec for spec in s.source_specs()}
    targets = [Target(specs[src.name], src.announce_channel_id, src.announce_role_id, src.crosspost)
               for src in s.sources if src.announce_channel_id]
    # the weekly digest ([feedback] digest_channel_id) goes through the announcer too (bot.feedback adds it)
    if (targets or s.feedback.digest_channel_id) and bot.announce_state is not None:
        bot.announcer = Announcer(bot.reader, bot.announce_state, DiscordPoster(bot), targets,
                                  backfill=s.announce.backfill, on_edit=s.announce.on_edit)
        # it ticks often enough for both settings
        interval = min(x for x in (s.index.refresh_seconds, s.announce.interval_seconds) if x)
        lease = release = None
        if bot.leases is not None:  # several processes share the index: one of them announces
            # this bot instance: holder_id() names the process, and one process may run several bots
            leases, name = bot.leases, f"announcer:{bot.application_id}"
            holder = f"{holder_id()}:{secrets.token_hex(4)}"
            lease = lambda: leases.acquire(name, holder, ttl=max(3 * interval, 180.0), settle=0.3)  # noqa: E731
            release = lambda: leases.release(name, holder)  # noqa: E731
        await bot.add_cog(AnnounceCog(bot, bot.announcer, bot.runner, interval, lease=lease, release=release))
    elif s.index.refresh_seconds:
        await bot.add_cog(RefreshCog(bot, bot.runner, s.index.refresh_seconds))
