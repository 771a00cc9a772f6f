"""Readers' messages and the bot's replies over the gateway: MESSAGE_CREATE as Discord delivers it, Start Thread
from Message, THREAD_CREATE.

What Discord documents, and this server does:

- MESSAGE_CREATE for a guild channel or thread reaches a session only with the GUILD_MESSAGES intent
  (1 << 9), for the bot's own messages too; in a DM channel (type 1, no ``guild_id``, no ``member``) only
  with DIRECT_MESSAGES (1 << 12).
- Without the privileged MESSAGE_CONTENT intent (1 << 15), ``content``, ``embeds``, ``attachments`` and
  ``components`` arrive empty, except in messages the app sent, in messages that mention it, in
  replies to its own messages, and in DMs with it.
- ``mentions``: the users mentioned as ``<@id>`` / ``<@!id>`` in the content, plus the author of the
  replied message when the reply pings them (the default in Discord's client).
- A reply is type 19 with ``message_reference`` (``message_id``, ``channel_id``, ``guild_id``) and
  ``referenced_message``; creating one whose message does not exist in that channel fails (50035,
  REPLIES_UNKNOWN_MESSAGE) unless ``fail_if_not_exists`` is false, which posts a plain message.
- Start Thread from Message (text or announcement channels): the thread's id is the message's id, a name of
  1-100 characters, ``auto_archive_duration`` one of 60/1440/4320/10080, one thread per message (160004);
  the bot needs CREATE_PUBLIC_THREADS (1 << 35), else 403 Missing Permissions (50013).
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from aiohttp import web

from tests.discord_api.gateway import CREATE_PUBLIC_THREADS, Gateway
from tests.discord_api.limits import DiscordError
from tests.discord_api.wire import json_response as _json
from tests.discord_api.wire import now_iso, public

GUILD_MESSAGES = 1 << 9
DIRECT_MESSAGES = 1 << 12
DM = 1  # channel type
MESSAGE_CONTENT = 1 << 15
REPLY = 19
ARCHIVE_DURATIONS = (60, 1440, 4320, 10080)
_USER_MENTION = re.compile(r"<@!?(\d+)>")


def _bad(field: str, code: str, message: str) -> DiscordError:
    return DiscordError(400, 50035, "Invalid Form Body", {field: {"_errors": [{"code": code, "message": message}]}})


class ChatRoutes(Gateway):
    intents: int  # what the bot's session identified with
    known_users: dict[str, dict[str, Any]]

    def add_chat_routes(self, r: web.UrlDispatcher, api: str) -> None:
        r.add_post(api + "/channels/{channel}/messages/{message}/threads", self._thread_from_message)

    # --- what tests do ---------------------------------------------------------------------
    def dm_channel(self, user: dict[str, Any]) -> str:
        """The DM channel between ``user`` and the bot (type 1: ``recipients``, no guild, no name)."""
        for cid, channel in self.channels.items():  # type: ignore[attr-defined]
            if channel["type"] == DM and channel["recipients"][0]["id"] == user["id"]:
                return cid
        cid = self.snowflake()  # type: ignore[attr-defined]
        self.channels[cid] = {"id": cid, "type": DM, "recipients": [user], "last_message_id": None,  # type: ignore[attr-defined]
                              "flags": 0}
        return cid

    def _is_dm(self, channel: str) -> bool:
        return self.channels.get(channel, {}).get("type") == DM  # type: ignore[attr-defined]

    async def say(self, channel: str, content: str, *, user: dict[str, Any] | None = None,
                  reply_to: str | None = None, ping: bool = True,
                  attachments: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """A reader (or ``user``, a bot too) posts ``content`` in ``channel`` (a channel or a thread), replying to
        ``reply_to`` if given (pinging its author when ``ping``), with ``attachments`` (attachment objects) if
        given; dispatched as Discord would. The stored message."""
        author = user or self.user("reader")  # type: ignore[attr-defined]
        body: dict[str, Any] = {"content": content}
        if reply_to is not None:
            body["message_reference"] = {"message_id": reply_to}
        msg = self._store_message(channel, body, author=author, ping=ping)
        msg["attachments"] = list(attachments or [])
        await self.deliver(msg)
        return msg

    def start_thread(self, channel: str, message_id: str, name: str, user: dict[str, Any]) -> dict[str, Any]:
        """A reader starts a thread from a message (e.g. from one of the bot's answers); THREAD_CREATE follows."""
        thread = self._new_thread(channel, message_id, name, user["id"], 4320)
        asyncio.get_running_loop().create_task(self._thread_create(thread))
        return thread

    async def open_forum_post(self, forum: str, name: str, user: dict[str, Any]) -> str:
        """A reader opens a post in ``forum``; THREAD_CREATE follows (the GUILDS intent: every session that can
        see the forum is told of a new thread in it). The post's id."""
        post = self.forum_post(forum, name, user)  # type: ignore[attr-defined]
        await self._thread_create(next(t for t in self.threads if t["id"] == post))
        return post

    def answers_to(self, message_id: str) -> list[dict[str, Any]]:
        """The bot's messages that reply to ``message_id``, wherever they are."""
        return [m for msgs in self.channel_messages.values() for m in msgs
                if m["author"]["id"] == self.app_id and (m.get("message_reference") or {}).get("message_id") == message_id]

    async def posted_in(self, channel: str, timeout: float = 30.0) -> list[dict[str, Any]]:
        """The bot's messages in ``channel`` (a thread too), once there is one."""
        deadline = time.monotonic() + timeout
        while True:
            mine = [m for m in self.channel_messages.get(channel, []) if m["author"]["id"] == self.app_id]
            if mine:
                return mine
            if time.monotonic() > deadline:
                raise TimeoutError(f"the bot posted nothing in channel {channel}")
            await asyncio.sleep(0.05)

    async def answer_to(self, message_id: str, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while not self.answers_to(message_id):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the bot did not answer message {message_id}")
            await asyncio.sleep(0.05)
        return self.answers_to(message_id)[0]

    # --- the message object ------------------------------------------------------------------
    def _where(self, channel: str) -> dict[str, Any]:
        for t in self.threads:
            if t["id"] == channel:
                return t
        if channel not in self.channels:
            raise DiscordError(404, 10003, "Unknown Channel")
        return self.channels[channel]

    def _store_message(self, channel: str, body: dict[str, Any], *, author: dict[str, Any],
                       ping: bool = True) -> dict[str, Any]:
        """Validate the reply, build the message (mentions, reference) and store it."""
        self.known_users[author["id"]] = author
        ref = body.get("message_reference")
        referenced = None
        if ref is not None:
            target = str(ref.get("message_id", ""))
            where = str(ref.get("channel_id") or channel)
            referenced = next((m for m in self.channel_messages.get(where, []) if m["id"] == target), None)
            if referenced is None and ref.get("fail_if_not_exists", True):
                raise _bad("message_reference", "REPLIES_UNKNOWN_MESSAGE", "Unknown message")
        msg = self._message(channel, body, author=author)  # type: ignore[attr-defined]
        if referenced is not None:
            msg["type"] = REPLY
            msg["message_reference"] = {"type": 0, "message_id": referenced["id"], "channel_id": referenced["channel_id"]}
            if not self._is_dm(channel):
                msg["message_reference"]["guild_id"] = self.guild_id
            msg["_referenced"] = referenced
        parse = (body.get("allowed_mentions") or {"parse": ["users"]}).get("parse", [])
        mentioned = {uid for uid in _USER_MENTION.findall(msg["content"])} if "users" in parse else set()
        wants_ping = ping if author["id"] != self.app_id else (body.get("allowed_mentions") or {}).get("replied_user")
        if referenced is not None and wants_ping:
            mentioned.add(referenced["author"]["id"])
        known = {**self.known_users, self.app_id: self.bot_user}
        msg["mentions"] = [known[uid] for uid in sorted(mentioned) if uid in known]
        if not self._is_dm(channel):
            msg["guild_id"] = self.guild_id
        self.channel_messages.setdefault(channel, []).append(msg)
        return msg

    def _as_delivered(self, msg: dict[str, Any]) -> dict[str, Any]:
        payload = public(msg)
        dm = self._is_dm(msg["channel_id"])
        if not dm:
            # the author's member object, with their roles (the bot's: its managed role)
            roles = self.roles_of(msg["author"]["id"])
            payload["member"] = {"roles": roles, "joined_at": now_iso(), "deaf": False, "mute": False, "flags": 0}
        if msg.get("_referenced") is not None:
            payload["referenced_message"] = public(msg["_referenced"])
        replies_to_me = (msg.get("_referenced") or {}).get("author", {}).get("id") == self.app_id
        visible = (self.intents & MESSAGE_CONTENT or msg["author"]["id"] == self.app_id or replies_to_me or dm
                   or any(u["id"] == self.app_id for u in msg["mentions"]))
        if not visible:
            payload.update(content="", embeds=[], attachments=[], components=[])
        return payload

    async def deliver(self, msg: dict[str, Any]) -> None:
        """MESSAGE_CREATE to the bot's session, if its intents let it have one."""
        needed = DIRECT_MESSAGES if self._is_dm(msg["channel_id"]) else GUILD_MESSAGES
        if self._ws is None or self._ws.closed or not self.intents & needed:
            return
        await self._send(0, self._as_delivered(msg), "MESSAGE_CREATE")

    # --- threads ----------------------------------------------------------------------------
    def _new_thread(self, channel: str, message_id: str, name: str, owner: str, archive_after: int) -> dict[str, Any]:
        parent = self.channels.get(channel)
        if parent is None:
            raise DiscordError(404, 10003, "Unknown Channel")
        if parent["type"] not in (0, 5):
            raise DiscordError(400, 50024, "Cannot execute action on this channel type")
        if not any(m["id"] == message_id for m in self.channel_messages.get(channel, [])):
            raise DiscordError(404, 10008, "Unknown Message")
        if not 1 <= len(name) <= 100:
            raise _bad("name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        if archive_after not in ARCHIVE_DURATIONS:
            raise _bad("auto_archive_duration", "BASE_TYPE_CHOICES", f"Value must be one of {ARCHIVE_DURATIONS}.")
        if any(t["id"] == message_id for t in self.threads):
            raise DiscordError(400, 160004, "A thread has already been created for this message")
        thread = {"id": message_id, "type": 10 if parent["type"] == 5 else 11, "name": name, "parent_id": channel,
                  "guild_id": self.guild_id, "owner_id": owner, "member_count": 1, "message_count": 0,
                  "total_message_sent": 0, "rate_limit_per_user": 0, "last_message_id": None, "flags": 0,
                  "thread_metadata": {"archived": False, "auto_archive_duration": archive_after, "locked": False,
                                      "archive_timestamp": now_iso(), "create_timestamp": now_iso()}}
        self.threads.append(thread)
        return thread

    async def _thread_create(self, thread: dict[str, Any]) -> None:
        if self._ws is not None and not self._ws.closed:
            await self._send(0, {**thread, "newly_created": True}, "THREAD_CREATE")

    async def _thread_from_message(self, request: web.Request) -> web.Response:
        self._auth(request)
        channel = request.match_info["channel"]
        self._writable(channel)
        if not self.bot_may(CREATE_PUBLIC_THREADS):
            raise DiscordError(403, 50013, "Missing Permissions")
        body = await request.json()
        thread = self._new_thread(channel, request.match_info["message"], body.get("name") or "", self.app_id,
                                  body.get("auto_archive_duration", 4320))
        await self._thread_create(thread)
        return _json(thread)
