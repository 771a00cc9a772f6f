"""/gaps (administrators only): the coverage-gaps report, as `bot gaps` shows it, privately in Discord."""

from __future__ import annotations

import asyncio

import discord
import numpy as np
from discord import app_commands
from discord.ext import commands

from bot.command_tree import Refusal
from bot.discord_text import NO_PINGS
from bot.feedback.embeds import gaps_embed
from bot.feedback.record import FILE_NAME, QuestionRecord
from bot.feedback.report import BadPeriod, Report, build_report, period_bounds
from bot.settings import Settings
from index.search.retriever import Retriever


class GapsCog(commands.Cog):
    def __init__(self, settings: Settings, retriever: Retriever) -> None:
        self.settings = settings
        self.retriever = retriever

    def _report(self, start: float | None, end: float | None) -> Report:
        if not (self.settings.data_dir / FILE_NAME).exists():
            return Report(0, 0, (), ())
        record = QuestionRecord(self.settings.data_dir, keep_days=self.settings.feedback.keep_days)

        def encode(texts: list[str]) -> np.ndarray:  # questions kept without a vector: one model, so not beside a search
            with self.retriever.exclusive():
                return self.retriever.embedder.encode(texts)
        try:
            return build_report(record.entries(start, end),
                                lambda entries: record.vectors(entries, self.retriever.embedder.identity, encode))
        finally:
            record.close()

    @app_commands.command(name="gaps", description="What readers asked that the archive did not answer (administrators)")
    @app_commands.describe(since="Only questions asked from this day on (YYYY-MM-DD, UTC)",
                           until="Only questions asked up to this day (YYYY-MM-DD, UTC)")
    @app_commands.default_permissions(administrator=True)
    @app_commands.checks.has_permissions(administrator=True)  # default_permissions only hides the command
    @app_commands.guild_only()
    async def gaps(self, interaction: discord.Interaction, since: app_commands.Range[str, 1, 40] | None = None,
                   until: app_commands.Range[str, 1, 40] | None = None) -> None:
        if not self.settings.feedback.enabled:
            raise Refusal("Questions are not recorded here ([feedback] enabled = false), so there are no gaps to show.")
        try:
            first, last, start, end = period_bounds(since, until, ("since", "until"))
        except BadPeriod as exc:
            raise Refusal(f"{str(exc).capitalize()}.") from None
        await interaction.response.defer(ephemeral=True, thinking=True)
        report = await asyncio.to_thread(self._report, start, end)
        await interaction.edit_original_response(embed=gaps_embed(report, first, last), allowed_mentions=NO_PINGS)


