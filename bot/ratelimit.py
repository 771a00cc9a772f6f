"""The per-reader rate limit every way of asking shares: /ask, a mention, a follow-up."""

from __future__ import annotations

from discord import app_commands


class ReaderLimit:
    """At most ``rate`` questions per ``per`` seconds for each reader, however they ask."""

    def __init__(self, rate: int = 4, per: float = 30.0) -> None:
        self.rate, self.per = rate, per
        self._buckets: dict[int, app_commands.Cooldown] = {}

    def retry_after(self, user_id: int) -> float | None:
        """None when the reader may ask now (and it counts); else the seconds until they may."""
        bucket = self._buckets.setdefault(user_id, app_commands.Cooldown(self.rate, self.per))
        return bucket.update_rate_limit()


def too_fast(retry: float) -> str:
    return f"You're asking faster than I can look things up — try again in {retry:.0f} s."
