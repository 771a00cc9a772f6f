"""The buttons under answers, pressed: "More results" pages an answer, "Share to channel" posts a private one,
👍 / 👎 vote on it (handed to :mod:`bot.feedback._vote_cog`, with the answer's state).

Restart-safe: each button is a discord.py dynamic item, found again from its ``custom_id``
(``bot.ask.components``) by whichever process is running, and what it needs is read from the answer
store (``bot.converse.state``); an expired or unknown one answers kindly. Thin by design: what the
buttons are is :mod:`bot.ask.components`, what an answer looks like is :mod:`bot.ask.render`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from bot.ask.components import (
    DOWN_TEMPLATE,
    LINK,
    MORE_TEMPLATE,
    SHARE_TEMPLATE,
    UP_TEMPLATE,
    ButtonSpec,
    answer_buttons,
    public_rows,
    shared_rows,
)
from bot.ask.render import render_answer, withhold_paid
from bot.converse.state import AnswerState, ConversationStore
from bot.discord_text import CONTENT_MAX, NO_PINGS, clip
from bot.paid import PaidRoles
from bot.ratelimit import ReaderLimit, too_fast
from index.search.followup import search_followup
from index.search.retriever import Answer, Retriever

if TYPE_CHECKING:
    from bot.feedback._vote_cog import AnswerVotes

log = logging.getLogger(__name__)
COG_NAME = "AnswerButtons"

EXPIRED = ("These buttons have expired: an answer keeps them for a day, and this one is older or unknown. "
           "Ask again with `/ask` for a fresh answer.")
NOT_YOURS_PAGE = "Only the reader who asked can page this private answer. Ask with `/ask` for your own."
NOT_YOURS_SHARE = "Only the reader who asked can share this answer."
ALREADY_SHARED = "This answer is already shared in the channel."
NO_VOTES = "Votes on answers aren't kept here."
UNAVAILABLE = "Sorry, these buttons are not available right now. Ask again with `/ask`."
SEARCH_FAILED = "Sorry, something went wrong while searching. The server's log has the details."
SHARE_FAILED = "Sorry, I couldn't share the answer in this channel (I may not be allowed to post here)."


class _AnswerButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"bi:_:(?P<answer>[0-9]+)"):
    action = ""

    def __init__(self, answer_id: int, *, label: str = "", style: int = 1, disabled: bool = False,
                 row: int | None = None) -> None:
        super().__init__(discord.ui.Button(label=label, style=discord.ButtonStyle(style), disabled=disabled, row=row,
                                           custom_id=f"bi:{self.action}:{answer_id}"))
        self.answer_id = answer_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> _AnswerButton:
        return cls(int(match["answer"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        cog = interaction.client.get_cog(COG_NAME)
        if not isinstance(cog, AnswerButtons):
            await interaction.response.send_message(UNAVAILABLE, ephemeral=True)
            return
        await cog.pressed(interaction, self.action, self.answer_id)


class MoreButton(_AnswerButton, template=MORE_TEMPLATE):
    action = "more"


class ShareButton(_AnswerButton, template=SHARE_TEMPLATE):
    action = "share"


class UpButton(_AnswerButton, template=UP_TEMPLATE):
    action = "up"


class DownButton(_AnswerButton, template=DOWN_TEMPLATE):
    action = "down"


DYNAMIC_ITEMS: tuple[type[_AnswerButton], ...] = (MoreButton, ShareButton, UpButton, DownButton)


def to_view(rows: list[list[ButtonSpec]]) -> discord.ui.View:
    """The rows as a view of dynamic items and link buttons (an empty view clears a message's buttons)."""
    view = discord.ui.View(timeout=None)
    for n, row in enumerate(rows):
        for b in row:
            if b.style == LINK:
                view.add_item(discord.ui.Button(style=discord.ButtonStyle.link, label=b.label, url=b.url, row=n))
                continue
            for cls in DYNAMIC_ITEMS:
                match = cls.__discord_ui_compiled_template__.fullmatch(b.custom_id or "")
                if match is not None:
                    view.add_item(cls(int(match["answer"]), label=b.label, style=b.style, disabled=b.disabled, row=n))
    return view


def rows_of(message: discord.Message | None) -> list[list[ButtonSpec]]:
    """The buttons a message carries, as specs."""
    rows: list[list[ButtonSpec]] = []
    for row in (message.components if message is not None else []):
        if isinstance(row, discord.ActionRow):
            rows.append([ButtonSpec(label=c.label or "", style=int(c.style.value), custom_id=c.custom_id, url=c.url,
                                    disabled=c.disabled) for c in row.children if isinstance(c, discord.Button)])
    return [r for r in rows if r]


class AnswerButtons(commands.Cog, name=COG_NAME):
    """Keeps what each answer's buttons need, and answers their presses."""

    def __init__(self, retriever: Retriever, store: ConversationStore, limit: ReaderLimit,
                 votes: AnswerVotes | None = None, *, paid: PaidRoles | None = None) -> None:
        """``votes``: where 👍 / 👎 presses go; None (``[feedback] enabled = false``): answers have no vote buttons.
        ``paid``: who may be quoted paid posts on a page turned."""
        self.paid = paid or PaidRoles()
        self.retriever = retriever
        self.store = store
        self.limit = limit
        self.votes = votes

    def _votes(self, state: AnswerState) -> bool:
        return self.votes is not None and state.question_id is not None

    async def cog_unload(self) -> None:
        self.store.close()

    async def attach(self, answer: Answer, state: AnswerState, *, paged: bool = False) -> discord.ui.View:
        """Record ``state`` and the view of buttons for ``answer``; only link buttons when it cannot be recorded."""
        answer_id: int | None = None
        if answer.results:
            try:
                answer_id = await asyncio.to_thread(self.store.keep_answer, state)
            except Exception:
                log.exception("cannot record an answer's buttons")
        return to_view(answer_buttons(answer, answer_id, private=state.private, paged=paged, shared=state.shared,
                                      votes=self._votes(state)))

    async def pressed(self, interaction: discord.Interaction[Any], action: str, answer_id: int) -> None:
        try:
            state = await asyncio.to_thread(self.store.answer, answer_id)
            if state is None:
                await _kindly(interaction, EXPIRED)
            elif action == "more":
                await self._more(interaction, state)
            elif action == "share":
                await self._share(interaction, state)
            elif action in ("up", "down") and self.votes is not None:
                await self.votes.pressed(interaction, state, 1 if action == "up" else -1)
            else:  # a vote button on an answer made while feedback was on
                await _kindly(interaction, NO_VOTES)
        except discord.HTTPException as exc:
            log.warning("a button's answer was refused by Discord: %s", exc)
        except Exception:
            log.exception("a %s button failed", action)
            await _kindly(interaction, SEARCH_FAILED)

    async def _more(self, interaction: discord.Interaction[Any], state: AnswerState) -> None:
        mine = self.store.reader(interaction.user.id) == state.asker
        if state.private and not mine:
            await _kindly(interaction, NOT_YOURS_PAGE)
            return
        retry = self.limit.retry_after((interaction.application_id, interaction.user.id))  # a search, as any other
        if retry is not None:
            await _kindly(interaction, too_fast(retry))
            return
        if mine:  # the page turns in place
            await interaction.response.defer()  # DEFERRED_UPDATE_MESSAGE
        else:  # another reader's press on a public answer: the next sections, to them alone
            await interaction.response.defer(ephemeral=True, thinking=True)
        answer = await asyncio.to_thread(search_followup, self.retriever, state.question, list(state.earlier),
                                         state.per_page, state.filters, state.shown)
        # the page is for the reader who pressed: in place (public unless the answer was private), else to them alone
        unlocked = self.paid.unlocked(interaction.user, private=state.private or not mine, channel=interaction.channel)
        rendered = render_answer(answer, first=state.shown + 1, unlocked=unlocked)
        shown = state.shown + len(rendered.embeds)
        if mine:
            await asyncio.to_thread(self.store.turn_page, state.id, shown)
            view = to_view(answer_buttons(answer, state.id, private=state.private, paged=True, shared=state.shared,
                                          votes=self._votes(state)))
        else:
            mine_now = dataclasses.replace(state, asker=self.store.reader(interaction.user.id), private=True,
                                           shown=shown, shared=False)
            view = await self.attach(answer, mine_now, paged=True)
        await interaction.edit_original_response(content=rendered.content, embeds=rendered.embeds, view=view,
                                                 allowed_mentions=NO_PINGS)

    async def _share(self, interaction: discord.Interaction[Any], state: AnswerState) -> None:
        if self.store.reader(interaction.user.id) != state.asker:
            await _kindly(interaction, NOT_YOURS_SHARE)
            return
        if not await asyncio.to_thread(self.store.mark_shared, state.id):
            await _kindly(interaction, ALREADY_SHARED)
            return
        message = interaction.message
        rows = rows_of(message)
        await interaction.response.edit_message(view=to_view(shared_rows(rows)))  # UPDATE_MESSAGE: "Shared"
        # the public copy is a public answer of its own: anyone may page it
        public_id = await asyncio.to_thread(self.store.keep_answer,
                                            dataclasses.replace(state, private=False, shared=True))
        content = clip(f"{interaction.user.mention} shared this answer:\n{message.content if message else ''}",
                       CONTENT_MAX)
        try:
            await interaction.followup.send(content, embeds=withhold_paid(message.embeds) if message else [],
                                            view=to_view(public_rows(rows, public_id)), allowed_mentions=NO_PINGS)
        except discord.HTTPException as exc:
            log.warning("cannot share answer %s: %s", state.id, exc)
            await asyncio.to_thread(self.store.mark_shared, state.id, False)  # it may be tried again
            await interaction.edit_original_response(view=to_view(rows))
            await interaction.followup.send(SHARE_FAILED, ephemeral=True)


async def _kindly(interaction: discord.Interaction[Any], text: str) -> None:
    """Tell only the reader who pressed; the message itself stays as it was."""
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True)
    else:
        await interaction.response.send_message(text, ephemeral=True)
