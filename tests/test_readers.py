"""Readers side by side: `bot ask` next to another `bot ask`, a reindex, and a running `bot run`."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.store.locks import DataDirLock
from tests.conftest import ROOT, child_keeps, write_config
from tests.discord_api import DiscordTestServer

pytestmark = pytest.mark.slow  # `bot` in new processes: not in `make test-fast`
LAYERSKIP_URL = "https://newsletter.example.org/issues/oct_26#layerskip-early-exit-and-self-speculative-decoding"
QUESTION = "what is layer skip"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if child_keeps(k)}
    env.update(extra)
    return env


def _bot(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot", *args]


@pytest.fixture
def indexed(tmp_path, samples) -> Path:
    cfg = write_config(tmp_path / "config.toml", tmp_path / "data", [("examples", samples)])
    r = subprocess.run(_bot("--config", str(cfg), "reindex"), capture_output=True, text=True, env=_env(), cwd=ROOT,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    return cfg


def test_two_asks_at_once_both_answer(indexed):
    first = subprocess.Popen(_bot("--config", str(indexed), "ask", "--json", "-"), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=ROOT)
    try:
        assert first.stdin is not None and first.stdout is not None
        first.stdin.write(QUESTION + "\n")
        first.stdin.flush()
        answer = json.loads(first.stdout.readline())  # the first reader is open and has answered
        assert answer["results"][0]["url"] == LAYERSKIP_URL

        second = subprocess.run(_bot("--config", str(indexed), "ask", QUESTION), capture_output=True, text=True,
                                env=_env(), cwd=ROOT, timeout=300)
        assert second.returncode == 0, second.stderr
        assert LAYERSKIP_URL in second.stdout

        writer = subprocess.run(_bot("--config", str(indexed), "reindex"), capture_output=True, text=True, env=_env(),
                                cwd=ROOT, timeout=300)
        assert writer.returncode == 3 and "readers: bot ask" in writer.stderr  # a writer waits for the readers
        rest, err = first.communicate("layer skip early exit\n", timeout=120)  # the first reader goes on
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 0, err
    assert json.loads(rest.splitlines()[0])["results"][0]["url"] == LAYERSKIP_URL


def test_ask_waits_for_a_writer_with_wait_and_then_answers(indexed, tmp_path):
    writer = DataDirLock(tmp_path / "data", "bot reindex")
    writer.acquire()
    try:
        refused = subprocess.run(_bot("--config", str(indexed), "ask", QUESTION), capture_output=True, text=True,
                                 env=_env(), cwd=ROOT, timeout=300)
        assert refused.returncode == 3
        assert "bot reindex" in refused.stderr and "--wait" in refused.stderr

        waiting = subprocess.Popen(_bot("--config", str(indexed), "ask", "--wait", "120", QUESTION),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=ROOT)
        time.sleep(3)
        assert waiting.poll() is None, waiting.communicate()  # still waiting for the writer
    finally:
        writer.release()
    out, err = waiting.communicate(timeout=300)
    assert waiting.returncode == 0, err
    assert LAYERSKIP_URL in out


@pytest.mark.discord
def test_ask_while_bot_run_runs_is_answered_by_the_bot(tmp_path, samples):
    token = "MTIzNDU2Nzg5MDEyMzQ1Njc4.real.token-value"

    async def ask(cfg: Path, *args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(*_bot("--config", str(cfg), "ask", *args), env=_env(),
                                                    cwd=str(ROOT), stdin=asyncio.subprocess.PIPE,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(stdin or b""), 120)
        return proc.returncode or 0, out.decode(), err.decode()

    async def scenario():
        server = await DiscordTestServer(token=token).start()
        cfg = write_config(tmp_path / "run.toml", tmp_path / "data", [("examples", samples)],
                           extra=server.discord_toml)
        assert subprocess.run(_bot("--config", str(cfg), "reindex"), env=_env(), cwd=str(ROOT),
                              capture_output=True).returncode == 0
        proc = await asyncio.create_subprocess_exec(*_bot("--config", str(cfg), "run"), env=_env(DISCORD_TOKEN=token),
                                                    cwd=str(ROOT), stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.PIPE)
        try:
            await asyncio.wait_for(server.identified.wait(), 120)
            for _ in range(300):  # the control socket opens once the bot has warmed up
                if (tmp_path / "data" / "control.sock").exists() or any(p.suffix == ".sock" for p in
                                                                        (tmp_path / "data").iterdir()):
                    break
                await asyncio.sleep(0.1)
            code, out, err = await ask(cfg, QUESTION)
            assert code == 0, err
            assert LAYERSKIP_URL in out and "1. " in out
            code, out, err = await ask(cfg, "--json", "-", stdin=f"{QUESTION}\nlayer skip early exit\n".encode())
            assert code == 0, err
            answers = [json.loads(line) for line in out.splitlines()]
            assert len(answers) == 2 and all(a["results"][0]["url"] == LAYERSKIP_URL for a in answers)
            assert answers[0]["query"] == QUESTION
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(proc.communicate(), 60)
            await server.stop()
        assert proc.returncode == 0, err.decode()[-2000:]
    asyncio.run(scenario())
