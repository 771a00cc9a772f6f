"""Application commands and interactions: command registration, interaction callbacks, follow-ups and the
interaction webhook's messages, as Discord documents them (acknowledge within 3 s; tokens live 15 minutes).
Slash commands and message commands (type 3: no description, no options; invoked on a message, which
arrives resolved in the interaction's data)."""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.discord_api.gateway import DEFAULT_PERMISSIONS, Gateway
from tests.discord_api.limits import (
    EPHEMERAL,
    LOADING,
    DiscordError,
    check_choices,
    check_commands,
    check_message,
    check_modal,
)
from tests.discord_api.wire import json_response as _json
from tests.discord_api.wire import now_iso as _now_iso
from tests.discord_api.wire import public, reply

ACK_DEADLINE = 3.0
TOKEN_LIFETIME = 15 * 60
ADMINISTRATOR = 1 << 3
MESSAGE_COMMAND = 3  # application command type MESSAGE: Apps in a message's context menu
GUILD, BOT_DM, PRIVATE_CHANNEL = 0, 1, 2  # interaction context types
GUILD_INSTALL, USER_INSTALL = "0", "1"  # application integration types, as authorizing_integration_owners' keys


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
    message_id: str | None = None  # a component interaction's: the message whose button was pressed
    channel_id: str = ""  # where it happened, when not the guild's general channel (a DM, a group DM)
    modal: dict[str, Any] | None = None  # the modal the app answered with (callback type 9)

    @property
    def messages(self) -> list[dict[str, Any]]:
        return ([self.original] if self.original else []) + self.followups

    async def answered(self, timeout: float = 30.0) -> InteractionRecord:
        await asyncio.wait_for(self.final.wait(), timeout)
        return self


