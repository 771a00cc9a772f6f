"""The message command "Search back issues" (a message's context menu → Apps): that message's text asked as a
question, answered privately, as /ask answers (same retriever, rendering and per-reader limit).

Discord hands a message command the target's content even without the Message Content intent
("Content of the message a message context menu command is used on"), so this needs no privileged intent.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.ask.answering import Answering
from bot.ask.buttons import AnswerButtons
from bot.channels import ChannelRules
from bot.discord_text import NO_PINGS, clip, message_text
from bot.feedback.ledger import QuestionLedger
from bot.jobs import ReindexRunner
from bot.paid import PaidRoles
from bot.ratelimit import limited
from index.search.query import read_question
from index.search.retriever import Filters, Retriever

NAME = "Search back issues"  # a message command's name: mixed case and spaces allowed, 1-32 characters
ENTRY = "message"  # how the question record names this way of asking
QUESTION_MAX = 2000  # as /ask's question; a message may hold up to 4000 characters
RESULTS = 3
NO_TEXT = ("That message has no text I can search for (only an image, an embed, a mention, emoji or a link) — "
           "try `/ask` with a question in your own words.")


def message_question(content: str) -> str:
    """What a message asks (``bot.discord_text.message_text``); "" when nothing is left to search for."""
    text = clip(message_text(content), QUESTION_MAX)
    return "" if read_question(text).empty else text


class MessageSearchCog(commands.Cog):
    def __init__(self, tree: app_commands.CommandTree, retriever: Retriever, *,
                 runner: ReindexRunner | None = None, record: QuestionLedger | None = None,
                 buttons: AnswerButtons | None = None, channels: ChannelRules | None = None,
                 paid: PaidRoles | None = None) -> None:
        self.tree = tree
        self.channels = channels or ChannelRules()  # the target message's channel: its default source first
        self.buttons = buttons  # More results and Share, as under /ask's private answers
        self.retriever = retriever
        self.runner = runner
        self.record = record
        self.answering = Answering(retriever, runner, record, buttons, paid or PaidRoles())
        # discord.py has no decorator for a context menu inside a cog: it is made here and added on load
        self.menu = app_commands.ContextMenu(
            name=NAME, callback=self.search_message, type=discord.AppCommandType.message,
            allowed_installs=app_commands.AppInstallationType(guild=True, user=True),  # as /ask
            allowed_contexts=app_commands.AppCommandContext(guild=True, dm_channel=True, private_channel=True))

    async def cog_load(self) -> None:
        self.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        self.tree.remove_command(self.menu.name, type=self.menu.type)

    @limited()  # the bot's per-reader limit, shared with every other way of asking
    async def search_message(self, interaction: discord.Interaction, message: discord.Message) -> None:
        question = message_question(message.content)
        if not question:
            await interaction.response.send_message(NO_TEXT, ephemeral=True, allowed_mentions=NO_PINGS)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        default = self.channels.place_of(message.channel, message.channel.id).source
        await self.answering.answer(interaction, question, Filters(), entry=ENTRY, results=RESULTS, private=True,
                                    default_source=default)
