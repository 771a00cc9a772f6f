"""The bot follows its sources on its own: indexes at start, then every [index] refresh_seconds."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import sys
import time

import pytest

from index.store.catalog import Catalog
from tests.conftest import ROOT, child_keeps, write_config
from tests.discord_api import DiscordTestServer
from tests.discord_harness import cited_section, running_bot
from tests.test_discord import LAYERSKIP_URL

pytestmark = [pytest.mark.discord, pytest.mark.slow]
REFRESH = 3.0


async def ask(server, question: str, wait: float = 30.0) -> dict:
    """Ask as a new reader (no cooldown); the final message once it has embeds or says nothing matches."""
    rec = await (await server.interact("ask", {"question": question}, user=server.user(f"r{time.monotonic_ns()}"))).answered(wait)
    for _ in range(int(wait * 10)):
        msg = rec.original or (rec.messages[-1] if rec.messages else None)
        if msg and (msg.get("embeds") or "Nothing in the archive" in (msg.get("content") or "")):
            return msg
        await asyncio.sleep(0.1)
    raise AssertionError("no answer")


async def until(check, seconds: float) -> float:
    """Poll ``check()`` (async) until true; the seconds it took. Fails after ``seconds``."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if await check():
            return time.monotonic() - start
        await asyncio.sleep(0.3)
    raise AssertionError(f"not seen within {seconds} s")


def test_bot_run_on_a_fresh_data_folder_indexes_by_itself_and_logs_each_record_once(tmp_path, samples):
    token = "MTIzNDU2Nzg5MDEyMzQ1Njc4.fresh.token-value"

    async def scenario():
        server = await DiscordTestServer(token=token).start()
        cfg = write_config(tmp_path / "run.toml", tmp_path / "data", [("examples", samples)],
                           extra=server.discord_toml)
        env = {k: v for k, v in os.environ.items() if child_keeps(k)}
        env["DISCORD_TOKEN"] = token
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "--config", str(cfg), "run",
                                                    env=env, cwd=str(ROOT), stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.PIPE)
        try:
            await asyncio.wait_for(server.identified.wait(), 120)  # connected; no `bot reindex` was ever run

            async def cited() -> bool:
                msg = await ask(server, "what is layer skip")
                return bool(msg["embeds"]) and cited_section(msg["embeds"][0]) == LAYERSKIP_URL

            await until(cited, 60)
        finally:
            with contextlib.suppress(ProcessLookupError):  # it ended by itself: its log below says why
                proc.send_signal(signal.SIGTERM)
            out, err = await asyncio.wait_for(proc.communicate(), 60)
            await server.stop()
        log = (out + err).decode()
        assert proc.returncode == 0, log[-2000:]
        assert token not in log
        assert "PyNaCl" not in log and "davey" not in log
        lines = [line for line in log.splitlines() if line.strip()]
        assert len(lines) == len(set(lines)), log[-2000:]  # each record once
        assert all(line.startswith(("INFO ", "WARNING ", "ERROR ")) for line in lines), log[-2000:]  # one format
        assert sum("reindex done: 3 new" in line for line in lines) == 1
    asyncio.run(scenario())


def test_an_edit_and_a_deletion_in_a_folder_source_reach_ask_without_any_announce_channel(tmp_path, samples, embedder):
    async def scenario():
        async with running_bot(tmp_path, samples, embedder, extra=f"[index]\nrefresh_seconds = {REFRESH}\n") as r:
            assert r.bot.announcer is None
            issue = samples / "oct_26.md"
            issue.write_text(issue.read_text().replace("LayerSkip is a method from Meta",
                                                       "LayerSkip, corrected by the author, is a method from Meta"))

            async def edited() -> bool:
                msg = await ask(r.server, "what is layer skip")
                return "corrected by the author" in msg["embeds"][0]["description"]

            await until(edited, REFRESH + 15)  # one interval, plus the time to embed one issue
            issue.unlink()

            async def gone() -> bool:
                msg = await ask(r.server, "what is layer skip")
                return all("oct_26.md" not in e["footer"]["text"] for e in msg["embeds"])

            await until(gone, REFRESH + 15)
            status = await (await r.server.interact("status", {})).answered()
            field = (status.original or status.messages[-1])["embeds"][0]["fields"][0]["value"]
            assert "checked never" not in field and "last change seen never" not in field
            assert "newest: Oct 12 Weekly Newsletter (2024-10-12)" in field
    asyncio.run(scenario())


def test_while_the_first_index_runs_ask_and_status_say_how_far_it_is(tmp_path, samples, embedder):
    catalog = tmp_path / "data" / "catalog.sqlite3"
    made = Catalog(catalog)  # the file exists, as after an earlier start that was stopped before indexing
    made.set_meta("model", embedder.identity)
    made.close()
    blocker = sqlite3.connect(catalog, timeout=30, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # the first index cannot record anything until the test lets it

    async def scenario():
        async with running_bot(tmp_path, samples, embedder, prebuilt=False, settle=False) as r:
            msg = await ask(r.server, "what is layer skip")
            assert not msg["embeds"]
            files = len([p for p in samples.rglob("*.md") if p.name != "README.md"])  # published or held back
            assert f"Indexing the archive is under way (0%: 0 of {files} issues)" in msg["content"]
            status = await (await r.server.interact("status", {})).answered()
            footer = (status.original or status.messages[-1])["embeds"][0]["footer"]["text"]
            assert "reindex running since" in footer and f"(0%: 0 of {files} issues)" in footer
            blocker.execute("ROLLBACK")
            await r.runner.wait(r.runner.current)
            msg = await ask(r.server, "what is layer skip")
            assert cited_section(msg["embeds"][0]) == LAYERSKIP_URL and "under way" not in (msg["content"] or "")
    try:
        asyncio.run(scenario())
    finally:
        blocker.close()