class InteractionRoutes(Gateway):
    commands: dict[str | None, list[dict[str, Any]]]
    interactions: dict[str, InteractionRecord]
    synced: asyncio.Event

    def user(self, name: str) -> dict[str, Any]:
        return {"id": self.snowflake(), "username": name, "discriminator": "0", "global_name": name,
                "avatar": None, "flags": 0}

    async def _put_commands(self, request: web.Request) -> web.Response:
        self._auth(request)
        body = await request.json()
        check_commands(body)
        guild = request.match_info.get("guild")
        out = []
        for c in body:
            out.append({**c, "id": self.snowflake(), "application_id": self.app_id, "version": self.snowflake(),
                        "type": c.get("type", 1), "guild_id": guild, "options": c.get("options", []),
                        # a context menu command has no description: Discord answers with "", not null
                        "description": c.get("description") or "",
                        "default_member_permissions": None if c.get("default_member_permissions") is None
                        else str(c["default_member_permissions"]), "nsfw": c.get("nsfw", False)})
        self.commands[guild] = out
        self.synced.set()
        return _json(out)

    async def _get_commands(self, request: web.Request) -> web.Response:
        return _json(self.commands.get(None, []))
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
        # MODAL is "not available for MODAL_SUBMIT and PING interactions"; 6 and 7 only for component-based ones
        # (a modal submit counts when the modal was opened from a component)
        allowed = {4: {8}, 2: {4, 5, 9}, 3: {4, 5, 6, 7, 9},
                   5: {4, 5, 6, 7} if rec.message_id is not None else {4, 5}}.get(rec.type, set())
        if kind not in allowed:
            raise DiscordError(400, 50035, "Invalid Form Body", {"type": {"_errors": [
                {"code": "INTERACTION_RESPONSE_TYPE_INVALID", "message": "Interaction response type is invalid"}]}})
        if kind == 8:
            check_choices(data)
            rec.choices = data["choices"]
        elif kind == 4:
            check_message(data, prefix="data.")
        elif kind == 9:
            check_modal(data)
            rec.modal = data
        elif kind == 7:  # UPDATE_MESSAGE: the data edits the message the component is on
            target = self.component_message(rec)
            check_message({k: data.get(k, target.get(k)) for k in ("content", "embeds", "allowed_mentions",
                                                                   "components")}, prefix="data.")
        rec.acked_at = now
        rec.response_type = kind
        rec.ephemeral = bool((data.get("flags") or 0) & EPHEMERAL)
        callback: dict[str, Any] = {"interaction": {
            "id": rec.id, "type": rec.type, "response_message_loading": kind == 5,
            "response_message_ephemeral": rec.ephemeral}}
        if kind in (4, 5):
            rec.original = self._message(rec.channel_id or self.channel_id, data if kind == 4 else {}, webhook=True,
                                         flags=(EPHEMERAL if rec.ephemeral else 0) | (LOADING if kind == 5 else 0))
            callback["interaction"]["response_message_id"] = rec.original["id"]
            callback["resource"] = {"type": kind, "message": reply(rec.original)}
            if kind == 4:
                rec.final.set()
        elif kind in (8, 9):  # the choices, or the modal, are what the user sees
            rec.final.set()
        elif kind in (6, 7):  # the component's message is the interaction's original from now on
            rec.original = self.component_message(rec)
            if kind == 7:
                self.edit_stored(rec.original, data)
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
        loading = rec.original
        if rec.response_type == 5 and loading is not None and loading["flags"] & LOADING:
            # Discord's documented backwards compatibility: the first follow-up after a deferred response edits
            # the loading message; no new message, and its ephemeral state stays the defer's
            loading.update({k: v for k, v in body.items() if k in ("content", "embeds", "allowed_mentions", "components")})
            loading["flags"] &= ~LOADING
            loading["edited_timestamp"] = _now_iso()
            rec.final.set()
            return _json(reply(loading))
        msg = self._message(rec.channel_id or self.channel_id, body, webhook=True)
        msg["mentions"] = self.mentioned(body)
        rec.followups.append(msg)
        rec.final.set()
        return _json(reply(msg))

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
        return _json(reply(self._webhook_target(rec, request.match_info["message"])))

    async def _edit_webhook_message(self, request: web.Request) -> web.Response:
        rec = self._interaction_for(request.match_info["token"])
        target = self._webhook_target(rec, request.match_info["message"])
        body = await request.json()
        merged = {k: body.get(k, target.get(k)) for k in ("content", "embeds", "allowed_mentions", "components")}
        try:
            check_message(merged)
        except DiscordError as exc:
            rec.errors.append(exc.body)
            raise
        self.edit_stored(target, body)
        target["flags"] = target.get("flags", 0) & ~LOADING  # no longer "thinking"
        rec.final.set()
        return _json(reply(target))


    # --- what tests do ---------------------------------------------------------------------
    def command_id(self, name: str) -> str:
        for cmds in self.commands.values():
            for c in cmds:
                if c["name"] == name:
                    return str(c["id"])
        raise KeyError(f"command {name!r} was never registered")

    def _offered(self, name: str, context: int, installs: tuple[str, ...]) -> None:
        """Discord offers a command only where its ``contexts`` (null: every context) and ``integration_types``
        (null: guild install) allow; a DM with another user or a group DM needs the app installed to the user."""
        command = next(c for cmds in self.commands.values() for c in cmds if c["name"] == name)
        contexts = command.get("contexts")
        kinds = [str(k) for k in (command.get("integration_types") or [0])]
        if contexts is not None and context not in contexts:
            raise ValueError(f"Discord would not offer {name!r} in context {context}: its contexts are {contexts}")
        if not any(i in kinds for i in installs):
            raise ValueError(f"Discord would not offer {name!r} to a {'/'.join(installs)} install: "
                             f"its integration_types are {kinds}")
        if context == PRIVATE_CHANNEL and USER_INSTALL not in installs:
            raise ValueError("only an app installed to the user can be used in other DMs and group DMs")

    async def interact(self, name: str, options: dict[str, Any] | None = None, *, admin: bool = False,
                       autocomplete: str | None = None, user: dict[str, Any] | None = None,
                       context: int = GUILD, installs: tuple[str, ...] = (GUILD_INSTALL,)) -> InteractionRecord:
        """Inject INTERACTION_CREATE for slash command ``name`` (or its autocomplete for option ``autocomplete``),
        in ``context`` (the guild's general channel, the bot's DM with ``user``, or a group DM) for an app
        installed as ``installs`` (to the guild, to the user, or both)."""
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
        self._offered(name, context, installs)
        await self._create_interaction(rec, user, perms, context=context, installs=installs)
        return rec

    async def interact_message(self, name: str, message: dict[str, Any], *,
                               user: dict[str, Any] | None = None) -> InteractionRecord:
        """A reader picks message command ``name`` (Apps, in a message's context menu) on ``message``, a stored
        message: INTERACTION_CREATE with ``data.type`` 3, ``data.target_id`` and the message in
        ``data.resolved.messages``, its content included even without the Message Content intent, as Discord
        documents ("Content of the message a message context menu command is used on")."""
        user = user or self.user("reader")
        command = next((c for cmds in self.commands.values() for c in cmds if c["name"] == name), None)
        if command is None or command["type"] != MESSAGE_COMMAND:
            raise KeyError(f"message command {name!r} was never registered")
        if message["channel_id"] != self.channel_id:
            raise ValueError("interactions here happen in the general channel: post the target there")
        target = {k: v for k, v in public(message).items() if k not in ("guild_id", "member", "allowed_mentions")}
        rec = InteractionRecord(
            id=self.snowflake(), token="aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48), type=2,
            data={"id": str(command["id"]), "name": name, "type": MESSAGE_COMMAND, "target_id": message["id"],
                  "resolved": {"messages": {message["id"]: target}}},
            user_id=user["id"], created=time.monotonic(),
        )
        await self._create_interaction(rec, user, DEFAULT_PERMISSIONS)
        return rec

    async def _create_interaction(self, rec: InteractionRecord, user: dict[str, Any], perms: int, *,
                                  context: int = GUILD, installs: tuple[str, ...] = (GUILD_INSTALL,),
                                  message: dict[str, Any] | None = None) -> None:
        """INTERACTION_CREATE for ``rec``: in the guild's general channel, or, with ``message`` (a component's or
        a modal's from a button), in that message's channel and carrying it; in a DM or group DM for ``context``."""
        self.interactions[rec.id] = rec
        # the installations that authorised it: a guild install names the guild ("0" in the bot's DM), a user one
        # the user
        owners = {k: (user["id"] if k == USER_INSTALL else self.guild_id if context == GUILD else "0")
                  for k in installs}
        payload: dict[str, Any] = {
            "id": rec.id, "application_id": self.app_id, "type": rec.type, "data": rec.data, "token": rec.token,
            "version": 1, "app_permissions": str(DEFAULT_PERMISSIONS), "locale": "en-US", "entitlements": [],
            "authorizing_integration_owners": owners, "context": context, "attachment_size_limit": 8 * 1024 * 1024,
        }
        if message is not None:
            payload["message"] = public(message)
        if context == GUILD:
            channel = message["channel_id"] if message is not None else self.channel_id
            payload.update({
                "guild_id": self.guild_id, "channel_id": channel, "guild_locale": "en-US",
                "channel": {"id": channel, "type": 0, "name": "general", "guild_id": self.guild_id,
                            "position": 0, "permission_overwrites": [], "nsfw": False, "parent_id": None},
                "member": {"user": user, "roles": self.roles_of(user["id"]), "joined_at": _now_iso(), "deaf": False,
                           "mute": False,
                           "flags": 0, "permissions": str(perms), "pending": False, "nick": None, "avatar": None},
            })
        else:  # no guild, no member: the user as ``user``; the bot's DM with them, or a group DM of theirs
            channel = self.dm_channel(user) if context == BOT_DM else self.snowflake()  # type: ignore[attr-defined]
            kind = 1 if context == BOT_DM else 3
            payload.update({"channel_id": channel, "user": user,
                            "channel": {"id": channel, "type": kind, "recipients": [user], "flags": 0,
                                        "last_message_id": None}})
            rec.channel_id = channel
        await self._send(0, payload, "INTERACTION_CREATE")
