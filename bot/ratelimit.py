"""The per-reader rate limit every way of asking shares: /ask, a mention, a follow-up.

Kept by discord.py's own cooldown mapping, which forgets a reader once their window has passed.
The key is (application, reader): one process may run several bots.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

Reader = tuple[int | None, int]
T = TypeVar("T")


def _same(key: Reader) -> Reader:
    return key


class ReaderLimit:
    """At most ``rate`` questions per ``per`` seconds for each reader, however they ask."""

    def __init__(self, rate: int = 4, per: float = 30.0) -> None:
        self.cooldown = app_commands.Cooldown(rate, per)
        self._mapping: commands.CooldownMapping[Reader] = commands.CooldownMapping(self.cooldown, _same)

    def retry_after(self, reader: Reader) -> float | None:
        """None when the reader may ask now (and it counts); else the seconds until they may."""
        bucket = self._mapping.get_bucket(reader)
        return bucket.update_rate_limit() if bucket is not None else None


def limited() -> Callable[[T], T]:
    """An application-command check: the bot's shared :class:`ReaderLimit`; over it, discord.py's
    ``CommandOnCooldown`` goes to the command tree's error handler, which tells the reader when to ask again."""

    def predicate(interaction: discord.Interaction[Any]) -> bool:
        limit: ReaderLimit = interaction.client.limit  # type: ignore[attr-defined]
        retry = limit.retry_after((interaction.application_id, interaction.user.id))
        if retry is not None:
            raise app_commands.CommandOnCooldown(limit.cooldown, retry)
        return True

    return app_commands.check(predicate)


def too_fast(retry: float) -> str:
    return f"You're asking faster than I can look things up — try again in {retry:.0f} s."
