"""The gateway over WebSocket: HELLO, heartbeats, IDENTIFY → READY and GUILD_CREATE, dispatches."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from typing import Any

from aiohttp import WSMsgType, web

from tests.discord_api.base import ServerBase
from tests.discord_api.wire import now_iso as _now_iso

DEFAULT_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 31)  # view channel, send messages, use application commands
ADMINISTRATOR = 1 << 3
VIEW_CHANNEL = 1 << 10
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38
# what the bot is invited with for thread channels (README, "Running the bot on Discord"), as its managed role: embed
# links, read message history, create public threads, send messages in threads
BOT_ROLE_PERMISSIONS = (1 << 14) | (1 << 16) | CREATE_PUBLIC_THREADS | SEND_MESSAGES_IN_THREADS


class Gateway(ServerBase):
    heartbeat_interval_ms: int
    heartbeats: list[float]
    identified: asyncio.Event
    owner: dict[str, Any]
    _ws: web.WebSocketResponse | None
    _seq: int
    intents: int
    bot_role_id: str
    bot_role_permissions: int  # tests take permissions away (before the bot connects)
    roles: list[dict[str, Any]]  # the guild's roles besides @everyone and the bot's (added before the bot connects)
    member_roles: dict[str, list[str]]  # user id -> the ids of the roles that member has

    def add_role(self, name: str) -> str:
        """A role of the guild (a role object as Discord documents it, no permissions of its own); its id. Added
        before the bot connects, it is in GUILD_CREATE; the test server sends no GUILD_ROLE_CREATE."""
        role_id = self.snowflake()
        self.roles.append({"id": role_id, "name": name, "permissions": "0", "position": len(self.roles) + 2,
                           "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0})
        return role_id

    def give_role(self, user: dict[str, Any], role_id: str) -> None:
        """``user`` (a member of the guild) has the role: their member objects carry it from now on."""
        self.member_roles.setdefault(user["id"], []).append(role_id)

    def roles_of(self, user_id: str) -> list[str]:
        """A member's ``roles`` (role ids, @everyone not among them, as Discord sends them)."""
        return [self.bot_role_id] if user_id == self.app_id else list(self.member_roles.get(user_id, []))

    def bot_permissions(self) -> int:
        """The bot's guild permissions: @everyone's and its managed role's (no channel overwrites are modelled)."""
        return DEFAULT_PERMISSIONS | self.bot_role_permissions

    def bot_may(self, permission: int) -> bool:
        perms = self.bot_permissions()
        return bool(perms & ADMINISTRATOR or perms & permission == permission)

    async def _send(self, op: int, d: Any, t: str | None = None) -> None:
        assert self._ws is not None
        payload: dict[str, Any] = {"op": op, "d": d, "s": None, "t": t}
        if op == 0:
            self._seq += 1
            payload["s"] = self._seq
        await self._ws.send_str(json.dumps(payload))

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws = ws
        await self._send(10, {"heartbeat_interval": self.heartbeat_interval_ms})
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            op = data.get("op")
            if op == 1:
                self.heartbeats.append(time.monotonic())
                await self._send(11, None)
            elif op == 2:
                if data["d"].get("token") != self.token:
                    await ws.close(code=4004, message=b"Authentication failed.")
                    break
                self.intents = int(data["d"].get("intents", 0))
                await self._ready()
            elif op == 6:  # resume: not supported here, ask for a new session
                await self._send(9, False)
        return ws

    async def _ready(self) -> None:
        await self._send(0, {
            "v": 10, "user": self.bot_user, "guilds": [{"id": self.guild_id, "unavailable": True}],
            "session_id": secrets.token_hex(8), "resume_gateway_url": self.gateway_url, "shard": [0, 1],
            "application": {"id": self.app_id, "flags": 0}, "private_channels": [], "relationships": [],
        }, "READY")
        everyone = {"id": self.guild_id, "name": "@everyone", "permissions": str(DEFAULT_PERMISSIONS), "position": 0,
                    "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0}
        # a bot invited with permissions gets a managed role named after it, tagged with its id
        bot_role = {"id": self.bot_role_id, "name": "backissue", "permissions": str(self.bot_role_permissions),
                    "position": 1, "color": 0, "hoist": False, "managed": True, "mentionable": False, "flags": 0,
                    "tags": {"bot_id": self.app_id}}
        await self._send(0, {
            "id": self.guild_id, "name": "Newsletter readers", "icon": None, "owner_id": self.owner["id"],
            "afk_timeout": 300, "verification_level": 0, "default_message_notifications": 0,
            "explicit_content_filter": 0, "roles": [everyone, bot_role, *self.roles], "emojis": [], "stickers": [],
            "features": [],
            "mfa_level": 0, "system_channel_flags": 0, "premium_tier": 0, "nsfw_level": 0, "preferred_locale": "en-US",
            "member_count": 3, "large": False, "unavailable": False, "joined_at": _now_iso(),
            "members": [{"user": self.bot_user, "roles": [self.bot_role_id], "joined_at": _now_iso(), "deaf": False,
                         "mute": False, "flags": 0}],
            "channels": [{k: v for k, v in c.items() if k != "guild_id"} for c in self.channels.values()
                         if c["type"] != 1],  # DM channels belong to no guild
            "threads": [], "voice_states": [], "presences": [], "stage_instances": [], "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }, "GUILD_CREATE")
        self.identified.set()
