"""`bot run` killed (SIGKILL) after Discord stored its announcement and before the bot recorded it: the next
`bot run` finds the post and records it instead of posting again, in a text channel and in a forum.

The bot runs as a child process, unmodified, against the Discord API test server in this process; the server
kills the child the moment it has stored the post, before it answers (as a power cut or the OOM killer would).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, write_config
from tests.discord_api import DiscordTestServer
from tests.test_announce import write_issue

pytestmark = [pytest.mark.announce, pytest.mark.discord, pytest.mark.slow]

URL = "https://newsletter.example.org/issues/issue_002/"


async def _start(cfg: Path, token: str, log: Path) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BACKISSUE_", "DISCORD_"))}
    env.update({"DISCORD_TOKEN": token, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)})
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "--config", str(cfg), "run",
                                                    cwd=ROOT, env=env, stdout=out, stderr=out)


def _row(data: Path) -> tuple[str, int | None, int] | None:
    db = data / "announce.sqlite3"
    if not db.exists():
        return None
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as con:
        try:
            r = con.execute("SELECT status, message_id, attempts FROM posts WHERE path = 'issue_002.md'").fetchone()
        except sqlite3.OperationalError:  # the bot has not made its tables yet
            return None
    return None if r is None else (r[0], r[1], r[2])


async def _until(what, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; the bot's log:\n{log.read_text(errors='replace')[-3000:]}")
        await asyncio.sleep(0.2)


@pytest.mark.parametrize("where", ["text", "forum"])
def test_killed_between_post_and_record_then_restarted_posts_once(tmp_path, where):
    folder = tmp_path / "weekly"
    folder.mkdir()
    write_issue(folder, 1, date="2024-01-01")
    write_issue(folder, 2, date="2024-01-08")
    data = tmp_path / "data"
    log = tmp_path / "bot.log"

    async def scenario() -> None:
        server = await DiscordTestServer().start()
        channel = server.forum_channel_id if where == "forum" else server.channel_id
        cfg = write_config(tmp_path / "bot.toml", data, [("weekly", folder)],
                           extra=f"[announce]\ninterval_seconds = 5\nbackfill = 1\n\n{server.discord_toml}",
                           source_extra={"weekly": f"announce_channel_id = {channel}"})
        stored: list[dict] = []
        child: asyncio.subprocess.Process | None = None

        def kill_on_store(message: dict) -> None:
            stored.append(message)
            if len(stored) == 1:
                assert child is not None
                os.kill(child.pid, signal.SIGKILL)

        server.on_message_stored = kill_on_store
        server.nonce_window = 0.0  # the restart comes after Discord stopped dropping a repeated nonce
        try:
            child = await _start(cfg, server.token, log)
            assert await asyncio.wait_for(child.wait(), 180) == -signal.SIGKILL
            assert len(stored) == 1
            status = _row(data)
            assert status is not None and status[0] == "pending" and status[2] > 0, status  # not recorded
            if where == "text":
                server.chatter(channel, 60)  # readers talk while the bot is down

            child = await _start(cfg, server.token, log)
            await _until(lambda: (_row(data) or ("",))[0] == "posted", 180, log)
            child.send_signal(signal.SIGTERM)
            await asyncio.wait_for(child.wait(), 60)
            child = None
            assert len(stored) == 1, [m["id"] for m in stored]  # no second post
            row = _row(data)
            assert row is not None and row[1] == int(stored[0]["id"])
            if where == "forum":
                assert [t["name"] for t in server.threads] == ["Issue 2"]
            else:
                assert [m["embeds"][0]["url"] for m in server.channel_messages[channel] if m["embeds"]] == [URL]
        finally:
            if child is not None and child.returncode is None:
                child.kill()
                await child.wait()
            await server.stop()

    asyncio.run(scenario())
