"""Posting announcements with discord.py: text, announcement (crosspost) and forum channels."""

from __future__ import annotations

import discord

from bot.announce.post import Post
from bot.ask.render import clip


class DiscordPoster:
    def __init__(self, client: discord.Client) -> None:
        self.client = client

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
        channel = await self._channel(channel_id)
        if isinstance(channel, discord.ForumChannel):
            created = await channel.create_thread(name=clip(post.title, 100), content=post.content, embed=post.embed,
                                                  allowed_mentions=self._mentions(post))
            return created.thread.id, created.message.id
        if not isinstance(channel, discord.abc.Messageable):
            raise discord.InvalidData(f"channel {channel_id} cannot hold messages")
        message = await channel.send(content=post.content, embed=post.embed, nonce=nonce,
                                     allowed_mentions=self._mentions(post))
        if crosspost and isinstance(channel, discord.TextChannel) and channel.is_news():
            await message.publish()
        return channel.id, message.id

    async def find(self, channel_id: int, url: str) -> tuple[int, int] | None:
        channel = await self._channel(channel_id)
        me = self.client.user
        if isinstance(channel, discord.ForumChannel):
            return None
        async for message in channel.history(limit=50):  # type: ignore[union-attr]
            if me is not None and message.author.id == me.id and any(e.url == url for e in message.embeds):
                return channel.id, message.id
        return None

    async def edit(self, channel_id: int, message_id: int, post: Post) -> None:
        channel = await self._channel(channel_id)
        message = channel.get_partial_message(message_id)  # type: ignore[union-attr]
        await message.edit(content=post.content, embed=post.embed, allowed_mentions=self._mentions(post))
