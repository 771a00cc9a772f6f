"""Ask by mention, follow up by reply or in the thread of an answer: read the message, search off the loop, reply.

Thin by design: what a message asks is :mod:`bot.converse.addressing`, follow-up retrieval is
:mod:`index.search.followup`, the conversations are :mod:`bot.converse.state`, answers look like /ask's.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging

import discord
from discord.ext import commands

from bot.announce.ledger import AnnounceLedger
from bot.ask.buttons import AnswerButtons
from bot.ask.render import Rendered, as_plain_text, quote_question, render_answer, render_error
from bot.channels import ANYWHERE, ChannelRules, Place, thread_name
from bot.converse.about import about_issue, in_source_first
from bot.converse.addressing import HOWTO, Decision, Incoming, Kind, decide, entry
from bot.converse.state import AnswerState, Conversation, ConversationStore
from bot.discord_text import CONTENT_MAX, NO_PINGS, clip
from bot.feedback.ledger import QuestionLedger
from bot.jobs import ReindexRunner, indexing_notice
from bot.paid import PaidRoles
from bot.ratelimit import ReaderLimit, too_fast
from index.search.followup import search_followup
from index.search.retriever import Filters, Retriever

log = logging.getLogger(__name__)
PER_PAGE = 3  # sections an answer to a message shows, as /ask's default
THREAD_ARCHIVE_MINUTES = 1440  # a question's thread leaves the channel list after a day without messages


class ConverseCog(commands.Cog):
    def __init__(self, bot: commands.Bot, retriever: Retriever, store: ConversationStore, limit: ReaderLimit, *,
                 runner: ReindexRunner | None = None, record: QuestionLedger | None = None,
                 plain_in_threads: bool = False, announcements: AnnounceLedger | None = None,
                 buttons: AnswerButtons | None = None, channels: ChannelRules | None = None,
                 paid: PaidRoles | None = None) -> None:
        self.bot = bot
        self.paid = paid or PaidRoles()  # a reply is read by the channel: paid posts quoted in members' channels only
        self.channels = channels or ChannelRules()  # [[channels]]: a default source, a thread per question
        self.announcements = announcements  # a reply to an announcement (or in its thread) asks about that issue
        self.buttons = buttons  # the buttons under each answer; None: answers without buttons
        self.retriever = retriever
        self.store = store
        self.limit = limit
        self.runner = runner
        self.record = record
        self.plain_in_threads = plain_in_threads
        self._no_embeds: set[int] = set()  # channels already logged as lacking Embed Links

    async def cog_unload(self) -> None:
        self.store.close()

    def _incoming(self, me: discord.ClientUser, message: discord.Message) -> tuple[Incoming, list[int]]:
        ref = message.reference
        is_reply = ref is not None and ref.type is discord.MessageReferenceType.reply  # not a forward
        reply_to = ref.message_id if is_reply and ref.message_id and ref.channel_id == message.channel.id else None
        replied = ref.resolved if ref is not None and isinstance(ref.resolved, discord.Message) else None
        keys = ([reply_to] if reply_to else []) + ([message.channel.id] if isinstance(message.channel, discord.Thread)
                                                   else [])
        return Incoming(
            text=message.content, from_bot=message.author.bot or message.webhook_id is not None or message.author == me,
            mentions_me=any(u.id == me.id for u in message.mentions), reply_to=reply_to,
            reply_to_mine=replied is not None and replied.author.id == me.id, in_dm=message.guild is None,
        ), keys

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        user = self.bot.user
        if user is None:
            return
        incoming, keys = self._incoming(user, message)
        if incoming.from_bot or not (incoming.mentions_me or incoming.in_dm or keys):
            return  # the common case, decided without touching the disk
        conversation, via_reply = None, False
        if incoming.reply_to is not None:
            conversation = await asyncio.to_thread(self.store.find, [incoming.reply_to])
            via_reply = conversation is not None
        if conversation is None and len(keys) > (incoming.reply_to is not None):
            conversation = await asyncio.to_thread(self.store.find, keys[-1:])  # the thread's
        incoming = dataclasses.replace(incoming, in_conversation=conversation is not None, via_reply=via_reply)
        decision = decide(incoming, plain_in_threads=self.plain_in_threads)
        if decision.kind is Kind.IGNORE:
            return
        about = None
        if decision.kind is Kind.ASK and keys and self.announcements is not None:
            about = await asyncio.to_thread(self.announcements.announced, keys)
        retry = self.limit.retry_after((self.bot.application_id, message.author.id))
        if retry is not None:
            await self._send(message, Rendered(too_fast(retry)))
            return
        if decision.kind is Kind.HOWTO:
            await self._send(message, Rendered(HOWTO.format(name=user.display_name)))
            return
        place = ANYWHERE if decision.kind is Kind.FOLLOW or about is not None else self.channels.place_of(message.channel)
        await self._answer(message, decision, conversation if decision.kind is Kind.FOLLOW else None,
                           entry(decision, incoming, announced=about is not None), about, place)

    async def _answer(self, message: discord.Message, decision: Decision, conversation: Conversation | None,
                      entry: str, about: tuple[str, str] | None = None, place: Place = ANYWHERE) -> None:
        conversation = conversation or Conversation("", (), Filters())
        earlier = list(conversation.turns)
        lead = ""
        view = None
        filters = conversation.filters
        try:
            if about is not None:
                answer, lead = await asyncio.to_thread(about_issue, self.retriever, decision.question, *about,
                                                       PER_PAGE)
                if not answer.no_match and all((r.source, r.path) == about for r in answer.results):
                    filters = Filters(source=about[0], issue=about[1])  # answered from the issue: more of it
            elif place.source is not None:  # a new question in a channel about one newsletter: that one first
                answer, filters, lead = await asyncio.to_thread(
                    in_source_first, lambda f: self.retriever.search(decision.question, PER_PAGE, f),
                    place.source, filters)
                conversation = dataclasses.replace(conversation, filters=filters)  # its follow-ups keep them
            else:
                answer = await asyncio.to_thread(search_followup, self.retriever, decision.question, earlier,
                                                 PER_PAGE, filters)
            rendered = render_answer(answer, unlocked=self.paid.unlocked(message.author, private=False,
                                                                         channel=message.channel))
            question_id = None
            if self.record is not None:  # recorded first: the answer's 👍 / 👎 vote on this row
                asked_in = Filters(source=about[0], issue=about[1]) if about is not None else conversation.filters
                question_id = await asyncio.to_thread(self.record.add, entry, message.author.id, decision.question,
                                                      asked_in, answer)
            if self.buttons is not None:
                view = await self.buttons.attach(answer, AnswerState(
                    question=decision.question, earlier=tuple(earlier), filters=filters, per_page=PER_PAGE,
                    shown=len(rendered.embeds), asker=self.buttons.store.reader(message.author.id), private=False,
                    question_id=question_id))
        except Exception:
            log.exception("search failed for a message question")
            rendered = render_error(decision.question)
        if earlier:
            lead = f"*Following up on “{quote_question(earlier[-1])}”*"
        if lead:
            rendered.content = f"{lead}\n{rendered.content}"
        notice = indexing_notice(self.runner) if self.runner is not None else None
        if notice:
            rendered.content = f"{rendered.content}\n*{notice}*"
        thread = await self._thread_for(message, decision.question) if place.start_thread else None
        sent = await self._send(message, rendered, view, into=thread)
        if sent is None:
            return
        keys = [sent.id] + ([message.channel.id] if isinstance(message.channel, discord.Thread) and earlier else [])
        if thread is not None:
            keys.append(thread.id)  # the question's thread is its conversation: a message in it follows up
        await asyncio.to_thread(self.store.save, conversation.then(sent.id, decision.question), keys)

    async def _thread_for(self, message: discord.Message, question: str) -> discord.Thread | None:
        """A thread started from the reader's ``message``, named after the question; None when the bot may not
        start one here (then the answer is a reply, as in any channel)."""
        me = message.guild.me if message.guild is not None else None
        if isinstance(message.channel, discord.abc.GuildChannel) and me is not None \
                and not message.channel.permissions_for(me).create_public_threads:
            log.warning("channel %s is configured for threads, but the bot lacks the Create Public Threads"
                        " permission there: answering inline", message.channel.id)
            return None
        try:
            return await message.create_thread(name=thread_name(question),
                                               auto_archive_duration=THREAD_ARCHIVE_MINUTES)
        except (discord.HTTPException, ValueError) as exc:
            log.warning("cannot start a thread from message %s in channel %s (answering inline): %s",
                        message.id, message.channel.id, exc)
            return None

    async def _send(self, message: discord.Message, rendered: Rendered, view: discord.ui.View | None = None,
                    *, into: discord.Thread | None = None) -> discord.Message | None:
        """Reply to ``message``, pinging no one (or post ``into`` the thread started from it, where the message
        itself stands at the top); None when Discord refuses (no permission, message gone)."""
        target = into if into is not None else message.channel
        me = message.guild.me if message.guild is not None else None
        if rendered.embeds and me is not None and isinstance(target, (discord.abc.GuildChannel, discord.Thread)) \
                and not target.permissions_for(me).embed_links:
            if target.id not in self._no_embeds:
                self._no_embeds.add(target.id)
                log.warning("the bot lacks the Embed Links permission in channel %s: answering in plain text there",
                            target.id)
            rendered = as_plain_text(rendered)  # Discord would drop the embeds, and the sections with them
        try:
            if into is not None:
                return await into.send(clip(rendered.content, CONTENT_MAX), embeds=rendered.embeds,
                                       allowed_mentions=NO_PINGS, view=view)
            return await message.channel.send(
                clip(rendered.content, CONTENT_MAX), embeds=rendered.embeds, allowed_mentions=NO_PINGS, view=view,
                reference=message.to_reference(fail_if_not_exists=False), mention_author=False)
        except discord.HTTPException as exc:
            log.warning("cannot answer message %s in channel %s: %s", message.id, message.channel.id, exc)
            return None
