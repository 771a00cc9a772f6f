"""One error handler for every application command: a friendly ephemeral reply to the reader, one log line.

Expected failures — asking faster than the cooldown allows, a command the member may not use, a request
a command turns down on purpose (:class:`Refusal`) — are logged at INFO without a traceback; anything
else at ERROR with its traceback. Commands raise; they do not catch what this handler covers.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot.discord_text import CONTENT_MAX, NO_PINGS, clip
from bot.ratelimit import too_fast

log = logging.getLogger(__name__)

FAILED = "Sorry, something went wrong with {command}. The server's log has the details."


class Refusal(app_commands.AppCommandError):
    """A request a command turns down, with the reason for the reader (already safe to show: escaped, clipped)."""


def label(command: app_commands.Command | app_commands.ContextMenu | None) -> str:
    """How a reader knows the command: ``/ask``; a message command by its menu name, “Search back issues”."""
    if command is None:
        return "the command"
    if isinstance(command, app_commands.ContextMenu):
        return f"“{command.name}”"
    return f"/{command.qualified_name}"


def describe(error: app_commands.AppCommandError, command: str) -> tuple[str, bool]:
    """What the reader is told about ``error`` in ``command`` (its :func:`label`), and whether it was expected
    (no traceback)."""
    if isinstance(error, Refusal):
        return str(error), True
    if isinstance(error, app_commands.CommandOnCooldown):
        return too_fast(error.retry_after), True
    if isinstance(error, app_commands.MissingPermissions):
        if "administrator" in error.missing_permissions:
            return f"Only server administrators can use {command}.", True
        names = ", ".join(p.replace("_", " ").replace("guild", "server") for p in error.missing_permissions)
        return f"You need the {names} permission to use {command}.", True
    if isinstance(error, app_commands.NoPrivateMessage):
        return f"{command} works only in a server.", True
    if isinstance(error, app_commands.CheckFailure):
        return f"You can't use {command} here.", True
    return FAILED.format(command=command), False


async def tell(interaction: discord.Interaction, text: str) -> None:
    """Reply to the reader only: a response when nothing answered yet, else in place of the "thinking…" message
    of a deferred response (its visibility was set by the defer), else a follow-up."""
    text = clip(text, CONTENT_MAX)
    if not interaction.response.is_done():
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)
    elif interaction.response.type is discord.InteractionResponseType.deferred_channel_message:
        await interaction.edit_original_response(content=text, embeds=[], allowed_mentions=NO_PINGS)
    else:
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)


class CommandTree(app_commands.CommandTree):
    """discord.py's command tree with the bot's one error handler."""

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError, /) -> None:
        command = label(interaction.command)
        text, expected = describe(error, command)
        unsent = ""
        try:
            await tell(interaction, text)
        except discord.HTTPException as exc:  # the interaction expired, or Discord is unreachable
            unsent = f"; the reader could not be told ({exc.status} {exc.text or exc.code})"
        who = f"{command} from user {interaction.user.id}"
        if expected:
            log.info("%s refused: %s%s", who, error, unsent)
        else:
            cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
            log.error("%s failed%s", who, unsent, exc_info=cause)
