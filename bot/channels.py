"""Per-channel behaviour (``[[channels]]``): which entry applies where a question is asked, and what it means.

Pure: channel ids in, a :class:`Place` out. An entry names a channel; it applies to the channel itself
and to every thread in it: the threads of a text channel, the posts of a forum channel (a forum post is
a thread whose parent is the forum). A thread that has an entry of its own uses that one. Anything not
configured is :data:`ANYWHERE`: today's behaviour (the whole archive, answers inline).

``reply = "thread"`` starts a thread only where one can be started: a mention in the channel itself.
In a thread or forum post the answer is a reply there, as elsewhere (Discord has no thread in a thread);
/ask and the message command keep their interaction reply (a slash command's answer belongs to the
interaction, and the asker would have to go looking for it in a new thread).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import discord

from bot.discord_text import THREAD_NAME_MAX, clip

Reply = Literal["inline", "thread"]
UNTITLED = "Question"  # a thread's name when the question has nothing to name it by


@dataclass(frozen=True)
class Entry:
    id: int
    source: str | None = None
    reply: Reply = "inline"


@dataclass(frozen=True)
class Place:
    """What applies to one question: the source to search first, and whether its answer starts a thread."""

    source: str | None = None  # None: the whole archive
    start_thread: bool = False


ANYWHERE = Place()


class ChannelRules:
    """The configured entries, by channel id."""

    def __init__(self, entries: Iterable[Entry] = ()) -> None:
        self._by_id = {e.id: e for e in entries}

    @classmethod
    def of(cls, entries: Iterable[Any]) -> ChannelRules:
        """From the settings' ``[[channels]]`` (anything with ``id``, ``source`` and ``reply``)."""
        return cls(Entry(int(e.id), e.source, e.reply) for e in entries)

    def __bool__(self) -> bool:
        return bool(self._by_id)

    def entry(self, channel_id: int | None, parent_id: int | None = None) -> Entry | None:
        """The entry for ``channel_id``, else (a thread, a forum post) its parent's; None when neither has one."""
        for cid in (channel_id, parent_id):
            if cid is not None and cid in self._by_id:
                return self._by_id[cid]
        return None

    def place(self, channel_id: int | None, parent_id: int | None = None) -> Place:
        """What applies to a question asked in ``channel_id`` (a thread: with its ``parent_id``)."""
        e = self.entry(channel_id, parent_id)
        if e is None:
            return ANYWHERE
        return Place(source=e.source, start_thread=e.reply == "thread" and parent_id is None)

    def place_of(self, channel: object, channel_id: int | None = None) -> Place:
        """:meth:`place` for a discord.py channel (a thread names its parent); ``channel_id`` when the channel
        object is unknown (an interaction's)."""
        if isinstance(channel, discord.Thread):
            return self.place(channel.id, channel.parent_id)
        return self.place(getattr(channel, "id", channel_id))


def thread_name(question: str) -> str:
    """A thread's name for ``question``: one line, at most 100 characters, cut at a word."""
    return clip(" ".join(question.split()), THREAD_NAME_MAX) or UNTITLED
