"""The Discord client: adds the features (each package's ``setup``), syncs their commands, reports health.

Services and the features come in from `bot run` (bot/run.py); this module imports no feature, so a
feature may name this class in its ``setup``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

import discord
from discord.ext import commands, tasks

from bot.announce.engine import Announcer
from bot.announce.ledger import AnnounceLedger
from bot.command_tree import CommandTree
from bot.control import ControlServer
from bot.discord_text import NO_PINGS
from bot.health import write_health
from bot.jobs import ReindexRunner
from bot.paid import PaidRoles
from bot.ratelimit import ReaderLimit
from bot.settings import Settings
from index.search.retriever import Retriever
from index.store.catalog import Catalog
from index.store.server.leases import Leases

if TYPE_CHECKING:
    from bot.feedback.ledger import QuestionLedger

log = logging.getLogger(__name__)

Feature = Callable[["BackissueBot"], Awaitable[None]]  # a feature package's setup: adds its cogs to the bot


class BackissueBot(commands.Bot):
    def __init__(self, *, settings: Settings, retriever: Retriever, reader: Catalog, runner: ReindexRunner,
                 announce_state: AnnounceLedger | None = None, leases: Leases | None = None,
                 record: QuestionLedger | None = None, features: Sequence[Feature] = ()) -> None:
        intents = discord.Intents.none()
        intents.guilds = True  # no privileged intents: slash commands need none
        intents.guild_messages, intents.message_content = True, settings.discord.message_content  # bot.converse
        intents.dm_messages = True  # questions in DMs with the bot (their text arrives without message_content)
        super().__init__(command_prefix=commands.when_mentioned, intents=intents, help_command=None,
                         allowed_mentions=NO_PINGS, tree_cls=CommandTree)
        self.settings = settings
        self.retriever = retriever
        self.reader = reader
        self.runner = runner
        self.control = ControlServer(settings.control_socket, runner, retriever)
        self.started = dt.datetime.now(dt.timezone.utc)
        self.announce_state = announce_state
        self.leases = leases  # server mode: leases beside the index
        self.announcer: Announcer | None = None  # set by the announce feature when it announces
        self.record = record  # the question record every way of asking writes to; None: [feedback] enabled = false
        self.limit = ReaderLimit(settings.discord.ask_rate, settings.discord.ask_per_seconds)  # every way of asking
        self.paid = PaidRoles.of(settings.sources)  # who may be quoted the paid posts of a source with include_paid
        self.features = tuple(features)

    async def setup_hook(self) -> None:
        s = self.settings
        for feature in self.features:
            await feature(self)
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
