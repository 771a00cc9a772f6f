"""A control socket beside the data folder, so `bot reindex` and `bot ask` on the host are handed to the running bot.

A Unix socket (mode 0600) in data_dir: reachable only from the host, by the bot's own user.
One JSON line in, one JSON line out.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
from pathlib import Path
from typing import Any

from bot.jobs import ReindexRunner
from index.search.retriever import MAX_K, Filters, Retriever, parse_day

log = logging.getLogger(__name__)


class ControlServer:
    def __init__(self, path: Path, runner: ReindexRunner, retriever: Retriever | None = None) -> None:
        self.path = path
        self.runner = runner
        self.retriever = retriever
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        if self.path.exists():
            self.path.unlink()  # left by a process that died; we hold the data folder's lock
        old = os.umask(0o177)
        try:
            self._server = await asyncio.start_unix_server(self._handle, path=str(self.path))
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        self.path.unlink(missing_ok=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = json.loads((await reader.readline()).decode() or "{}")
            reply = await self._answer(request)
        except (ValueError, UnicodeDecodeError):
            reply = {"ok": False, "error": "bad request"}
        writer.write((json.dumps(reply) + "\n").encode())
        await writer.drain()
        writer.close()

    async def _answer(self, request: dict[str, Any]) -> dict[str, Any]:
        if request.get("command") == "ask" and self.retriever is not None:
            return await self._ask(request)
        if request.get("command") != "reindex":
            return {"ok": False, "error": f"unknown command {request.get('command')!r}"}
        future = self.runner.start(full=bool(request.get("full")), source=request.get("source"),
                                   requested_by="bot reindex (host)")
        if future is None:
            return {"ok": False, "error": "a reindex is already running in the bot; try again when it is done"}
        try:
            summary = await self.runner.wait(future)
        except Exception as exc:
            return {"ok": False, "error": f"the reindex failed: {exc}"}
        return {"ok": True, "summary": summary.to_dict()}


    async def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        """`bot ask` on the host: searched on a thread, like /ask."""
        assert self.retriever is not None
        try:
            question = str(request["question"])
            k = min(max(int(request.get("k", 3)), 1), MAX_K)
            filters = Filters(source=request.get("source"), since=parse_day(request.get("since")),
                              until=parse_day(request.get("until")))
        except (KeyError, TypeError, ValueError) as exc:
            return {"ok": False, "error": f"bad question request: {exc}"}
        try:
            answer = await asyncio.to_thread(self.retriever.search, question, k, filters)
        except Exception as exc:
            log.exception("search failed for bot ask (host)")
            return {"ok": False, "error": f"the search failed: {exc}"}
        return {"ok": True, "answer": answer.to_dict()}


def send(path: Path, request: dict[str, Any], timeout: float | None = None) -> dict[str, Any] | None:
    """Ask the running bot; None when no bot answers on ``path``."""
    if not path.exists():
        return None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(str(path))
        except OSError:
            return None
        data = b""
        try:
            sock.sendall((json.dumps(request) + "\n").encode())
            while not data.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
            return json.loads(data.decode()) if data else None
        except (OSError, ValueError):  # the bot stopped, or timed out, mid-answer: as if no bot answered
            log.warning("the running bot stopped answering on %s", path)
            return None
