"""The Discord client: registers the cogs and the commands; services come in from `bot run`."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import logging
import secrets

import discord
from discord.ext import commands, tasks

from bot.admin._cog import AdminCog
from bot.announce._cog import AnnounceCog
from bot.announce.discord_poster import DiscordPoster
from bot.announce.engine import Announcer, Target
from bot.announce.ledger import AnnounceLedger
from bot.ask._cog import AskCog
from bot.control import ControlServer
from bot.converse._cog import add_converse
from bot.health import write_health
from bot.jobs import ReindexRunner
from bot.ratelimit import ReaderLimit
from bot.refresh import RefreshCog
from bot.settings import Settings
from index.search.retriever import Retriever
from index.store.catalog import Catalog
from index.store.server.leases import Leases, holder_id

log = logging.getLogger(__name__)


def announce_targets(settings: Settings) -> list[Target]:
    specs = {spec.name: spec for spec in settings.source_specs()}
    return [Target(specs[s.name], s.announce_channel_id, s.announce_role_id, s.crosspost)
            for s in settings.sources if s.announce_channel_id]


class BackissueBot(commands.Bot):
    def __init__(self, *, settings: Settings, retriever: Retriever, reader: Catalog, runner: ReindexRunner,
                 announce_state: AnnounceLedger | None = None, leases: Leases | None = None) -> None:
        intents = discord.Intents.none()
        intents.guilds = True  # no privileged intents: slash commands need none
        intents.guild_messages, intents.message_content = True, settings.discord.message_content  # bot.converse
        super().__init__(command_prefix=commands.when_mentioned, intents=intents, help_command=None,
                         allowed_mentions=discord.AllowedMentions.none())
        self.settings = settings
        self.retriever = retriever
        self.reader = reader
        self.runner = runner
        self.control = ControlServer(settings.control_socket, runner, retriever)
        self.started = dt.datetime.now(dt.timezone.utc)
        self.announce_state = announce_state
        self.announcer: Announcer | None = None
        self.leases = leases  # server mode: leases beside the index
        self.limit = ReaderLimit(settings.discord.ask_rate, settings.discord.ask_per_seconds)  # every way of asking

    async def setup_hook(self) -> None:
        s = self.settings
        await self.add_cog(AskCog(self.retriever, self.reader, [x.name for x in s.sources],
                                  runner=self.runner, limit=self.limit))
        await add_converse(self, self.retriever, self.limit, self.runner)
        await self.add_cog(AdminCog(self.runner, s, self.reader, self.started, self.announce_state))
        targets = announce_targets(s)
        if targets and self.announce_state is not None:
            self.announcer = Announcer(self.reader, self.announce_state, DiscordPoster(self), targets,
                                       backfill=s.announce.backfill, on_edit=s.announce.on_edit)
            # announcing rides on the refresh loop: each tick indexes what changed, then announces; it ticks
            # often enough for both settings
            interval = min(x for x in (s.index.refresh_seconds, s.announce.interval_seconds) if x)
            lease = release = None
            if self.leases is not None:  # several processes share the index: one of them announces
                # this bot instance: holder_id() names the process, and one process may run several bots
                leases, name = self.leases, f"announcer:{self.application_id}"
                holder = f"{holder_id()}:{secrets.token_hex(4)}"
                lease = lambda: leases.acquire(name, holder, ttl=max(3 * interval, 180.0), settle=0.3)  # noqa: E731
                release = lambda: leases.release(name, holder)  # noqa: E731
            await self.add_cog(AnnounceCog(self, self.announcer, self.runner, interval, lease=lease, release=release))
        elif s.index.refresh_seconds:
            await self.add_cog(RefreshCog(self, self.runner, s.index.refresh_seconds))
        # what is new or changed in the sources is indexed right away, on the reindex thread
        self.runner.start(requested_by="start", force_fetch=True)
        # load the model and the keyword index before the first question, off the event loop
        await asyncio.to_thread(self.retriever.warm_up)
        # A full garbage collection walks every object and holds the interpreter meanwhile: with the model,
        # the libraries and the keyword index loaded, that is 0.4-0.9 s of a stalled event loop each time
        # (benchmarks/bench_stall.py --debug). What is loaded now lives as long as the process: leave it out.
        gc.freeze()
        await self.control.start()
        if s.discord.dev_guild_id:
            guild = discord.Object(id=s.discord.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to development guild %s", len(synced), s.discord.dev_guild_id)
        else:
            synced = await self.tree.sync()
            log.info("synced %d global commands (Discord may take a while to show them)", len(synced))

    async def on_message(self, message: discord.Message) -> None:
        """No text commands: a mention is a question (bot.converse), never a command name."""

    async def on_ready(self) -> None:
        log.info("connected as %s to %d servers", self.user, len(self.guilds))
        if not self._health.is_running():
            self._health.start()

    @tasks.loop(seconds=30)
    async def _health(self) -> None:
        """Tell `bot health` (the container's HEALTHCHECK) that this process is connected to Discord."""
        # a write of a few bytes to a local file, kept on the loop: a thread could land it after close()'s
        write_health(self.settings.health_path, connected=self.is_ready() and not self.is_closed(),
                     latency=self.latency)

    async def close(self) -> None:
        if self._health.is_running():
            self._health.cancel()
        write_health(self.settings.health_path, connected=False, latency=None)
        await self.control.stop()
        await super().close()
