"""The test server: Discord's REST API under /api/v10 and its gateway over WebSocket, on loopback.

The unmodified discord.py client logs in, connects to the gateway, registers its application
commands and answers interactions that the tests inject. Every payload the bot sends is checked
against Discord's documented shapes and limits (``limits.py``); a broken one gets Discord's 400
error body, and is also recorded in ``rejected`` so a test can fail on it. Every non-2xx answer
the bot receives is counted by status in ``statuses``. Interactions must be acknowledged within
3 s (afterwards: 404, code 10062), as on Discord. The parts: ``messages.py`` (channels, messages,
history), ``threads.py`` (forum posts, thread listings), ``interactions.py`` (commands,
interactions), ``components.py`` (buttons pressed: MESSAGE_COMPONENT interactions), ``modals.py`` (modals
submitted: MODAL_SUBMIT interactions), ``chat.py`` (readers'
messages, replies, threads from messages), ``gateway.py``,
``faults.py`` (what a test injects into posts).
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
from typing import Any

from aiohttp import web

from tests.discord_api.base import FORUM
from tests.discord_api.chat import ChatRoutes
from tests.discord_api.components import ComponentRoutes
from tests.discord_api.faults import Faults
from tests.discord_api.gateway import BOT_ROLE_PERMISSIONS, VIEW_CHANNEL
from tests.discord_api.interactions import InteractionRecord, InteractionRoutes
from tests.discord_api.limits import DiscordError
from tests.discord_api.messages import NEWS, MessageRoutes
from tests.discord_api.modals import ModalRoutes
from tests.discord_api.threads import ThreadRoutes
from tests.discord_api.wire import json_response

log = logging.getLogger(__name__)
API = "/api/v10"

__all__ = ["DiscordTestServer", "InteractionRecord"]


class DiscordTestServer(ModalRoutes, ComponentRoutes, InteractionRoutes, MessageRoutes, ThreadRoutes, ChatRoutes):
    def __init__(self, *, token: str = "test-token.abc.def", heartbeat_interval_ms: int = 1000) -> None:
        super().__init__()
        self.token = token
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.nonce_window = 300.0  # Discord drops a repeated nonce only "in the past few minutes"; tests shorten it
        self.statuses: collections.Counter[int] = collections.Counter()  # every non-2xx answer sent, by status
        self.injected = Faults()
        self.app_id = self.snowflake()
        self.bot_user = {"id": self.app_id, "username": "backissue", "discriminator": "0", "global_name": None,
                         "avatar": None, "bot": True, "flags": 0}
        self.owner = self.user("owner")
        self.guild_id = self.snowflake()
        self.bot_role_id = self.snowflake()
        self.bot_role_permissions = BOT_ROLE_PERMISSIONS
        self.channel_id = self.snowflake()
        self.news_channel_id = self.snowflake()
        self.forum_channel_id = self.snowflake()
        self.channels = {
            self.channel_id: self._channel_payload(self.channel_id, "general", 0),
            self.news_channel_id: self._channel_payload(self.news_channel_id, "announcements", NEWS),
            self.forum_channel_id: self._channel_payload(self.forum_channel_id, "issues", FORUM),
        }
        self.roles = []  # the guild's own roles (add_role), and which members have them (give_role)
        self.member_roles = {}
        self.forbidden = set()  # channels the bot may not post in (403, code 50001)
        self.crossposted = set()
        self.threads = []
        self.on_message_stored = None  # callable(message) run when a post is stored, before the answer is sent
        self.commands = {}  # guild id (None: global) -> commands
        self.interactions = {}
        self.channel_messages = {}
        self.rejected: list[tuple[str, dict[str, Any]]] = []  # (route, error body) of every 400
        self.history_reads = 0
        self.thread_lookups = 0
        self.heartbeats = []
        self.intents = 0  # the bot session's, from IDENTIFY
        self.known_users = {}  # id -> user object, for mentions
        self.identified = asyncio.Event()
        self.synced = asyncio.Event()
        self._ws = None
        self._seq = 0
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def faults(self) -> list[str]:
        """The faults the next posts get, in order (see ``faults.py``); tests extend and clear this list."""
        return self.injected.queue

    @faults.setter
    def faults(self, value: list[str]) -> None:
        self.injected.queue[:] = value

    def non_2xx(self) -> int:
        return sum(self.statuses.values())

    def _channel_payload(self, cid: str, name: str, kind: int) -> dict[str, Any]:
        payload: dict[str, Any] = {"id": cid, "type": kind, "name": name, "position": 0, "guild_id": None,
                                   "permission_overwrites": [], "nsfw": False, "parent_id": None}
        if kind == FORUM:
            payload.update({"available_tags": [], "default_reaction_emoji": None, "default_sort_order": None,
                            "default_forum_layout": 0, "flags": 0})
        return payload

    def text_channel(self, name: str, *, only_role: str | None = None) -> str:
        """A text channel of the guild (before the bot connects); with ``only_role``, one @everyone cannot view and
        that role (and the bot's) can: permission overwrites denying and allowing VIEW_CHANNEL."""
        cid = self.snowflake()
        self.channels[cid] = self._channel_payload(cid, name, 0)
        self.channels[cid]["guild_id"] = self.guild_id
        if only_role is not None:
            view = str(VIEW_CHANNEL)
            self.channels[cid]["permission_overwrites"] = [
                {"id": self.guild_id, "type": 0, "allow": "0", "deny": view},
                {"id": only_role, "type": 0, "allow": view, "deny": "0"},
                {"id": self.bot_role_id, "type": 0, "allow": view, "deny": "0"}]
        return cid

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
        self.add_routes(r, API)
        self.add_thread_routes(r, API)
        self.add_chat_routes(r, API)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        self.injected.stop()
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- REST ------------------------------------------------------------------------------
    @web.middleware
    async def _errors(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path.startswith(API) and request.headers.get("Authorization") not in (None, f"Bot {self.token}"):
            response: web.StreamResponse = json_response({"message": "401: Unauthorized", "code": 0}, status=401)
        else:
            try:
                response = await handler(request)
            except DiscordError as exc:
                if exc.status == 400:
                    self.rejected.append((request.path, exc.body))
                    log.warning("test server rejected %s %s: %s", request.method, request.path, json.dumps(exc.body))
                response = json_response(exc.body, status=exc.status)
        reached = request.transport is not None and not request.transport.is_closing()
        if request.path.startswith(API) and reached and not 200 <= response.status < 300:
            self.statuses[response.status] += 1
        return response

    async def _me(self, request: web.Request) -> web.Response:
        self._auth(request)
        return json_response(self.bot_user)

    async def _application(self, request: web.Request) -> web.Response:
        self._auth(request)
        return json_response({
            "id": self.app_id, "name": "backissue", "description": "", "icon": None, "bot_public": True,
            "bot_require_code_grant": False, "owner": self.owner, "verify_key": "0" * 64, "flags": 0,
            "team": None, "summary": "", "rpc_origins": [], "bot": self.bot_user,
        })

    async def _gateway_info(self, request: web.Request) -> web.Response:
        return json_response({"url": self.gateway_url, "shards": 1, "session_start_limit": {
            "total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}})
