"""Answering an interaction that asks a question (/ask, the message command): search off the event loop, the
channel's source first when it has one, record it, render, add the indexing notice and the buttons, reply."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import discord

from bot.ask.buttons import AnswerButtons
from bot.ask.render import render_answer
from bot.converse.about import in_source_first
from bot.converse.state import AnswerState
from bot.discord_text import CONTENT_MAX, NO_PINGS, clip
from bot.feedback.ledger import QuestionLedger
from bot.jobs import ReindexRunner, indexing_notice
from bot.paid import PaidRoles
from index.search.retriever import Filters, Retriever


@dataclass(frozen=True)
class Answering:
    retriever: Retriever
    runner: ReindexRunner | None = None
    record: QuestionLedger | None = None
    buttons: AnswerButtons | None = None
    paid: PaidRoles = field(default_factory=PaidRoles)

    async def answer(self, interaction: discord.Interaction, question: str, filters: Filters, *, entry: str,
                     results: int, private: bool, default_source: str | None) -> None:
        """Answer the deferred ``interaction``; ``default_source``: search it first (a channel's source)."""
        # a failing search reaches the command tree's error handler: it tells the reader and logs it once
        question_id = None
        lead = ""
        if default_source is None:
            answer = await asyncio.to_thread(self.retriever.search, question, results, filters)
        else:
            answer, filters, lead = await asyncio.to_thread(
                in_source_first, lambda f: self.retriever.search(question, results, f), default_source, filters)
        if self.record is not None:
            question_id = await asyncio.to_thread(self.record.add, entry, interaction.user.id, question, filters,
                                                  answer)
        # a paid post is quoted to a member with its role, seen by them alone (or in a members' channel)
        rendered = render_answer(answer, unlocked=self.paid.unlocked(interaction.user, private=private,
                                                                     channel=interaction.channel))
        if lead:
            rendered.content = clip(f"{lead}\n{rendered.content}", CONTENT_MAX)
        notice = indexing_notice(self.runner) if self.runner is not None else None
        if notice:
            rendered.content = clip(f"{rendered.content}\n*{notice}*", CONTENT_MAX)
        view = None
        if self.buttons is not None:
            view = await self.buttons.attach(answer, AnswerState(
                question=question, filters=filters, per_page=results, shown=len(rendered.embeds),
                asker=self.buttons.store.reader(interaction.user.id), private=private, question_id=question_id))
        await interaction.edit_original_response(content=rendered.content, embeds=rendered.embeds, view=view,
                                                 allowed_mentions=NO_PINGS)
