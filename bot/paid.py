"""Who may be quoted a paid post: members with the source's ``paid_role_id``, where no one else reads the answer.

A source with ``include_paid = true`` indexes its export's paid-only posts. An answer quotes one only
to a reader who has the source's role, and only where the answer is not read by others who may lack
it: a private answer (ephemeral, seen by the reader alone), or a channel that @everyone cannot view
(a members' channel). Everywhere else (a public answer in an open channel, a DM, where there are no
roles) the answer shows the post's title, date and link, and no words of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import discord


class _PaidSource(Protocol):
    name: str
    include_paid: bool
    paid_role_id: int | None


def members_only_channel(channel: Any) -> bool:
    """@everyone cannot view ``channel`` (a thread: its parent), so whoever reads it was let in by a role."""
    guild = getattr(channel, "guild", None)
    if guild is None or not isinstance(channel, (discord.abc.GuildChannel, discord.Thread)):
        return False
    return not channel.permissions_for(guild.default_role).view_channel


@dataclass(frozen=True)
class PaidRoles:
    roles: dict[str, int] = field(default_factory=dict)  # source name -> the role whose members read its paid posts

    @classmethod
    def of(cls, sources: Iterable[_PaidSource]) -> PaidRoles:
        return cls({s.name: s.paid_role_id for s in sources if s.include_paid and s.paid_role_id is not None})

    def unlocked(self, reader: discord.abc.User | None, *, private: bool, channel: Any = None) -> frozenset[str]:
        """The sources whose paid posts an answer to ``reader`` may quote: those whose role the reader has (a
        member of the guild; a DM's user has no roles), when the answer is ``private`` or ``channel`` is a
        members' channel."""
        if not self.roles or not isinstance(reader, discord.Member):
            return frozenset()
        if not private and not members_only_channel(channel):
            return frozenset()
        has = {r.id for r in reader.roles}
        return frozenset(name for name, role in self.roles.items() if role in has)
