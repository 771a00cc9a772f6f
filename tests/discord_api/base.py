"""What every part of the test server shares: its state, snowflakes, authorisation and the message object."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import itertools
import time
from typing import Any

from aiohttp import web

from tests.discord_api.faults import Faults
from tests.discord_api.limits import DiscordError
from tests.discord_api.wire import DISCORD_EPOCH_MS

FORUM = 15


class ServerBase:
    token: str
    app_id: str
    guild_id: str
    channel_id: str
    bot_user: dict[str, Any]
    channels: dict[str, dict[str, Any]]
    channel_messages: dict[str, list[dict[str, Any]]]
    threads: list[dict[str, Any]]
    forbidden: set[str]
    injected: Faults
    nonce_window: float
    statuses: collections.Counter[int]
    on_message_stored: Any
    port: int

    def __init__(self) -> None:
        self._ids = itertools.count()
        self._last_id = 0
        self.stopping = asyncio.Event()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        return self.base + "/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    @property
    def discord_toml(self) -> str:
        """The ``[discord]`` table of a settings file that points the bot at this server."""
        return f'[discord]\napi_base = "{self.api_base}"\ngateway_url = "{self.gateway_url}"\n'

    def snowflake(self, ago: float = 0.0) -> str:
        """Discord's snowflake: ms since 2015 in the top 42 bits, so ids sort by time (and encode it).
        ``ago`` seconds in the past makes one for something a test backdates."""
        sid = ((int((time.time() - ago) * 1000) - DISCORD_EPOCH_MS) << 22) | (next(self._ids) & 0xFFF)
        if ago:
            return str(sid)
        sid = max(sid, self._last_id + 1)
        self._last_id = sid
        return str(sid)

    @staticmethod
    def iso_of(snowflake: str) -> str:
        ms = (int(snowflake) >> 22) + DISCORD_EPOCH_MS
        return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).isoformat()

    def _auth(self, request: web.Request) -> None:
        if request.headers.get("Authorization") != f"Bot {self.token}":
            raise DiscordError(401, 0, "401: Unauthorized")

    def _writable(self, channel: str) -> dict[str, Any]:
        if channel in self.forbidden:
            raise DiscordError(403, 50001, "Missing Access")
        for thread in self.threads:
            if thread["id"] == channel:  # sending in an archived (not locked) thread unarchives it
                if thread["thread_metadata"]["locked"]:
                    raise DiscordError(403, 50083, "Thread is archived")
                thread["thread_metadata"]["archived"] = False
                return thread
        if channel not in self.channels:
            raise DiscordError(404, 10003, "Unknown Channel")
        return self.channels[channel]

    def _message(self, channel_id: str, body: dict[str, Any], *, author: dict[str, Any] | None = None,
                 webhook: bool = False, flags: int = 0, message_id: str | None = None,
                 ago: float = 0.0) -> dict[str, Any]:
        mid = message_id or self.snowflake(ago)
        msg = {
            "id": mid, "channel_id": channel_id, "author": author or self.bot_user,
            "content": body.get("content") or "", "embeds": body.get("embeds") or [], "timestamp": self.iso_of(mid),
            "edited_timestamp": None, "tts": False, "mention_everyone": False, "mentions": [], "mention_roles": [],
            "attachments": [], "pinned": False, "type": 20 if webhook else 0,
            "flags": flags | (body.get("flags") or 0), "components": body.get("components") or [],
            "allowed_mentions": body.get("allowed_mentions"), "nonce": body.get("nonce"),
            "_created": time.monotonic(),
        }
        if webhook:
            msg["webhook_id"] = self.app_id
            msg["application_id"] = self.app_id
        return msg
