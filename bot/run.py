"""`bot run`: connect to Discord and serve /ask, /reindex and /status until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import sys
import urllib.parse
from collections.abc import Iterator

import aiohttp
import discord
import yarl

from bot import admin, announce, ask, converse, feedback
from bot.client import BackissueBot, Feature
from bot.exit_codes import EXIT_CONFIG, EXIT_TOKEN, EXIT_UNREACHABLE
from bot.jobs import BACKGROUND_NICE, ReindexRunner
from bot.services import Services, build_services, embedder_for, open_announce_state
from bot.settings import Settings
from bot.sources import SourceSync
from index.search.retriever import Retriever

log = logging.getLogger(__name__)

# each package adds its own cogs
FEATURES: tuple[Feature, ...] = (ask.setup, converse.setup, admin.setup, announce.setup, feedback.setup)


def discord_token(settings: Settings) -> str | None:
    if settings.discord.token is not None and settings.discord.token.get_secret_value().strip():
        return settings.discord.token.get_secret_value().strip()
    return os.environ.get("DISCORD_TOKEN", "").strip() or None


def point_at(settings: Settings) -> str:
    """Use a Discord-compatible API other than Discord's (a test server, a proxy) when configured."""
    api = settings.discord.api_base.rstrip("/")
    if api:
        discord.http.Route.BASE = api
    if settings.discord.gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord.gateway_url)
    return urllib.parse.urlsplit(discord.http.Route.BASE).netloc


def bot_services(settings: Settings, purpose: str) -> Services:
    """The services as `bot run` builds them: a catalog the reindex thread may use, and a model whose worker threads
    yield the cores like that thread (``bot.jobs.BACKGROUND_NICE``)."""
    return build_services(settings, purpose=purpose, threaded=True,
                          embedder=embedder_for(settings, worker_nice=BACKGROUND_NICE))


@contextlib.contextmanager
def wired_bot(settings: Settings, services: Services, *,
              retriever_class: type[Retriever] = Retriever) -> Iterator[BackissueBot]:
    """The bot with everything it uses, built once from the services; closed again afterwards.

    Readers search through their own catalog connection, so a reindex's open transaction never
    shows half-written state to them; reindexes (and git fetches before them) run on one thread.
    """
    reader = services.open_catalog()
    sync = SourceSync(settings)
    runner = ReindexRunner(services.indexer, settings.source_specs,
                           before=lambda force, only: sync.sync(force=force, only=only),
                           checks_path=settings.checks_path, nice=BACKGROUND_NICE)
    announce_state = open_announce_state(settings, services)
    retriever = services.retriever(reader, retriever_class=retriever_class, loaded=gc.freeze)
    record = services.question_record(retriever)
    bot = BackissueBot(settings=settings, retriever=retriever, reader=reader, runner=runner,
                       announce_state=announce_state, leases=services.leases(), record=record, features=FEATURES)
    try:
        yield bot
    finally:
        runner.shutdown()
        if record is not None:
            record.close()
        announce_state.close()
        reader.close()


async def _serve(bot: BackissueBot, token: str) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: asyncio.ensure_future(bot.close()))
    async with bot:
        await bot.start(token, reconnect=True)


class _NoVoice(logging.Filter):
    """discord.py warns at every start that voice needs PyNaCl and davey; this bot has no voice."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name.startswith("discord.client") and "voice" in record.getMessage().lower())


def quiet_discord_logs() -> None:
    """One handler (the CLI's, one format), each record once; discord.py at INFO, its voice warnings silenced."""
    root = logging.getLogger()
    if root.level > logging.INFO:
        root.setLevel(logging.INFO)
    logging.getLogger("discord").setLevel(logging.INFO)
    logging.getLogger("discord.client").addFilter(_NoVoice())


def run_bot(settings: Settings) -> int:
    token = discord_token(settings)
    if token is None:
        print("bot: no Discord token. Set DISCORD_TOKEN (or BACKISSUE_DISCORD__TOKEN) in the environment;"
              " see the README for creating the bot and its token.", file=sys.stderr)
        return EXIT_CONFIG
    host = point_at(settings)
    quiet_discord_logs()
    services = bot_services(settings, "bot run")
    try:
        with wired_bot(settings, services) as bot:
            asyncio.run(_serve(bot, token))
    except discord.LoginFailure:
        print("bot: Discord rejected the token (401 Unauthorized). Check DISCORD_TOKEN: it is the bot token from"
              " the Developer Portal's Bot page, not the application id or the client secret.", file=sys.stderr)
        return EXIT_TOKEN
    except discord.PrivilegedIntentsRequired:
        print("bot: Discord refused the gateway intents.", file=sys.stderr)
        return EXIT_TOKEN
    except (TimeoutError, aiohttp.ClientError, OSError, discord.GatewayNotFound, discord.ConnectionClosed) as exc:
        print(f"bot: cannot reach Discord at {host} ({type(exc).__name__}). Check the network and try again.",
              file=sys.stderr)
        return EXIT_UNREACHABLE
    finally:
        services.close()
    return 0
