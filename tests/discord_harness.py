"""Run the real bot (discord.py, real HTTP and WebSocket) against the Discord API test server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import discord

from bot.client import BackissueBot
from bot.jobs import ReindexRunner
from bot.run import point_at, wired_bot
from bot.services import Services, build_services
from bot.settings import Settings, load_settings
from bot.sources import SourceSync
from index.search.retriever import Retriever
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
                      source_extra: dict[str, str] | None = None, prebuilt: bool = True,
                      settle: bool = True) -> AsyncIterator[Running]:
    """Start the bot on ``issues`` (or ``sources``); ``server`` lets a test restart the bot against the same Discord.

    ``prebuilt``: index before the bot starts; ``settle``: wait for the bot's own reindex at start to end."""
    own_server = server is None
    server = server or await DiscordTestServer().start()
    server.identified.clear()
    cfg = write_config(tmp_path / "bot.toml", tmp_path / "data", sources or [("examples", issues)],
                       extra=f"{extra}\n{server.discord_toml}",
                       source_extra=source_extra)
    settings = load_settings(cfg)
    old_base, old_gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    point_at(settings)  # as bot run does: the API base and gateway from [discord]
    services = build_services(settings, purpose="discord test", threaded=True, embedder=embedder)  # type: ignore[arg-type]
    try:
        if prebuilt:
            SourceSync(settings).sync()
            services.indexer.reindex(settings.source_specs())
        with wired_bot(settings, services, retriever_class=retriever_class) as bot:
            task = asyncio.create_task(bot.start(server.token))
            try:
                ready = asyncio.create_task(bot.wait_until_ready())
                done, _ = await asyncio.wait({ready, task}, timeout=90, return_when=asyncio.FIRST_COMPLETED)
                if task in done:
                    task.result()  # the bot stopped: raise its error
                if ready not in done:
                    raise TimeoutError("the bot did not become ready")
                if settle and bot.runner.current is not None:
                    await asyncio.wrap_future(bot.runner.current)
                yield Running(server, bot, services, bot.runner, settings)
            finally:
                await bot.close()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(task, 10)
    finally:
        services.close()
        if own_server:
            await server.stop()
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_base, old_gateway


def cited_section(embed: dict) -> str:
    """The link of a cited section without its text fragment (``#anchor:~:text=...`` → ``#anchor``)."""
    return str(embed.get("url", "")).split(":~:")[0]
