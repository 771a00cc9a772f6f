"""👍 / 👎 under answers, pressed and explained: the votes kept in the question record.

Thin by design: what a press does and what the modal holds is :mod:`bot.feedback.votes`; where a vote is kept
is :mod:`bot.feedback.record`. The buttons themselves are the answer's (:mod:`bot.ask.buttons`), which hands a
press here with the answer's stored state (its ``question_id`` is the row voted on). Every reply is ephemeral,
to the voter alone: the answer does not change for anyone. A 👎 modal is answered by its ``custom_id`` alone,
never from discord.py's in-memory modal store, so one submitted after a restart still lands.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from bot.feedback.ledger import QuestionLedger
from bot.feedback.record import Vote
from bot.feedback.votes import (
    DOWN,
    GONE,
    NOTE_ID,
    NOTE_LABEL,
    NOTE_MAX,
    NOTE_PLACEHOLDER,
    NOTED,
    REASON_ID,
    REASON_LABEL,
    REASONS,
    TITLE,
    UNRECORDED,
    UP,
    WITHDRAWN,
    answer_of_modal,
    press,
    submitted,
    why_id,
)

if TYPE_CHECKING:
    from bot.converse.state import AnswerState, ConversationStore

log = logging.getLogger(__name__)
COG_NAME = "AnswerVotes"
FAILED = "Sorry, I couldn't keep your vote just now. The server's log has the details."
EXPIRED = "This answer's buttons have expired (an answer keeps them for a day). Thanks all the same."


def why_modal(answer_id: int) -> discord.ui.Modal:
    """The 👎 modal: what went wrong, and an optional note. Stopped at once: it is never kept in discord.py's
    memory (a submission is read from its payload, see :meth:`AnswerVotes.on_interaction`)."""
    modal: discord.ui.Modal = discord.ui.Modal(title=TITLE, custom_id=why_id(answer_id), timeout=None)
    modal.add_item(discord.ui.Label(text=REASON_LABEL, component=discord.ui.Select(
        custom_id=REASON_ID, options=[discord.SelectOption(label=label, value=value) for value, label in REASONS])))
    modal.add_item(discord.ui.Label(text=NOTE_LABEL, component=discord.ui.TextInput(
        custom_id=NOTE_ID, style=discord.TextStyle.paragraph, max_length=NOTE_MAX, required=False,
        placeholder=NOTE_PLACEHOLDER)))
    modal.stop()
    return modal


class AnswerVotes(commands.Cog, name=COG_NAME):
    def __init__(self, record: QuestionLedger, store: ConversationStore) -> None:
        self.record = record
        self.store = store

    async def pressed(self, interaction: discord.Interaction[Any], state: AnswerState, vote: int) -> None:
        """👍 (:data:`UP`) or 👎 (:data:`DOWN`) pressed on the answer ``state``."""
        if state.question_id is None:
            await _tell(interaction, UNRECORDED)
            return
        try:
            current = await asyncio.to_thread(self.record.vote_of, state.question_id, interaction.user.id)
            what = press(current.vote if current is not None else None, vote)
            if what.ask_why:
                await interaction.response.send_modal(why_modal(state.id))  # MODAL: the press's acknowledgement
                return
            kept = await asyncio.to_thread(self.record.vote, state.question_id, interaction.user.id,
                                           None if what.withdraw else Vote(UP))
        except discord.HTTPException:
            raise
        except Exception:
            log.exception("a vote could not be kept")
            await _tell(interaction, FAILED)
            return
        await _tell(interaction, GONE if not kept else WITHDRAWN if what.withdraw else NOTED)

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        if interaction.type is not discord.InteractionType.modal_submit:
            return
        data: dict[str, Any] = dict(interaction.data or {})
        answer_id = answer_of_modal(str(data.get("custom_id", "")))
        if answer_id is None:
            return
        try:
            state = await asyncio.to_thread(self.store.answer, answer_id)
            if state is None or state.question_id is None:
                await _tell(interaction, EXPIRED if state is None else UNRECORDED)
                return
            why, note = submitted(list(data.get("components") or []))
            kept = await asyncio.to_thread(self.record.vote, state.question_id, interaction.user.id,
                                           Vote(DOWN, why, note))
            await _tell(interaction, NOTED if kept else GONE)
        except discord.HTTPException as exc:
            log.warning("a vote's acknowledgement was refused by Discord: %s", exc)
        except Exception:
            log.exception("a 👎 could not be kept")
            await _tell(interaction, FAILED)


async def _tell(interaction: discord.Interaction[Any], text: str) -> None:
    """To the voter alone."""
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True)
    else:
        await interaction.response.send_message(text, ephemeral=True)
