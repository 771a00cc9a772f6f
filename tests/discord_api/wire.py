"""How the test server answers on the wire: JSON as Discord sends it, snowflakes, timestamps, cut-off replies."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from aiohttp import web

DISCORD_EPOCH_MS = 1_420_070_400_000


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """JSON the way Discord sends it: Content-Type exactly application/json (discord.py compares it)."""
    return web.Response(body=json.dumps(data).encode(), status=status,
                        headers={"Content-Type": "application/json", **(headers or {})})


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat()


def snowflake_ms(snowflake: int) -> int:
    """Unix time in ms that a snowflake was made at (its top 42 bits count ms since Discord's epoch, 2015)."""
    return (snowflake >> 22) + DISCORD_EPOCH_MS


def public(message: dict[str, Any]) -> dict[str, Any]:
    """A stored message as history returns it: no test bookkeeping, no nonce."""
    return {k: v for k, v in message.items() if not k.startswith("_") and k != "nonce"}


def reply(message: dict[str, Any]) -> dict[str, Any]:
    """A stored message as the creating request's answer returns it: the nonce included."""
    return {k: v for k, v in message.items() if not k.startswith("_")}


def rate_limited(retry_after: float = 0.05) -> web.Response:
    """A per-route 429 as Discord sends it (via Cloudflare, so discord.py trusts it and retries)."""
    return json_response({"message": "You are being rate limited.", "retry_after": retry_after, "global": False},
                         status=429, headers={"Via": "1.1 google", "X-RateLimit-Remaining": "0",
                                              "X-RateLimit-Reset-After": str(retry_after)})
