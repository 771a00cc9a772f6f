"""Forum posts are threads: Start Thread in Forum Channel (with its first message), List Active Guild Threads,
List Public Archived Threads (``before`` an ISO8601 timestamp, newest archive_timestamp first, ``has_more``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web

from tests.discord_api.base import FORUM, ServerBase
from tests.discord_api.limits import DiscordError, check_message
from tests.discord_api.wire import json_response as _json
from tests.discord_api.wire import now_iso, reply

ARCHIVE_DURATIONS = (60, 1440, 4320, 10080)  # minutes


def _bad(field: str, code: str, message: str) -> DiscordError:
    return DiscordError(400, 50035, "Invalid Form Body", {field: {"_errors": [{"code": code, "message": message}]}})


def _when(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


class ThreadRoutes(ServerBase):
    thread_lookups: int  # active + archived thread listings answered

    def add_thread_routes(self, r: web.UrlDispatcher, api: str) -> None:
        r.add_post(api + "/channels/{channel}/threads", self._forum_thread)
        r.add_get(api + "/guilds/{guild}/threads/active", self._active_threads)
        r.add_get(api + "/channels/{channel}/threads/archived/public", self._archived_threads)

    # --- what tests do ---------------------------------------------------------------------
    def archive(self, thread_id: str) -> None:
        """What Discord does after a thread's auto_archive_duration of inactivity."""
        for t in self.threads:
            if t["id"] == thread_id:
                t["thread_metadata"].update({"archived": True, "archive_timestamp": now_iso()})

    def forum_post(self, forum: str, name: str, user: dict[str, Any] | None = None) -> str:
        """A reader's own post in ``forum`` (not the bot's)."""
        author = user or {"id": self.snowflake(), "username": "reader", "discriminator": "0",
                          "global_name": "reader", "avatar": None, "flags": 0}
        thread = self._thread(forum, name, author["id"], 4320)
        msg = self._message(thread["id"], {"content": f"{name}?"}, author=author, message_id=thread["id"])
        self.channel_messages.setdefault(thread["id"], []).append(msg)
        self.threads.append(thread)
        return str(thread["id"])

    # --- routes ----------------------------------------------------------------------------
    def _thread(self, forum: str, name: str, owner: str, archive_after: int) -> dict[str, Any]:
        thread_id = self.snowflake()
        return {"id": thread_id, "type": 11, "name": name, "parent_id": forum, "guild_id": self.guild_id,
                "owner_id": owner, "member_count": 1, "message_count": 1, "total_message_sent": 1,
                "rate_limit_per_user": 0, "last_message_id": thread_id, "flags": 0, "applied_tags": [],
                "thread_metadata": {"archived": False, "auto_archive_duration": archive_after, "locked": False,
                                    "archive_timestamp": self.iso_of(thread_id),
                                    "create_timestamp": self.iso_of(thread_id)}}

    async def _forum_thread(self, request: web.Request) -> web.StreamResponse:
        """Start Thread in Forum or Media Channel: a name (1-100), a message; the starter message's id is the
        thread's. No nonce: Discord offers no way to make this request idempotent."""
        self._auth(request)
        forum = request.match_info["channel"]
        if self._writable(forum)["type"] != FORUM:
            raise DiscordError(400, 50024, "Cannot execute action on this channel type")
        body = await request.json()
        name = body.get("name") or ""
        if not 1 <= len(name) <= 100:
            raise _bad("name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        archive_after = body.get("auto_archive_duration", 4320)
        if archive_after not in ARCHIVE_DURATIONS:
            raise _bad("auto_archive_duration", "BASE_TYPE_CHOICES",
                       f"Value must be one of {ARCHIVE_DURATIONS}.")
        if "message" not in body:
            raise _bad("message", "BASE_TYPE_REQUIRED", "This field is required")
        check_message(body["message"] or {}, prefix="message.")
        fault = self.injected.take()
        early = self.injected.early_answer(fault)
        if early is not None:
            return early
        thread = self._thread(forum, name, self.app_id, archive_after)
        msg = self._message(thread["id"], body["message"] or {}, message_id=thread["id"])
        self.channel_messages.setdefault(thread["id"], []).append(msg)
        self.threads.append(thread)
        if self.on_message_stored is not None:
            self.on_message_stored(msg)
        await self._thread_create(thread)  # Discord tells the gateway of the new thread, whatever the answer
        return await self.injected.late_answer(fault, request, _json({**thread, "message": reply(msg)}))

    async def _active_threads(self, request: web.Request) -> web.StreamResponse:
        """List Active Guild Threads: every unarchived thread of the guild, with the bot's own thread members."""
        self._auth(request)
        if request.match_info["guild"] != self.guild_id:
            raise DiscordError(404, 10004, "Unknown Guild")
        early = self.injected.take_read()
        if early is not None:
            return early
        self.thread_lookups += 1
        active = [t for t in self.threads if not t["thread_metadata"]["archived"]]
        return _json({"threads": active, "members": [
            {"id": t["id"], "user_id": self.app_id, "join_timestamp": t["thread_metadata"]["create_timestamp"],
             "flags": 1} for t in active if t["owner_id"] == self.app_id]})

    async def _archived_threads(self, request: web.Request) -> web.StreamResponse:
        """List Public Archived Threads: newest archive_timestamp first, ``before`` an ISO8601 timestamp, ``limit``
        (2-100 in practice, default 50), ``has_more``."""
        self._auth(request)
        channel = request.match_info["channel"]
        if channel not in self.channels:
            raise DiscordError(404, 10003, "Unknown Channel")
        try:
            limit = int(request.query.get("limit", 50))
        except ValueError:
            raise _bad("limit", "NUMBER_TYPE_COERCE", "Value is not int.") from None
        if not 2 <= limit <= 100:
            raise _bad("limit", "NUMBER_TYPE_MAX" if limit > 100 else "NUMBER_TYPE_MIN",
                       "int value should be between 2 and 100.")
        early = self.injected.take_read()
        if early is not None:
            return early
        before = request.query.get("before")
        archived = sorted((t for t in self.threads if t["parent_id"] == channel and t["thread_metadata"]["archived"]),
                          key=lambda t: _when(t["thread_metadata"]["archive_timestamp"]), reverse=True)
        if before:
            try:
                cut = _when(before)
            except ValueError:
                raise _bad("before", "DATE_TYPE_PARSE", f"Could not parse {before}. Should be ISO8601.") from None
            archived = [t for t in archived if _when(t["thread_metadata"]["archive_timestamp"]) < cut]
        self.thread_lookups += 1
        return _json({"threads": archived[:limit], "members": [], "has_more": len(archived) > limit})
