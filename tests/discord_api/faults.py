"""Faults the test server injects into the bot's posts (text-channel messages and forum threads).

Each post takes the next fault from ``DiscordTestServer.faults``:

- ``"500"``, ``"503"``: that error, and nothing is stored (discord.py retries 500/502/504 by itself,
  five tries in all, each taking the next fault; it does not retry 503);
- ``"429"``: a per-route rate limit, nothing stored (discord.py waits ``retry_after`` and retries, five tries);
- ``"drop"``: the post is stored, then the connection is closed before the answer is sent;
- ``"stall"``: the post is stored, and the answer is held back ``stall_seconds`` (a timeout for the bot);
- ``"500-stored"``: the post is stored, and the answer is a 500 (as when a proxy gives up on a slow backend);
- ``"ok"`` (or an empty queue): no fault.

Lookups (Get Channel Messages, the thread listings) take theirs from ``read_faults``: ``"500"``, ``"503"``,
``"429"`` or ``"ok"``, as above.
"""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web

from tests.discord_api.limits import DiscordError
from tests.discord_api.wire import json_response, rate_limited

BEFORE = {"500": (500, "500: Internal Server Error"), "503": (503, "503: Service Unavailable")}
AFTER = ("drop", "stall", "500-stored")
KINDS = (*BEFORE, "429", *AFTER, "ok")


class Faults:
    def __init__(self) -> None:
        self.queue: list[str] = []
        self.read_faults: list[str] = []
        self.stall_seconds = 30.0
        self.cut_off = 0  # answers that never reached the bot (dropped connections)
        self.stalled = 0
        self._stopping = asyncio.Event()

    def take(self) -> str | None:
        """The next post's fault; an error that stops it before anything is stored is raised (or answered) here."""
        fault = self.queue.pop(0) if self.queue else None
        if fault is not None and fault not in KINDS:
            raise ValueError(f"unknown fault {fault!r}; known: {', '.join(KINDS)}")
        if fault in BEFORE:
            status, message = BEFORE[fault]
            raise DiscordError(status, 0, message)
        return fault

    def take_read(self) -> web.Response | None:
        """A lookup's fault: an error raised, a rate limit answered, or None to answer normally."""
        fault = self.read_faults.pop(0) if self.read_faults else None
        if fault in (*AFTER,) or (fault is not None and fault not in KINDS):
            raise ValueError(f"not a lookup fault: {fault!r}")
        if fault in BEFORE:
            status, message = BEFORE[fault]
            raise DiscordError(status, 0, message)
        return self.early_answer(fault)

    @staticmethod
    def early_answer(fault: str | None) -> web.Response | None:
        """The answer for a fault that stops the post before anything is stored, if it is one."""
        return rate_limited() if fault == "429" else None

    async def late_answer(self, fault: str | None, request: web.Request, answer: web.Response) -> web.Response:
        """The post is stored: deliver ``answer``, or lose it as ``fault`` says."""
        if fault == "drop":  # the message exists, but the bot never hears back
            assert request.transport is not None
            self.cut_off += 1
            request.transport.close()
        elif fault == "500-stored":
            return json_response({"message": "500: Internal Server Error", "code": 0}, status=500)
        elif fault == "stall":
            self.stalled += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.stall_seconds)
        return answer

    def stop(self) -> None:
        self._stopping.set()
