"""A Discord API test server: HTTP and gateway, following Discord's documented payloads and limits."""

from tests.discord_api.interactions import InteractionRecord
from tests.discord_api.server import DiscordTestServer

__all__ = ["DiscordTestServer", "InteractionRecord"]
