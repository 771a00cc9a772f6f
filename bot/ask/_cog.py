"""/ask: read the interaction, search off the event loop, render. Thin by design."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence

import discord
from discord import app_commands
from discord.ext import commands

from bot.ask.answering import Answering
from bot.ask.buttons import AnswerButtons
from bot.channels import ChannelRules
from bot.command_tree import Refusal
from bot.discord_text import CHOICE_MAX, CHOICES_MAX, clip
from bot.feedback.ledger import QuestionLedger
from bot.jobs import ReindexRunner
from bot.paid import PaidRoles
from bot.ratelimit import limited
from index.search.retriever import MAX_K, BackwardsRange, Filters, Retriever, parse_day
from index.store.catalog import Catalog


def _day(value: str | None, name: str) -> dt.date | None:
    try:
        return parse_day(value.strip() if value else None)
    except ValueError:
        raise Refusal(f"`{name}` must be a date like 2024-10-26.") from None


class AskCog(commands.Cog):
    def __init__(self, retriever: Retriever, catalog: Catalog, sources: Sequence[str], *,
                 runner: ReindexRunner | None = None, record: QuestionLedger | None = None,
                 buttons: AnswerButtons | None = None, channels: ChannelRules | None = None,
                 paid: PaidRoles | None = None) -> None:
        self.runner = runner
        self.channels = channels or ChannelRules()  # [[channels]]: a channel's default source
        self.buttons = buttons
        self.record = record
        self.retriever = retriever
        self.answering = Answering(retriever, runner, record, buttons, paid or PaidRoles())
        self.catalog = catalog
        self.sources = list(sources)

    def _filters(self, source: str | None, issue: str | None, since: str | None, until: str | None) -> Filters:
        try:
            # a choice's value is at most CHOICE_MAX long: a title that long was cut, so it names the issue's start
            filters = Filters(source=source or None, issue=issue or None, since=_day(since, "since"),
                              until=_day(until, "until"), issue_title_prefix=len(issue or "") == CHOICE_MAX)
        except BackwardsRange as exc:
            raise Refusal(f"The date range is backwards: `since` ({exc.since}) comes after `until` ({exc.until}). "
                          "Swap them and ask again.") from None
        if source and source not in self.sources:
            raise Refusal(f"There is no newsletter called `{discord.utils.escape_markdown(source)}` here. "
                          f"Sources: {', '.join(self.sources)}.")
        return filters

    @app_commands.command(name="ask", description="Ask a question about the newsletter's past issues")
    # installable to a server and to a reader's own account: then /ask works in DMs with the bot and anywhere
    @app_commands.allowed_installs(guilds=True, users=True)
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    @limited()  # the bot's per-reader limit, shared with every other way of asking
    @app_commands.describe(
        question="What you want to know",
        source="Only this newsletter",
        issue="Only this issue",
        since="Only issues from this date on (YYYY-MM-DD)",
        until="Only issues up to this date (YYYY-MM-DD)",
        results="How many sections to show (1-10, default 3)",
        private="Only you see the answer",
    )
    async def ask(
        self,
        interaction: discord.Interaction,
        question: app_commands.Range[str, 1, 2000],
        source: str | None = None,
        issue: str | None = None,
        since: str | None = None,
        until: str | None = None,
        results: app_commands.Range[int, 1, MAX_K] = 3,
        private: bool = False,
    ) -> None:
        filters = self._filters(source, issue, since, until)
        # the channel's default source, unless the reader named one; the answer stays the interaction's reply,
        # also in a channel whose mentions get a thread each
        default = None if source else self.channels.place_of(interaction.channel, interaction.channel_id).source
        await interaction.response.defer(ephemeral=private, thinking=True)
        await self.answering.answer(interaction, question, filters, entry="ask", results=results, private=private,
                                    default_source=default)

    @ask.autocomplete("issue")
    async def _issue_choices(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        needle = current.strip().lower()
        choices: list[app_commands.Choice[str]] = []
        for _source, path, title, date in await asyncio.to_thread(self.catalog.issue_titles):
            if needle and needle not in title.lower() and needle not in path.lower():
                continue
            label = clip(f"{title} ({date})" if date else title, CHOICE_MAX)
            value = path if len(path) <= CHOICE_MAX else title[:CHOICE_MAX]  # a title cut: /ask takes it as a prefix
            choices.append(app_commands.Choice(name=label, value=value))
            if len(choices) == CHOICES_MAX:
                break
        return choices

    @ask.autocomplete("source")
    async def _source_choices(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=s, value=s) for s in self.sources if current.lower() in s.lower()][:CHOICES_MAX]
