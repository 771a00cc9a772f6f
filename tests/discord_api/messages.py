"""Channels and their messages: Get Channel, Create Message (nonce, enforce_nonce), Get Channel Messages
(before/after/around, limit 1-100), Get/Edit Channel Message, Crosspost Message."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import web

from tests.discord_api.base import ServerBase
from tests.discord_api.limits import DiscordError, check_message
from tests.discord_api.wire import json_response as _json
from tests.discord_api.wire import now_iso, public, reply

NONCE_MAX = 25  # Create Message: "nonce ... (up to 25 characters)"
NEWS = 5


def _form_error(field: str, code: str, message: str) -> DiscordError:
    return DiscordError(400, 50035, "Invalid Form Body", {field: {"_errors": [{"code": code, "message": message}]}})


def _snowflake_param(q: Any, name: str) -> int:
    try:
        return int(q[name])
    except ValueError:
        raise _form_error(name, "NUMBER_TYPE_COERCE", f"Value \"{q[name]}\" is not snowflake.") from None


class MessageRoutes(ServerBase):
    _store_message: Any  # chat.py
    deliver: Any
    crossposted: set[str]
    history_reads: int  # Get Channel Messages requests answered

    def add_routes(self, r: web.UrlDispatcher, api: str) -> None:
        r.add_get(api + "/channels/{channel}", self._get_channel)
        r.add_post(api + "/channels/{channel}/messages", self._channel_message)
        r.add_get(api + "/channels/{channel}/messages", self._channel_history)
        r.add_patch(api + "/channels/{channel}/messages/{message}", self._edit_channel_message)
        r.add_post(api + "/channels/{channel}/messages/{message}/crosspost", self._crosspost)
        r.add_get(api + "/channels/{channel}/messages/{message}", self._get_channel_message)

    # --- what tests do ---------------------------------------------------------------------
    def chatter(self, channel: str, count: int, user: dict[str, Any] | None = None, ago: float = 0.0) -> None:
        """``count`` messages from a reader in ``channel``, as a busy channel gets them (``ago`` seconds back)."""
        author = user or {"id": self.snowflake(), "username": "reader", "discriminator": "0", "global_name": "reader",
                          "avatar": None, "flags": 0}
        for n in range(count):
            self.channel_messages.setdefault(channel, []).append(
                self._message(channel, {"content": f"chat {n}"}, author=author, ago=ago))

    # --- routes ----------------------------------------------------------------------------
    async def _get_channel(self, request: web.Request) -> web.Response:
        self._auth(request)
        channel = request.match_info["channel"]
        for thread in self.threads:
            if thread["id"] == channel:
                return _json(thread)
        if channel not in self.channels:
            raise DiscordError(404, 10003, "Unknown Channel")
        found = self.channels[channel]
        return _json(found if found["type"] == 1 else {**found, "guild_id": self.guild_id})  # a DM has no guild

    async def _channel_message(self, request: web.Request) -> web.StreamResponse:
        self._auth(request)
        channel = request.match_info["channel"]
        if self._writable(channel)["type"] == 15:
            raise DiscordError(400, 50008, "Cannot send messages in a non-text channel")
        body = await request.json()
        check_message(body)
        nonce = body.get("nonce")
        if nonce is not None and len(str(nonce)) > NONCE_MAX:
            raise _form_error("nonce", "BASE_TYPE_BAD_LENGTH", f"Must be {NONCE_MAX} or fewer in length.")
        fault = self.injected.take()
        early = self.injected.early_answer(fault)
        if early is not None:
            return early
        messages = self.channel_messages.setdefault(channel, [])
        if nonce is not None and body.get("enforce_nonce"):
            # Discord: the same author and nonce "in the past few minutes" returns that message, creating none
            for old in messages:
                if (old.get("nonce") == nonce and old["author"]["id"] == self.bot_user["id"]
                        and time.monotonic() - old["_created"] < self.nonce_window):
                    return await self.injected.late_answer(fault, request, _json(reply(old)))
        msg = self._store_message(channel, body, author=self.bot_user)  # a reply: validated, referenced
        if self.on_message_stored is not None:
            self.on_message_stored(msg)
        asyncio.get_running_loop().create_task(self.deliver(msg))  # Discord sends a bot its own messages too
        return await self.injected.late_answer(fault, request, _json(reply(msg)))

    async def _channel_history(self, request: web.Request) -> web.StreamResponse:
        """Get Channel Messages: ``before``, ``after`` or ``around`` a message id (mutually exclusive), ``limit``
        1-100 (default 50); newest first whichever is asked. History does not carry the nonce."""
        self._auth(request)
        channel = request.match_info["channel"]
        if channel not in self.channels and channel not in self.channel_messages:
            raise DiscordError(404, 10003, "Unknown Channel")
        q = request.query
        anchors = [k for k in ("before", "after", "around") if k in q]
        if len(anchors) > 1:
            raise _form_error(anchors[1], "INVALID_FORM_BODY",
                              "before, after and around are mutually exclusive; only one may be passed.")
        try:
            limit = int(q.get("limit", 50))
        except ValueError:
            raise _form_error("limit", "NUMBER_TYPE_COERCE", f"Value \"{q['limit']}\" is not int.") from None
        if not 1 <= limit <= 100:
            raise _form_error("limit", "NUMBER_TYPE_MAX" if limit > 100 else "NUMBER_TYPE_MIN",
                              "int value should be less than or equal to 100." if limit > 100
                              else "int value should be greater than or equal to 1.")
        early = self.injected.take_read()
        if early is not None:
            return early
        ordered = sorted(self.channel_messages.get(channel, []), key=lambda m: int(m["id"]))
        if "after" in q:
            after = _snowflake_param(q, "after")
            picked = [m for m in ordered if int(m["id"]) > after][:limit]  # the oldest ones after it
        elif "around" in q:
            pivot = _snowflake_param(q, "around")
            older = [m for m in ordered if int(m["id"]) <= pivot][-((limit + 1) // 2):]
            picked = older + [m for m in ordered if int(m["id"]) > pivot][: limit - len(older)]
        elif "before" in q:
            before = _snowflake_param(q, "before")
            picked = [m for m in ordered if int(m["id"]) < before][-limit:]
        else:
            picked = ordered[-limit:]
        self.history_reads += 1
        return _json([public(m) for m in reversed(picked)])

    async def _get_channel_message(self, request: web.Request) -> web.Response:
        self._auth(request)
        return _json(public(self._find_message(request.match_info["channel"], request.match_info["message"])))

    def _find_message(self, channel: str, message_id: str) -> dict[str, Any]:
        for m in self.channel_messages.get(channel, []):
            if m["id"] == message_id:
                return m
        raise DiscordError(404, 10008, "Unknown Message")

    async def _edit_channel_message(self, request: web.Request) -> web.Response:
        self._auth(request)
        channel = request.match_info["channel"]
        if channel in self.channels:
            self._writable(channel)
        target = self._find_message(channel, request.match_info["message"])
        body = await request.json()
        check_message({k: body.get(k, target.get(k)) for k in ("content", "embeds", "allowed_mentions", "components")})
        target.update({k: v for k, v in body.items() if k in ("content", "embeds", "allowed_mentions", "components")})
        target["edited_timestamp"] = now_iso()
        return _json(public(target))

    async def _crosspost(self, request: web.Request) -> web.Response:
        self._auth(request)
        channel = request.match_info["channel"]
        if self.channels.get(channel, {}).get("type") != NEWS:
            raise DiscordError(400, 50068, "Invalid message type for operation")
        target = self._find_message(channel, request.match_info["message"])
        self.crossposted.add(target["id"])
        target["flags"] = target.get("flags", 0) | 1
        return _json(public(target))
