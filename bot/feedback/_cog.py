"""/gaps (administrators only): the coverage-gaps report, as `bot gaps` shows it, privately in Discord."""

from __future__ import annotations

import asyncio

import discord
from discord import app_commands
from discord.ext import commands

from bot.command_tree import Refusal
from bot.discord_text import NO_PINGS
from bot.feedback.embeds import gaps_embed
from bot.feedback.gather import gaps_report
from bot.feedback.ledger import QuestionLedger
from bot.feedback.report import BadPeriod, period_bounds
from bot.settings import Settings
from index.search.retriever import Retriever


class GapsCog(commands.Cog):
    def __init__(self, settings: Settings, retriever: Retriever, record: QuestionLedger | None) -> None:
        self.settings = settings
        self.retriever = retriever
        self.record = record

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
        report, downs = await asyncio.to_thread(gaps_report, self.record, self.retriever, start, end)
        await interaction.edit_original_response(embed=gaps_embed(report, first, last, downs=downs),
                                                 allowed_mentions=NO_PINGS)


