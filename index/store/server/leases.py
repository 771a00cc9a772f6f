"""Leases in the Chroma server: one holder at a time per name, until it releases or its time runs out."""

from __future__ import annotations

import functools
import os
import secrets
import socket
import time
from collections.abc import Callable

from index.store.locks import StoreBusy
from index.store.server.records import ServerRecords

LEASE_TTL = 900.0  # seconds a writer's lease lasts without renewal (renewed after every batch)


@functools.cache
def holder_id() -> str:
    """This process, also among containers that share a host name and run as pid 1."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class Leases:
    def __init__(self, records: ServerRecords) -> None:
        self._records = records

    def acquire(self, name: str, holder: str, ttl: float, wait: float = 0.0, settle: float = 0.3) -> bool:
        """Take lease ``name`` for ``ttl`` seconds. Without compare-and-swap in Chroma: write, wait, read back."""
        key = f"lease:{name}"
        deadline = time.monotonic() + wait
        while True:
            current = self._records.get(key)
            now = time.time()
            if current is None or current.get("holder") == holder or float(current.get("expires", 0)) < now:
                self._records.put_one(key, {"holder": holder, "expires": now + ttl})
                time.sleep(settle)
                current = self._records.get(key)
                if current is not None and current.get("holder") == holder:
                    return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.5)

    def holder(self, name: str) -> str | None:
        current = self._records.get(f"lease:{name}")
        if current is None or float(current.get("expires", 0)) < time.time():
            return None
        return str(current.get("holder"))

    def release(self, name: str, holder: str) -> None:
        current = self._records.get(f"lease:{name}")
        if current is not None and current.get("holder") == holder:
            self._records.delete(f"lease:{name}")


class LeaseWriter:
    """The writer's right in server mode (an ``index.store.record.WriterLock``): the ``writer`` lease."""

    def __init__(self, leases: Callable[[], Leases], *, wait: float = 0.0, ttl: float = LEASE_TTL,
                 holder: str | None = None) -> None:
        """``leases``: opened on first use (the server is reached only when something is written)."""
        self._leases = leases
        self.wait = wait
        self.ttl = ttl
        self.holder = holder or holder_id()

    def take(self) -> None:
        leases = self._leases()
        if not leases.acquire("writer", self.holder, ttl=self.ttl, wait=self.wait):
            raise StoreBusy(f"another process is writing to the shared index (lease held by {leases.holder('writer')});"
                            " try again when it is done, or give it time with --wait")

    def renew(self) -> None:
        """A long run keeps its lease."""
        self._leases().acquire("writer", self.holder, ttl=self.ttl)

    def release(self) -> None:
        self._leases().release("writer", self.holder)
