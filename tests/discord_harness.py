"""Run the real bot (discord.py, real HTTP and WebSocket) against the Discord API test server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import discord
import yarl

from bot.client import BackissueBot
from bot.jobs import ReindexRunner
from bot.services import Services, build_services, open_announce_state
from bot.settings import Settings, load_settings
from bot.sources import SourceSync
from index.catalog import Catalog
from index.search import Retriever
from tests.conftest import write_config
from tests.discord_api import DiscordTestServer


@dataclass
class Running:
    server: DiscordTestServer
    bot: BackissueBot
    services: Services
    runner: ReindexRunner
    settings: Settings


@contextlib.asynccontextmanager
async def running_bot(tmp_path: Path, issues: Path, embedder: object, *, retriever_class: type[Retriever] = Retriever,
                      extra: str = "", server: DiscordTestServer | None = None,
                      sources: list[tuple[str, Path]] | None = None,
                      source_extra: dict[str, str] | None = None) -> AsyncIterator[Running]:
    """Start the bot on ``issues`` (or ``sources``); ``server`` lets a test restart the bot against the same Discord."""
    own_server = server is None
    server = server or await DiscordTestServer().start()
    server.identified.clear()
    cfg = write_config(tmp_path / "bot.toml", tmp_path / "data", sources or [("examples", issues)],
                       extra=f'{extra}\n[discord]\napi_base = "{server.api_base}"\ngateway_url = "{server.gateway_url}"\n',
                       source_extra=source_extra)
    settings = load_settings(cfg)
    old_base, old_gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = server.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(server.gateway_url)
    services = build_services(settings, purpose="discord test", shared=True, embedder=embedder)  # type: ignore[arg-type]
    sync = SourceSync(settings)
    sync.sync()
    services.indexer.reindex(settings.source_specs())
    reader = Catalog(settings.catalog_path, shared=True)
    retriever = retriever_class(reader, services.store(), services.embedder, settings.data_dir / "keyword-index",
                                shared=services.shared() if services.shared else None)
    runner = ReindexRunner(services.indexer, settings.source_specs,
                           before=lambda force, only: sync.sync(force=force, only=only))
    state = open_announce_state(settings, services)
    bot = BackissueBot(settings=settings, retriever=retriever, reader=reader, runner=runner, announce_state=state,
                       shared=services.shared() if services.shared else None)
    task = asyncio.create_task(bot.start(server.token))
    try:
        ready = asyncio.create_task(bot.wait_until_ready())
        done, _ = await asyncio.wait({ready, task}, timeout=90, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()  # the bot stopped: raise its error
        if ready not in done:
            raise TimeoutError("the bot did not become ready")
        yield Running(server, bot, services, runner, settings)
    finally:
        await bot.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 10)
        runner.shutdown()
        state.close()
        reader.close()
        services.close()
        if own_server:
            await server.stop()
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_base, old_gateway
