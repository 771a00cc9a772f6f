"""Posting announcements with discord.py: text, announcement (crosspost) and forum channels."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import discord

from bot.announce.post import Post
from bot.discord_text import THREAD_NAME_MAX, clip

CLOCK_SLACK = 120.0  # seconds: our clock and Discord's may disagree a little
SEARCH_MAX = 20_000  # messages read after the first attempt, at 100 a request
FIND_TIMEOUT = 300.0  # seconds: up to 20,000 messages of history, 100 a request
POST_TIMEOUT = 60.0  # seconds for one post, discord.py's own retries included; then it counts as failed

log = logging.getLogger(__name__)


def _marked(embed: discord.Embed, mark: str) -> bool:
    """Whether ``embed`` is the one ``mark`` names: an issue's announcement by its URL, a digest by its footer."""
    return embed.url == mark or (embed.footer.text is not None and embed.footer.text == mark)


class DiscordPoster:
    def __init__(self, client: discord.Client, *, timeout: float = POST_TIMEOUT) -> None:
        self.client = client
        self.timeout = timeout  # a post that hangs is given up (TimeoutError); the retry looks for it first

    async def _channel(self, channel_id: int) -> discord.abc.GuildChannel | discord.Thread:
        channel = self.client.get_channel(channel_id)
        if channel is None:
            channel = await self.client.fetch_channel(channel_id)
        return channel  # type: ignore[return-value]

    @staticmethod
    def _mentions(post: Post) -> discord.AllowedMentions:
        roles: list[discord.abc.Snowflake] | bool = [discord.Object(post.role_id)] if post.role_id else False
        return discord.AllowedMentions(everyone=False, users=False, roles=roles, replied_user=False)

    async def post(self, channel_id: int, post: Post, nonce: str, crosspost: bool) -> tuple[int, int]:
        return await asyncio.wait_for(self._post(channel_id, post, nonce, crosspost), self.timeout)

    async def _post(self, channel_id: int, post: Post, nonce: str, crosspost: bool) -> tuple[int, int]:
        channel = await self._channel(channel_id)
        if isinstance(channel, discord.ForumChannel):
            created = await channel.create_thread(name=clip(post.title, THREAD_NAME_MAX), content=post.content, embed=post.embed,
                                                  allowed_mentions=self._mentions(post))
            return created.thread.id, created.message.id
        if not isinstance(channel, discord.abc.Messageable):
            raise discord.InvalidData(f"channel {channel_id} cannot hold messages")
        message = await channel.send(content=post.content, embed=post.embed, nonce=nonce,
                                     allowed_mentions=self._mentions(post))
        if crosspost and isinstance(channel, discord.TextChannel) and channel.is_news():
            await message.publish()
        return channel.id, message.id

    async def find(self, channel_id: int, url: str, since: float | None) -> tuple[int, int] | None:
        """The bot's own earlier announcement of ``url``, if Discord has it (``url``: its embed's URL, or for a post
        without one, such as the weekly digest, its embed's footer text).

        ``since`` is the wall-clock time recorded just before the first attempt: the message can only be newer
        than that, so the search starts there (a snowflake made from that time) however busy the channel is.
        Without it (a row from before that was recorded), only the last 50 messages are read. A lookup that
        takes longer than ``FIND_TIMEOUT`` raises TimeoutError: the post stays pending, nothing is posted.
        """
        return await asyncio.wait_for(self._find(channel_id, url, since), FIND_TIMEOUT)

    async def _find(self, channel_id: int, url: str, since: float | None) -> tuple[int, int] | None:
        channel = await self._channel(channel_id)
        if isinstance(channel, discord.ForumChannel):
            return await self._find_thread(channel, url, since)
        me = self.client.user
        if since is None:
            history = channel.history(limit=50)  # type: ignore[union-attr]
        else:
            start = dt.datetime.fromtimestamp(since - CLOCK_SLACK, dt.timezone.utc)
            history = channel.history(limit=SEARCH_MAX, after=start, oldest_first=True)  # type: ignore[union-attr]
        read = 0
        async for message in history:
            read += 1
            if me is not None and message.author.id == me.id and any(_marked(e, url) for e in message.embeds):
                return channel.id, message.id
        if since is not None and read >= SEARCH_MAX:
            log.warning("channel %s: %d messages since the first attempt at %s, none of them it; posting again",
                        channel_id, read, url)
        return None

    async def _find_thread(self, forum: discord.ForumChannel, url: str, since: float | None) -> tuple[int, int] | None:
        """A forum post is a thread: look among the guild's active threads, then the forum's public archived ones
        (newest first, down to ``since``), for one the bot started since then whose starter message links ``url``.
        Not by name: the issue's title may have been corrected since the lost attempt."""
        me = self.client.user
        candidates = [t for t in await forum.guild.active_threads() if t.parent_id == forum.id]
        cutoff = None if since is None else dt.datetime.fromtimestamp(since - CLOCK_SLACK, dt.timezone.utc)
        async for thread in forum.archived_threads(limit=None if cutoff else 100):
            if cutoff is not None and thread.archive_timestamp < cutoff:
                break  # archived before the attempt: it cannot be ours
            candidates.append(thread)
        for thread in candidates:
            if me is not None and thread.owner_id != me.id:
                continue
            if cutoff is not None and discord.utils.snowflake_time(thread.id) < cutoff:
                continue
            try:
                starter = await thread.fetch_message(thread.id)  # a forum post's starter message has the thread's id
            except discord.NotFound:
                continue
            if any(_marked(e, url) for e in starter.embeds):
                return thread.id, starter.id
        return None

    async def edit(self, channel_id: int, message_id: int, post: Post) -> None:
        channel = await self._channel(channel_id)
        message = channel.get_partial_message(message_id)  # type: ignore[union-attr]
        await message.edit(content=post.content, embed=post.embed, allowed_mentions=self._mentions(post))
