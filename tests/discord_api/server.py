"""The test server: Discord's REST API under /api/v10 and its gateway over WebSocket, on loopback.

The unmodified discord.py client logs in, connects to the gateway, registers its application
commands and answers interactions that the tests inject. Every payload the bot sends is checked
against Discord's documented shapes and limits (``limits.py``); a broken one gets Discord's 400
error body, and is also recorded in ``rejected`` so a test can fail on it. Interactions must be
acknowledged within 3 s (afterwards: 404, code 10062), as on Discord.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import itertools
import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.discord_api.limits import EPHEMERAL, DiscordError, check_choices, check_commands, check_message

log = logging.getLogger(__name__)
API = "/api/v10"
ACK_DEADLINE = 3.0
TOKEN_LIFETIME = 15 * 60
DISCORD_EPOCH_MS = 1_420_070_400_000
ADMINISTRATOR = 1 << 3
DEFAULT_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 31)  # view channel, send messages, use application commands


def _json(data: Any, status: int = 200) -> web.Response:
    """JSON the way Discord sends it: Content-Type exactly application/json (discord.py compares it)."""
    return web.Response(body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"})


def _now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat()


def _public(message: dict[str, Any]) -> dict[str, Any]:
    """A stored message as history returns it: no test bookkeeping, no nonce."""
    return {k: v for k, v in message.items() if not k.startswith("_") and k != "nonce"}


def _rate_limited() -> web.Response:
    return web.Response(body=json.dumps({"message": "You are being rate limited.", "retry_after": 0.05,
                                         "global": False}).encode(), status=429,
                        headers={"Content-Type": "application/json", "Via": "1.1 google",
                                 "X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "0.05"})


def _cut_off(request: web.Request) -> web.Response:
    """The request was carried out, but the connection drops before the answer reaches the bot."""
    assert request.transport is not None
    request.transport.close()
    return web.Response(status=500)


@dataclass
class InteractionRecord:
    id: str
    token: str
    type: int
    data: dict[str, Any]
    user_id: str
    created: float
    acked_at: float | None = None
    response_type: int | None = None
    ephemeral: bool = False
    original: dict[str, Any] | None = None  # the response message (created by type 4, or the deferred one)
    followups: list[dict[str, Any]] = field(default_factory=list)
    choices: list[dict[str, Any]] | None = None  # autocomplete answer
    errors: list[dict[str, Any]] = field(default_factory=list)  # error bodies this interaction's requests got
    final: asyncio.Event = field(default_factory=asyncio.Event)  # a visible answer exists

    @property
    def messages(self) -> list[dict[str, Any]]:
        return ([self.original] if self.original else []) + self.followups

    async def answered(self, timeout: float = 30.0) -> InteractionRecord:
        await asyncio.wait_for(self.final.wait(), timeout)
        return self


class DiscordTestServer:
    def __init__(self, *, token: str = "test-token.abc.def", heartbeat_interval_ms: int = 1000) -> None:
        self.token = token
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self._ids = itertools.count()  # Discord's snowflakes: ms since 2015 << 22, then a counter
        self._last_id = 0
        self.nonce_window = 300.0  # Discord drops a repeated nonce only within a few minutes; a test may shorten it
        self.statuses: collections.Counter[int] = collections.Counter()  # every non-2xx response, by status
        self.app_id = self.snowflake()
        self.bot_user = {"id": self.app_id, "username": "backissue", "discriminator": "0", "global_name": None,
                         "avatar": None, "bot": True, "flags": 0}
        self.owner = self.user("owner")
        self.guild_id = self.snowflake()
        self.channel_id = self.snowflake()
        self.news_channel_id = self.snowflake()
        self.forum_channel_id = self.snowflake()
        self.channels: dict[str, dict[str, Any]] = {
            self.channel_id: self._channel_payload(self.channel_id, "general", 0),
            self.news_channel_id: self._channel_payload(self.news_channel_id, "announcements", 5),
            self.forum_channel_id: self._channel_payload(self.forum_channel_id, "issues", 15),
        }
        self.forbidden: set[str] = set()  # channels the bot may not post in (403, code 50001)
        self.faults: list[str] = []  # next message posts fail: "500", "429", "drop" (stored, then cut off)
        self.crossposted: set[str] = set()
        self.threads: list[dict[str, Any]] = []
        self.on_message_stored: Any = None  # callable(message) run before the response is sent
        self.commands: dict[str | None, list[dict[str, Any]]] = {}  # guild id (None: global) -> commands
        self.interactions: dict[str, InteractionRecord] = {}
        self.channel_messages: dict[str, list[dict[str, Any]]] = {}
        self.rejected: list[tuple[str, dict[str, Any]]] = []  # (route, error body) of every 400
        self.heartbeats: list[float] = []
        self.identified = asyncio.Event()
        self.synced = asyncio.Event()
        self._ws: web.WebSocketResponse | None = None
        self._seq = 0
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- helpers ---------------------------------------------------------------------------
    def _channel_payload(self, cid: str, name: str, kind: int) -> dict[str, Any]:
        payload: dict[str, Any] = {"id": cid, "type": kind, "name": name, "position": 0, "guild_id": None,
                                   "permission_overwrites": [], "nsfw": False, "parent_id": None}
        if kind == 15:
            payload.update({"available_tags": [], "default_reaction_emoji": None, "default_sort_order": None,
                            "default_forum_layout": 0, "flags": 0})
        return payload

    def text_channel(self, name: str) -> str:
        cid = self.snowflake()
        self.channels[cid] = self._channel_payload(cid, name, 0)
        self.channels[cid]["guild_id"] = self.guild_id
        return cid

    def snowflake(self) -> str:
        sid = max(((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | (next(self._ids) & 0xFFF), self._last_id + 1)
        self._last_id = sid
        return str(sid)

    def non_2xx(self) -> int:
        return sum(self.statuses.values())

    def user(self, name: str) -> dict[str, Any]:
        return {"id": self.snowflake(), "username": name, "discriminator": "0", "global_name": name,
                "avatar": None, "flags": 0}

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        return self.base + API

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    # --- life cycle ------------------------------------------------------------------------
    async def start(self) -> DiscordTestServer:
        app = web.Application(middlewares=[self._errors])
        r = app.router
        r.add_get("/", self._gateway)
        r.add_get(API + "/users/@me", self._me)
        r.add_get(API + "/oauth2/applications/@me", self._application)
        r.add_get(API + "/gateway", self._gateway_info)
        r.add_get(API + "/gateway/bot", self._gateway_info)
        r.add_put(API + "/applications/{app}/commands", self._put_commands)
        r.add_put(API + "/applications/{app}/guilds/{guild}/commands", self._put_commands)
        r.add_get(API + "/applications/{app}/commands", self._get_commands)
        r.add_post(API + "/interactions/{id}/{token}/callback", self._callback)
        r.add_post(API + "/webhooks/{app}/{token}", self._followup)
        r.add_get(API + "/webhooks/{app}/{token}/messages/{message}", self._get_webhook_message)
        r.add_patch(API + "/webhooks/{app}/{token}/messages/{message}", self._edit_webhook_message)
        r.add_get(API + "/channels/{channel}", self._get_channel)
        r.add_post(API + "/channels/{channel}/messages", self._channel_message)
        r.add_get(API + "/channels/{channel}/messages", self._channel_history)
        r.add_patch(API + "/channels/{channel}/messages/{message}", self._edit_channel_message)
        r.add_post(API + "/channels/{channel}/messages/{message}/crosspost", self._crosspost)
        r.add_get(API + "/channels/{channel}/messages/{message}", self._get_channel_message)
        r.add_post(API + "/channels/{channel}/threads", self._forum_thread)
        r.add_get(API + "/guilds/{guild}/threads/active", self._active_threads)
        r.add_get(API + "/channels/{channel}/threads/archived/public", self._archived_threads)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- REST ------------------------------------------------------------------------------
    @web.middleware
    async def _errors(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path.startswith(API) and request.headers.get("Authorization") not in (None, f"Bot {self.token}"):
            return _json({"message": "401: Unauthorized", "code": 0}, status=401)
        try:
            response = await handler(request)
        except DiscordError as exc:
            if exc.status == 400:
                self.rejected.append((request.path, exc.body))
                log.warning("test server rejected %s %s: %s", request.method, request.path, json.dumps(exc.body))
            response = _json(exc.body, status=exc.status)
        if not 200 <= response.status < 300 and request.path.startswith(API):
            self.statuses[response.status] += 1
        return response

    def _auth(self, request: web.Request) -> None:
        if request.headers.get("Authorization") != f"Bot {self.token}":
            raise DiscordError(401, 0, "401: Unauthorized")

    async def _me(self, request: web.Request) -> web.Response:
        self._auth(request)
        return _json(self.bot_user)

    async def _application(self, request: web.Request) -> web.Response:
        self._auth(request)
        return _json({
            "id": self.app_id, "name": "backissue", "description": "", "icon": None, "bot_public": True,
            "bot_require_code_grant": False, "owner": self.owner, "verify_key": "0" * 64, "flags": 0,
            "team": None, "summary": "", "rpc_origins": [], "bot": self.bot_user,
        })

    async def _gateway_info(self, request: web.Request) -> web.Response:
        return _json({"url": self.gateway_url, "shards": 1, "session_start_limit": {
            "total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}})

    async def _put_commands(self, request: web.Request) -> web.Response:
        self._auth(request)
        body = await request.json()
        check_commands(body)
        guild = request.match_info.get("guild")
        out = []
        for c in body:
            out.append({**c, "id": self.snowflake(), "application_id": self.app_id, "version": self.snowflake(),
                        "type": c.get("type", 1), "guild_id": guild, "options": c.get("options", []),
                        "default_member_permissions": None if c.get("default_member_permissions") is None
                        else str(c["default_member_permissions"]), "nsfw": c.get("nsfw", False)})
        self.commands[guild] = out
        self.synced.set()
        return _json(out)

    async def _get_commands(self, request: web.Request) -> web.Response:
        return _json(self.commands.get(None, []))

    def _message(self, channel_id: str, body: dict[str, Any], *, interaction: InteractionRecord | None = None,
                 flags: int = 0) -> dict[str, Any]:
        msg = {
            "id": self.snowflake(), "channel_id": channel_id, "author": self.bot_user,
            "content": body.get("content") or "", "embeds": body.get("embeds") or [], "timestamp": _now_iso(),
            "edited_timestamp": None, "tts": False, "mention_everyone": False, "mentions": [], "mention_roles": [],
            "attachments": [], "pinned": False, "type": 0 if interaction is None else 20,
            "flags": flags | (body.get("flags") or 0), "components": body.get("components") or [],
            "allowed_mentions": body.get("allowed_mentions"), "nonce": body.get("nonce"),
        }
        if interaction is not None:
            msg["webhook_id"] = self.app_id
            msg["application_id"] = self.app_id
        return msg

    def _interaction_for(self, token: str) -> InteractionRecord:
        for rec in self.interactions.values():
            if rec.token == token:
                if time.monotonic() - rec.created > TOKEN_LIFETIME:
                    raise DiscordError(401, 50027, "Invalid Webhook Token")
                return rec
        raise DiscordError(404, 10015, "Unknown Webhook")

    async def _callback(self, request: web.Request) -> web.Response:
        rec = self.interactions.get(request.match_info["id"])
        if rec is None or rec.token != request.match_info["token"]:
            raise DiscordError(404, 10062, "Unknown interaction")
        try:
            return await self._answer_callback(request, rec)
        except DiscordError as exc:
            rec.errors.append(exc.body)
            raise

    async def _answer_callback(self, request: web.Request, rec: InteractionRecord) -> web.Response:
        now = time.monotonic()
        if now - rec.created > ACK_DEADLINE:
            raise DiscordError(404, 10062, "Unknown interaction")
        if rec.acked_at is not None:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        body = await request.json()
        kind = body.get("type")
        data = body.get("data") or {}
        allowed = {4: {8}, 2: {4, 5, 9}}.get(rec.type, set())
        if kind not in allowed:
            raise DiscordError(400, 50035, "Invalid Form Body", {"type": {"_errors": [
                {"code": "INTERACTION_RESPONSE_TYPE_INVALID", "message": "Interaction response type is invalid"}]}})
        if kind == 8:
            check_choices(data)
            rec.choices = data["choices"]
        elif kind == 4:
            check_message(data, prefix="data.")
        rec.acked_at = now
        rec.response_type = kind
        rec.ephemeral = bool((data.get("flags") or 0) & EPHEMERAL)
        callback: dict[str, Any] = {"interaction": {
            "id": rec.id, "type": rec.type, "response_message_loading": kind == 5,
            "response_message_ephemeral": rec.ephemeral}}
        if kind in (4, 5):
            rec.original = self._message(self.channel_id, data if kind == 4 else {}, interaction=rec,
                                         flags=(EPHEMERAL if rec.ephemeral else 0) | (128 if kind == 5 else 0))
            callback["interaction"]["response_message_id"] = rec.original["id"]
            callback["resource"] = {"type": kind, "message": rec.original}
            if kind == 4:
                rec.final.set()
        elif kind == 8:
            rec.final.set()
        if request.query.get("with_response") in ("1", "true", "True"):
            return _json(callback)
        return web.Response(status=204)

    async def _followup(self, request: web.Request) -> web.Response:
        rec = self._interaction_for(request.match_info["token"])
        if rec.acked_at is None:
            raise DiscordError(404, 10015, "Unknown Webhook")
        body = await request.json()
        try:
            check_message(body)
        except DiscordError as exc:
            rec.errors.append(exc.body)
            raise
        msg = self._message(self.channel_id, body, interaction=rec)
        rec.followups.append(msg)
        rec.final.set()
        return _json(msg)

    def _webhook_target(self, rec: InteractionRecord, message_id: str) -> dict[str, Any]:
        if message_id == "@original":
            if rec.original is None:
                raise DiscordError(404, 10008, "Unknown Message")
            return rec.original
        for m in rec.followups:
            if m["id"] == message_id:
                return m
        raise DiscordError(404, 10008, "Unknown Message")

    async def _get_webhook_message(self, request: web.Request) -> web.Response:
        rec = self._interaction_for(request.match_info["token"])
        return _json(self._webhook_target(rec, request.match_info["message"]))

    async def _edit_webhook_message(self, request: web.Request) -> web.Response:
        rec = self._interaction_for(request.match_info["token"])
        target = self._webhook_target(rec, request.match_info["message"])
        body = await request.json()
        merged = {k: body.get(k, target.get(k)) for k in ("content", "embeds", "allowed_mentions")}
        try:
            check_message(merged)
        except DiscordError as exc:
            rec.errors.append(exc.body)
            raise
        target.update({k: v for k, v in body.items() if k in ("content", "embeds", "allowed_mentions", "components")})
        target["flags"] = target.get("flags", 0) & ~128  # no longer "thinking"
        target["edited_timestamp"] = _now_iso()
        rec.final.set()
        return _json(target)

    def _writable(self, channel: str) -> dict[str, Any]:
        if channel in self.forbidden:
            raise DiscordError(403, 50001, "Missing Access")
        if channel not in self.channels:
            raise DiscordError(404, 10003, "Unknown Channel")
        return self.channels[channel]

    async def _get_channel(self, request: web.Request) -> web.Response:
        self._auth(request)
        channel = request.match_info["channel"]
        if channel not in self.channels:
            raise DiscordError(404, 10003, "Unknown Channel")
        return _json({**self.channels[channel], "guild_id": self.guild_id})

    async def _channel_message(self, request: web.Request) -> web.StreamResponse:
        self._auth(request)
        channel = request.match_info["channel"]
        self._writable(channel)
        body = await request.json()
        check_message(body)
        fault = self._fault()
        if fault == "429":
            return _rate_limited()
        messages = self.channel_messages.setdefault(channel, [])
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            for old in messages:  # Discord: the same author and nonce within a few minutes returns the first message
                if old.get("nonce") == str(nonce) and time.monotonic() - old["_created"] < self.nonce_window:
                    return _json({k: v for k, v in old.items() if not k.startswith("_")})
        msg = self._message(channel, body)
        msg["_created"] = time.monotonic()
        messages.append(msg)
        if self.on_message_stored is not None:
            self.on_message_stored(msg)
        if fault == "drop":  # the message exists, but the bot never hears back
            return _cut_off(request)
        return _json({k: v for k, v in msg.items() if not k.startswith("_")})

    def _fault(self) -> str | None:
        """The next injected fault of a post: "500" and "hang" (no answer for 30 s) raise or wait here."""
        fault = self.faults.pop(0) if self.faults else None
        if fault == "500":
            raise DiscordError(500, 0, "500: Internal Server Error")
        if fault == "503":
            raise DiscordError(503, 0, "503: Service Unavailable")
        return fault

    async def _channel_history(self, request: web.Request) -> web.Response:
        """Get Channel Messages: ``before``/``after``/``around`` a snowflake (one of them), limit 1-100 (default 50),
        always newest first; history does not carry the nonce."""
        self._auth(request)
        q = request.query
        limit = int(q.get("limit", 50))
        if not 1 <= limit <= 100:
            raise DiscordError(400, 50035, "Invalid Form Body", {"limit": {"_errors": [
                {"code": "NUMBER_TYPE_MAX", "message": "int value should be less than or equal to 100."}]}})
        ordered = sorted(self.channel_messages.get(request.match_info["channel"], []), key=lambda m: int(m["id"]))
        if "after" in q:
            picked = [m for m in ordered if int(m["id"]) > int(q["after"])][:limit]
        elif "around" in q:
            pivot = int(q["around"])
            older = [m for m in ordered if int(m["id"]) <= pivot][-((limit + 1) // 2):]
            picked = older + [m for m in ordered if int(m["id"]) > pivot][: limit - len(older)]
        elif "before" in q:
            picked = [m for m in ordered if int(m["id"]) < int(q["before"])][-limit:]
        else:
            picked = ordered[-limit:]
        return _json([_public(m) for m in reversed(picked)])

    async def _get_channel_message(self, request: web.Request) -> web.Response:
        self._auth(request)
        return _json(_public(self._find_message(request.match_info["channel"], request.match_info["message"])))

    def _find_message(self, channel: str, message_id: str) -> dict[str, Any]:
        for m in self.channel_messages.get(channel, []):
            if m["id"] == message_id:
                return m
        raise DiscordError(404, 10008, "Unknown Message")

    async def _edit_channel_message(self, request: web.Request) -> web.Response:
        self._auth(request)
        channel = request.match_info["channel"]
        self._writable(channel)
        target = self._find_message(channel, request.match_info["message"])
        body = await request.json()
        check_message({k: body.get(k, target.get(k)) for k in ("content", "embeds", "allowed_mentions")})
        target.update({k: v for k, v in body.items() if k in ("content", "embeds", "allowed_mentions")})
        target["edited_timestamp"] = _now_iso()
        return _json({k: v for k, v in target.items() if not k.startswith("_")})

    async def _crosspost(self, request: web.Request) -> web.Response:
        self._auth(request)
        channel = request.match_info["channel"]
        if self.channels.get(channel, {}).get("type") != 5:
            raise DiscordError(400, 50068, "Invalid message type for operation")
        target = self._find_message(channel, request.match_info["message"])
        self.crossposted.add(target["id"])
        target["flags"] = target.get("flags", 0) | 1
        return _json({k: v for k, v in target.items() if not k.startswith("_")})

    async def _forum_thread(self, request: web.Request) -> web.Response:
        self._auth(request)
        forum = request.match_info["channel"]
        if self._writable(forum)["type"] != 15:
            raise DiscordError(400, 50024, "Cannot execute action on this channel type")
        body = await request.json()
        name = body.get("name") or ""
        if not 1 <= len(name) <= 100:
            raise DiscordError(400, 50035, "Invalid Form Body",
                               {"name": {"_errors": [{"code": "BASE_TYPE_BAD_LENGTH",
                                                      "message": "Must be between 1 and 100 in length."}]}})
        check_message(body.get("message") or {})
        fault = self._fault()
        if fault == "429":
            return _rate_limited()
        thread_id = self.snowflake()
        thread = {"id": thread_id, "type": 11, "name": name, "parent_id": forum, "guild_id": self.guild_id,
                  "owner_id": self.app_id, "member_count": 1, "message_count": 1, "rate_limit_per_user": 0,
                  "thread_metadata": {"archived": False, "auto_archive_duration": 4320, "locked": False,
                                      "archive_timestamp": _now_iso(), "create_timestamp": _now_iso()},
                  "flags": 0, "applied_tags": []}
        msg = {**self._message(thread_id, body.get("message") or {}), "id": thread_id}  # the starter's id is the thread's
        self.channel_messages.setdefault(thread_id, []).append({**msg, "_created": time.monotonic()})
        self.threads.append(thread)
        if fault == "drop":
            return _cut_off(request)
        return _json({**thread, "message": msg})

    def archive(self, thread_id: str) -> None:
        """What Discord does after a thread's auto_archive_duration of inactivity."""
        for t in self.threads:
            if t["id"] == thread_id:
                t["thread_metadata"].update({"archived": True, "archive_timestamp": _now_iso()})

    async def _active_threads(self, request: web.Request) -> web.Response:
        """List Active Guild Threads: every unarchived thread of the guild, with the bot's thread members."""
        self._auth(request)
        if request.match_info["guild"] != self.guild_id:
            raise DiscordError(404, 10004, "Unknown Guild")
        active = [t for t in self.threads if not t["thread_metadata"]["archived"]]
        return _json({"threads": active, "members": [
            {"id": t["id"], "user_id": self.app_id, "join_timestamp": t["thread_metadata"]["archive_timestamp"],
             "flags": 1} for t in active]})

    async def _archived_threads(self, request: web.Request) -> web.Response:
        """List Public Archived Threads: newest archive_timestamp first, ``before`` an ISO8601 timestamp, has_more."""
        self._auth(request)
        channel = request.match_info["channel"]
        if channel not in self.channels:
            raise DiscordError(404, 10003, "Unknown Channel")
        limit = int(request.query.get("limit", 50))
        before = request.query.get("before")
        archived = sorted((t for t in self.threads if t["parent_id"] == channel and t["thread_metadata"]["archived"]),
                          key=lambda t: t["thread_metadata"]["archive_timestamp"], reverse=True)
        if before:
            cut = dt.datetime.fromisoformat(before.replace("Z", "+00:00"))
            archived = [t for t in archived if dt.datetime.fromisoformat(t["thread_metadata"]["archive_timestamp"]) < cut]
        return _json({"threads": archived[:limit], "members": [], "has_more": len(archived) > limit})

    # --- gateway ---------------------------------------------------------------------------
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
        await self._send(0, {
            "id": self.guild_id, "name": "Newsletter readers", "icon": None, "owner_id": self.owner["id"],
            "afk_timeout": 300, "verification_level": 0, "default_message_notifications": 0,
            "explicit_content_filter": 0, "roles": [everyone], "emojis": [], "stickers": [], "features": [],
            "mfa_level": 0, "system_channel_flags": 0, "premium_tier": 0, "nsfw_level": 0, "preferred_locale": "en-US",
            "member_count": 3, "large": False, "unavailable": False, "joined_at": _now_iso(),
            "members": [{"user": self.bot_user, "roles": [], "joined_at": _now_iso(), "deaf": False, "mute": False,
                         "flags": 0}],
            "channels": [{k: v for k, v in c.items() if k != "guild_id"} for c in self.channels.values()],
            "threads": [], "voice_states": [], "presences": [], "stage_instances": [], "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }, "GUILD_CREATE")
        self.identified.set()

    # --- what tests do ---------------------------------------------------------------------
    def command_id(self, name: str) -> str:
        for cmds in self.commands.values():
            for c in cmds:
                if c["name"] == name:
                    return str(c["id"])
        raise KeyError(f"command {name!r} was never registered")

    async def interact(self, name: str, options: dict[str, Any] | None = None, *, admin: bool = False,
                       autocomplete: str | None = None, user: dict[str, Any] | None = None) -> InteractionRecord:
        """Inject INTERACTION_CREATE for slash command ``name`` (or its autocomplete for option ``autocomplete``)."""
        user = user or self.user("reader")
        opts = []
        for key, value in (options or {}).items():
            kind = 5 if isinstance(value, bool) else 4 if isinstance(value, int) else 3
            o: dict[str, Any] = {"name": key, "type": kind, "value": value}
            if key == autocomplete:
                o["focused"] = True
            opts.append(o)
        perms = DEFAULT_PERMISSIONS | (ADMINISTRATOR if admin else 0)
        rec = InteractionRecord(
            id=self.snowflake(), token="aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48), type=4 if autocomplete else 2,
            data={"id": self.command_id(name), "name": name, "type": 1, "options": opts}, user_id=user["id"],
            created=time.monotonic(),
        )
        self.interactions[rec.id] = rec
        await self._send(0, {
            "id": rec.id, "application_id": self.app_id, "type": rec.type, "data": rec.data, "token": rec.token,
            "version": 1, "guild_id": self.guild_id, "channel_id": self.channel_id,
            "channel": {"id": self.channel_id, "type": 0, "name": "general", "guild_id": self.guild_id,
                        "position": 0, "permission_overwrites": [], "nsfw": False, "parent_id": None},
            "member": {"user": user, "roles": [], "joined_at": _now_iso(), "deaf": False, "mute": False, "flags": 0,
                       "permissions": str(perms), "pending": False, "nick": None, "avatar": None},
            "app_permissions": str(DEFAULT_PERMISSIONS), "locale": "en-US", "guild_locale": "en-US",
            "entitlements": [], "authorizing_integration_owners": {"0": self.guild_id}, "context": 0,
            "attachment_size_limit": 8 * 1024 * 1024,
        }, "INTERACTION_CREATE")
        return rec
