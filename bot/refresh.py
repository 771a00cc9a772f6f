"""Follow the sources: every ``[index] refresh_seconds``, index what changed (folders by the no-change scan,
git sources by fetch). The announcer, when configured, rides on the same loop (bot/announce/_cog.py)."""

from __future__ import annotations

import logging

from discord.ext import commands, tasks

from bot.jobs import ReindexRunner
from index.store.locks import StoreBusy

log = logging.getLogger(__name__)


class RefreshCog(commands.Cog):
    def __init__(self, bot: commands.Bot, runner: ReindexRunner, interval: float) -> None:
        self.bot = bot
        self.runner = runner
        self._first = True
        self.loop.change_interval(seconds=interval)

    async def cog_load(self) -> None:
        self.loop.start()

    async def cog_unload(self) -> None:
        self.loop.cancel()

    async def refresh(self) -> None:
        """Index what changed; when a reindex is already running (the one at start, a /reindex), wait for it."""
        future = self.runner.start(requested_by="refresh", force_fetch=False) or self.runner.current
        if future is not None:
            try:
                await self.runner.wait(future)
            except StoreBusy:  # server mode: another process is writing; logged by the runner
                pass
            except Exception:  # logged by the runner
                log.warning("refreshing the index failed; trying again next interval")

    async def tick(self) -> object:
        await self.refresh()
        return None

    @tasks.loop(seconds=60)
    async def loop(self) -> None:
        if self._first:  # the reindex begun at start covers the first interval
            self._first = False
            return
        try:
            await self.tick()
        except Exception:
            log.exception("refreshing failed; trying again next interval")

    @loop.before_loop
    async def _ready(self) -> None:
        await self.bot.wait_until_ready()
