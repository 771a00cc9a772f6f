"""What the announcer records of its posts: one protocol, kept in SQLite beside the index
(``bot.announce.state.AnnounceState``) or in the Chroma server (``bot.announce.server_state.ServerAnnounceState``)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from bot.announce.state import PostRow


class AnnounceLedger(Protocol):
    def close(self) -> None: ...

    def is_seeded(self, source: str) -> bool:
        """Whether the source's first start was recorded (its issues then were not posted)."""

    def seed(self, source: str, rows: list[tuple[str, str, str, str]]) -> None:
        """First start: record (path, status, nonce, file_hash) for every issue there is."""

    def rows(self, source: str | None = None) -> dict[tuple[str, str], PostRow]: ...

    def add_pending(self, source: str, path: str, nonce: str, file_hash: str, version: int = 0) -> None: ...

    def attempted(self, source: str, path: str, error: str, next_attempt: float,
                  sent_at: float | None = None) -> None: ...

    def posted(self, source: str, path: str, channel_id: int, message_id: int, file_hash: str,
               post_hash: str) -> None: ...

    def touch(self, source: str, path: str, file_hash: str, post_hash: str | None = None) -> None: ...

    def mark_all(self, source: str, paths: list[tuple[str, str]]) -> int:
        """Record these (path, file_hash) as announced without posting; how many were not already."""

    def channel_error(self, channel_id: int) -> tuple[str, float, int] | None:
        """(error, next attempt, failures) of a channel that refuses posts."""

    def set_channel_error(self, channel_id: int, error: str, next_attempt: float) -> None: ...

    def clear_channel_error(self, channel_id: int) -> None: ...

    def problems(self) -> list[str]:
        """Human-readable trouble for /status and `bot status`."""

    def announced(self, message_ids: Collection[int]) -> tuple[str, str] | None:
        """(source, path) of the issue that one of these messages announced; a forum post's or an announcement
        thread's id is its starter message's, so a thread's id finds its issue too."""
