"""/reindex (administrators only) and /status."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.admin.render import reindex_reply, status_embed
from bot.announce.ledger import AnnounceLedger
from bot.command_tree import Refusal
from bot.discord_text import NO_PINGS
from bot.feedback.ledger import QuestionLedger
from bot.jobs import ReindexRunner
from bot.settings import Settings
from bot.status import status_data, week_counts
from index.store.catalog import Catalog

log = logging.getLogger(__name__)


class AdminCog(commands.Cog):
    def __init__(self, runner: ReindexRunner, settings: Settings, catalog: Catalog, started: dt.datetime,
                 announce_state: AnnounceLedger | None = None, record: QuestionLedger | None = None) -> None:
        self.announce_state = announce_state
        self.record = record  # the question record, for the last 7 days' counts; None: nothing is recorded
        self.runner = runner
        self.settings = settings
        self.catalog = catalog
        self.started = started

    @app_commands.command(name="reindex", description="Index new and changed issues now (administrators)")
    @app_commands.describe(full="Rebuild the whole index from scratch")
    @app_commands.default_permissions(administrator=True)
    @app_commands.checks.has_permissions(administrator=True)  # default_permissions only hides the command
    @app_commands.guild_only()
    async def reindex(self, interaction: discord.Interaction, full: bool = False) -> None:
        future = self.runner.start(full=full, requested_by=str(interaction.user))
        if future is None:
            job = self.runner.running
            since = f" since {job.started:%H:%M:%S} UTC" if job else ""
            raise Refusal(f"A reindex is already running{since}; I won't start a second one. Try again when it is done.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            summary = await self.runner.wait(future)
            text = reindex_reply(summary)
        except Exception as exc:  # not the error handler's: the job logged it, and the reason is for the admin
            text = f"The reindex failed: {exc}"
        try:
            await interaction.edit_original_response(content=text, allowed_mentions=NO_PINGS)
        except discord.HTTPException:  # the interaction token lasts 15 minutes; a long rebuild outlives it
            log.info("reindex finished after the interaction expired; summary only in the log")

    @app_commands.command(name="status", description="What the archive index holds")
    async def status(self, interaction: discord.Interaction) -> None:
        data = await asyncio.to_thread(status_data, self.settings, self.catalog)
        # the ledger is SQLite or (server mode) the Chroma server: never on the event loop
        problems = await asyncio.to_thread(self.announce_state.problems) if self.announce_state is not None else []
        week = await asyncio.to_thread(week_counts, self.record) if self.record is not None else None
        embed = status_embed(data, uptime=dt.datetime.now(dt.timezone.utc) - self.started, runner=self.runner,
                             problems=problems, week=week)
        await interaction.response.send_message(embed=embed, allowed_mentions=NO_PINGS)
