"""The bot through the Discord API test server: real discord.py, real HTTP and WebSocket, on loopback."""

from __future__ import annotations

import asyncio
import gc
import itertools
import os
import sqlite3
import subprocess
import sys
import time
import urllib.parse

import pytest

from index.search.retriever import Retriever
from tests.conftest import ROOT, child_keeps, write_config
from tests.discord_api import DiscordTestServer
from tests.discord_api.limits import EMBEDS_TOTAL_MAX, embed_size
from tests.discord_harness import cited_section, running_bot

pytestmark = [pytest.mark.discord, pytest.mark.slow]
LAYERSKIP_URL = "https://newsletter.example.org/issues/oct_26#layerskip-early-exit-and-self-speculative-decoding"


def run(coro):
    return asyncio.run(coro)


def message(rec):
    assert rec.messages, "no message was sent for the interaction"
    return rec.messages[-1] if rec.original is None else rec.original


def test_commands_are_registered_with_admin_only_reindex(tmp_path, samples, embedder):
    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:
            cmds = {c["name"]: c for c in r.server.commands[None]}
            assert set(cmds) == {"ask", "reindex", "status", "gaps", "Search back issues"}
            assert cmds["reindex"]["default_member_permissions"] == "8"  # ADMINISTRATOR
            ask_opts = {o["name"]: o for o in cmds["ask"]["options"]}
            assert ask_opts["question"]["required"] and ask_opts["issue"]["autocomplete"]
            assert ask_opts["question"]["max_length"] == 2000
    run(scenario())


def test_ask_replies_with_cited_deep_linked_sections(tmp_path, samples, embedder):
    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:
            rec = await (await r.server.interact("ask", {"question": "what is layer skip"})).answered()
            assert rec.response_type == 5 and rec.acked_at - rec.created < 3  # deferred at once
            msg = message(rec)
            assert msg["allowed_mentions"] == {"parse": []}
            top = msg["embeds"][0]
            # the link lands on the heading, and the browser highlights the quoted words
            assert cited_section(top) == LAYERSKIP_URL
            start = urllib.parse.unquote(top["url"].split(":~:text=")[1].split(",")[0])
            assert len(start.split()) >= 4 and start in top["description"].replace("**", "")
            assert top["title"] == "Oct 26 Weekly Newsletter · 2024-10-26"
            assert "LayerSkip: Early Exit and Self-Speculative Decoding" in top["description"]
            assert "LayerSkip is a method from Meta" in top["description"]
            assert len(msg["embeds"]) == 3 and not rec.ephemeral
            assert r.server.rejected == []
    run(scenario())


def test_ask_private_and_no_match(tmp_path, samples, embedder):
    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:
            rec = await (await r.server.interact(
                "ask", {"question": "What did the Zorblax-9 team from Veltrix announce?", "private": True})).answered()
            msg = message(rec)
            assert rec.ephemeral
            assert "couldn't find this in the archive" in msg["content"]
            assert "Zorblax" in msg["content"]
            assert all("weak match" in e["footer"]["text"] for e in msg["embeds"])
    run(scenario())


def test_many_long_results_stay_within_every_limit(tmp_path, samples, embedder):
    long_title = "An Extremely Long Issue Title " * 12
    for n in range(6):
        body = "\n\n".join(
            f"## {'Heading ' * 30}{n}-{m}\n" + ("quantization " + "word " * 60 + "[a link](https://example.org/x) ") * 20
            for m in range(4))
        (samples / f"long_{n}.md").write_text(f"---\ntitle: \"{long_title}{n}\"\ndate: 2024-05-0{n + 1}\n---\n{body}\n")

    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:
            rec = await (await r.server.interact("ask", {"question": "quantization word link", "results": 10})).answered()
            msg = message(rec)
            assert r.server.rejected == [] and rec.errors == []
            assert 1 <= len(msg["embeds"]) <= 10
            assert sum(embed_size(e) for e in msg["embeds"]) <= EMBEDS_TOTAL_MAX
            for e in msg["embeds"]:
                assert len(e["title"]) <= 256 and len(e["description"]) <= 4096 and len(e["footer"]["text"]) <= 2048
            assert len(msg["content"]) <= 2000
    run(scenario())


def test_hostile_question_never_pings_or_breaks_the_message(tmp_path, samples, embedder):
    hostile = ("@everyone @here <@123456789012345678> <@&876543210987654321> **bold** __under__ `code` ||spoiler|| "
               "[link](https://evil.example) what is layer skip ")
    hostile = (hostile * 20)[:2000]

    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:
            rec = await (await r.server.interact("ask", {"question": hostile})).answered()
            msg = message(rec)
            assert r.server.rejected == []
            assert msg["allowed_mentions"] == {"parse": []}
            content = msg["content"]
            assert len(content) <= 2000
            assert "@everyone" not in content and "@here" not in content  # escaped, so inert even if allowed
            assert "<@123456789012345678>" not in content and "<@&876543210987654321>" not in content
            assert "||spoiler||" not in content and "](https://evil.example)" not in content
    run(scenario())


def test_issue_autocomplete_answers_fast_with_at_most_25_choices(tmp_path, samples, embedder):
    for n in range(30):
        (samples / f"2023-01-{n % 28 + 1:02d}-extra{n}.md").write_text(f"---\ntitle: Extra issue {n}\n---\n## A\nText {n}.\n")

    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:
            rec = await (await r.server.interact("ask", {"question": "x", "issue": "oct"}, autocomplete="issue")).answered()
            assert rec.response_type == 8 and rec.acked_at - rec.created < 1.0
            names = [c["name"] for c in rec.choices]
            assert names == ["Oct 26 Weekly Newsletter (2024-10-26)", "Oct 12 Weekly Newsletter (2024-10-12)"]
            assert rec.choices[0]["value"] == "oct_26.md"
            everything = await (await r.server.interact("ask", {"question": "x", "issue": ""}, autocomplete="issue")).answered()
            assert len(everything.choices) == 25
            filtered = await (await r.server.interact(
                "ask", {"question": "fast decoding", "issue": "oct_26.md"})).answered()
            assert {e["footer"]["text"].split(" · ")[1] for e in message(filtered)["embeds"]} == {"oct_26.md"}
    run(scenario())


def test_reindex_is_refused_to_a_non_administrator(tmp_path, samples, embedder):
    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:
            last = r.runner.last
            rec = await (await r.server.interact("reindex", {}, admin=False)).answered()
            assert rec.response_type == 4 and rec.ephemeral
            assert "Only server administrators" in message(rec)["content"]
            assert r.runner.last is last and r.runner.running is None
    run(scenario())


def test_reindex_summary_for_an_administrator(tmp_path, samples, embedder):
    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:
            (samples / "nov_30.md").write_text("---\ntitle: Nov 30\ndate: 2024-11-30\n---\n## Sparse attention\nNew text.\n")
            rec = await (await r.server.interact("reindex", {}, admin=True)).answered()
            for _ in range(100):
                if "Reindex done" in (message(rec)["content"] or ""):
                    break
                await asyncio.sleep(0.1)
            content = message(rec)["content"]
            assert "Reindex done" in content and "1 new" in content and "3 unchanged" in content
            assert rec.ephemeral
            rec = await (await r.server.interact("ask", {"question": "sparse attention"})).answered()
            assert message(rec)["embeds"][0]["title"].startswith("Nov 30")
    run(scenario())


def _more_issues(folder, n=40):
    for i in range(n):
        text = " ".join(f"topic{i} sentence number {j} about models and data." for j in range(120))
        (folder / f"bulk_{i}.md").write_text(f"---\ntitle: Bulk {i}\ndate: 2023-06-01\n---\n## Bulk section {i}\n{text}\n")


def test_ask_answered_while_a_reindex_runs_and_a_second_reindex_is_refused(tmp_path, samples, embedder):
    _more_issues(samples, 5)

    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:
            # the test holds the catalog's write lock: the reindex cannot end until the test lets it
            blocker = sqlite3.connect(r.settings.catalog_path, timeout=30, isolation_level=None)
            blocker.execute("BEGIN IMMEDIATE")
            try:
                first = await r.server.interact("reindex", {"full": True}, admin=True)
                for _ in range(50):
                    if r.runner.running is not None:
                        break
                    await asyncio.sleep(0.05)
                assert r.runner.running is not None
                second = await (await r.server.interact("reindex", {}, admin=True)).answered()
                assert "already running" in message(second)["content"]
                ask = await (await r.server.interact("ask", {"question": "what is layer skip"})).answered(20)
                for _ in range(100):
                    if message(ask)["embeds"]:
                        break
                    await asyncio.sleep(0.1)
                assert cited_section(message(ask)["embeds"][0]) == LAYERSKIP_URL, "answered from the index being rebuilt"
                assert r.runner.running is not None and "Reindex done" not in (message(first)["content"] or "")
            finally:
                blocker.execute("ROLLBACK")
                blocker.close()
            await first.answered(120)
            for _ in range(600):
                if "Reindex done" in (message(first)["content"] or ""):
                    break
                await asyncio.sleep(0.1)
            assert "Reindex done" in message(first)["content"]
    run(scenario())


class SlowRetriever(Retriever):
    """A store that takes 4 s to answer (a cold disk, a remote server under load)."""

    def search(self, *args, **kwargs):
        time.sleep(4)
        return super().search(*args, **kwargs)


def test_slow_retrieval_is_still_acknowledged_within_3_seconds(tmp_path, samples, embedder):
    async def scenario():
        async with running_bot(tmp_path, samples, embedder, retriever_class=SlowRetriever) as r:
            rec = await (await r.server.interact("ask", {"question": "what is layer skip"})).answered()
            assert rec.acked_at - rec.created < 1.0
            for _ in range(100):
                if message(rec)["embeds"]:
                    break
                await asyncio.sleep(0.1)
            assert cited_section(message(rec)["embeds"][0]) == LAYERSKIP_URL
            assert not any(e.get("code") == 10062 for e in rec.errors)
    run(scenario())


def test_twenty_concurrent_asks_all_answered_and_heartbeat_never_late(tmp_path, samples, embedder):
    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:
            questions = ["what is layer skip", "mixture of experts routing", "robot touch sensor", "FineWeb dataset",
                         "speculative decoding"]
            start = len(r.server.heartbeats)
            recs = await asyncio.gather(*[r.server.interact("ask", {"question": questions[i % 5]}) for i in range(20)])
            await asyncio.gather(*[rec.answered(60) for rec in recs])
            for _ in range(300):
                if all(message(rec)["embeds"] for rec in recs):
                    break
                await asyncio.sleep(0.1)
            assert all(message(rec)["embeds"] for rec in recs)
            assert all(rec.acked_at - rec.created < 3 for rec in recs)
            await asyncio.sleep(1.5)
            beats = r.server.heartbeats[max(start - 1, 0):]
            gaps = [b - a for a, b in itertools.pairwise(beats)]
            assert gaps and max(gaps) < r.server.heartbeat_interval_ms / 1000 * 1.5
    run(scenario())


def test_what_the_bot_loads_at_start_is_left_out_of_every_garbage_collection(tmp_path, samples, embedder):
    # a full collection walks every object it tracks, holding the interpreter: with the model and the libraries
    # loaded that stalled the event loop 0.4-0.9 s at a time (benchmarks/bench_stall.py --debug)
    gc.unfreeze()
    try:
        async def scenario():
            async with running_bot(tmp_path, samples, embedder) as r:
                assert gc.get_freeze_count() > 100_000  # the model, the libraries, the keyword index
                rec = await r.server.interact("ask", {"question": "what is layer skip"})
                await rec.answered(60)
        run(scenario())
    finally:
        gc.unfreeze()


def test_cooldown_gives_a_friendly_message(tmp_path, samples, embedder):
    async def scenario():
        async with running_bot(tmp_path, samples, embedder, extra="") as r:
            reader = r.server.user("eager")
            recs = [await (await r.server.interact("ask", {"question": f"layer skip {i}"}, user=reader)).answered()
                    for i in range(5)]
            last = message(recs[-1])
            assert recs[-1].ephemeral and "try again in" in last["content"]
    run(scenario())


def test_status_shows_counts_and_uptime(tmp_path, samples, embedder):
    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:
            rec = await (await r.server.interact("status", {})).answered()
            embed = message(rec)["embeds"][0]
            field = embed["fields"][0]
            assert field["name"] == "examples" and field["value"].startswith("3 issues")
            assert "all-MiniLM-L6-v2" in embed["footer"]["text"] and "up 0 h" in embed["footer"]["text"]
            assert str(tmp_path) not in str(embed)  # no host paths in Discord
    run(scenario())


def test_bot_reindex_on_the_host_hands_the_job_to_the_running_bot(tmp_path, samples, embedder):
    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:
            (samples / "dec_1.md").write_text("---\ntitle: Dec 1\ndate: 2024-12-01\n---\n## Handed over\nText.\n")
            env = {k: v for k, v in os.environ.items() if child_keeps(k)}
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "--config", str(tmp_path / "bot.toml"), "reindex",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env, cwd=str(ROOT))
            out, err = await asyncio.wait_for(proc.communicate(), 120)
            assert proc.returncode == 0, err.decode()
            assert "(done by the running bot)" in out.decode() and "1 new" in out.decode()
            assert r.runner.last is not None and r.runner.last[1].new == 1
    run(scenario())


# --- bot run: the three ways it can fail to start -----------------------------------------------


def _bot_run(tmp_path, samples, env_extra, api_base, gateway):
    cfg = write_config(tmp_path / "run.toml", tmp_path / "data", [("examples", samples)],
                       extra=f'[discord]\napi_base = "{api_base}"\ngateway_url = "{gateway}"\n')
    env = {k: v for k, v in os.environ.items() if child_keeps(k) and k != "DISCORD_TOKEN"}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-m", "bot", "--config", str(cfg), "run"], capture_output=True,
                          text=True, env=env, timeout=180, cwd=str(ROOT))


def test_bot_run_without_a_token(tmp_path, samples):
    r = _bot_run(tmp_path, samples, {}, "http://127.0.0.1:9/api/v10", "ws://127.0.0.1:9/")
    assert r.returncode == 2 and "no Discord token" in r.stderr and "Traceback" not in r.stderr


def test_bot_run_with_a_rejected_token(tmp_path, samples):
    secret = "MTIzNDU2Nzg5MDEyMzQ1Njc4.wrong.token-value"

    async def scenario():
        server = await DiscordTestServer().start()
        try:
            return await asyncio.to_thread(_bot_run, tmp_path, samples, {"DISCORD_TOKEN": secret},
                                           server.api_base, server.gateway_url)
        finally:
            await server.stop()

    r = run(scenario())
    assert r.returncode == 5, r.stderr[-2000:]
    assert "rejected the token" in r.stderr and "Traceback" not in r.stderr
    assert secret not in r.stderr + r.stdout


def test_bot_run_when_discord_is_unreachable(tmp_path, samples):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    secret = "MTIzNDU2Nzg5MDEyMzQ1Njc4.some.token-value"
    r = _bot_run(tmp_path, samples, {"DISCORD_TOKEN": secret}, f"http://127.0.0.1:{port}/api/v10", f"ws://127.0.0.1:{port}/")
    assert r.returncode == 6, r.stderr[-2000:]
    assert "cannot reach Discord" in r.stderr and "Traceback" not in r.stderr
    assert secret not in r.stderr + r.stdout


def test_health_reports_a_connected_bot_and_not_a_stopped_one(tmp_path, samples, embedder):
    cfg_dir = tmp_path

    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:
            for _ in range(50):
                if r.settings.health_path.exists():
                    break
                await asyncio.sleep(0.1)
            env = {k: v for k, v in os.environ.items() if child_keeps(k)}
            ok = subprocess.run([sys.executable, "-m", "bot", "--config", str(cfg_dir / "bot.toml"), "health"],
                                capture_output=True, text=True, env=env, cwd=str(ROOT))
            assert ok.returncode == 0 and "healthy: connected" in ok.stdout
        env = {k: v for k, v in os.environ.items() if child_keeps(k)}
        down = subprocess.run([sys.executable, "-m", "bot", "--config", str(cfg_dir / "bot.toml"), "health"],
                              capture_output=True, text=True, env=env, cwd=str(ROOT))
        assert down.returncode == 1 and "not connected" in down.stderr
    run(scenario())


def test_bot_run_serves_ask_and_stops_cleanly_on_sigterm(tmp_path, samples):
    import signal

    token = "MTIzNDU2Nzg5MDEyMzQ1Njc4.real.token-value"

    async def scenario():
        server = await DiscordTestServer(token=token).start()
        cfg = write_config(tmp_path / "run.toml", tmp_path / "data", [("examples", samples)],
                           extra=server.discord_toml)
        env = {k: v for k, v in os.environ.items() if child_keeps(k)}
        env["DISCORD_TOKEN"] = token
        assert subprocess.run([sys.executable, "-m", "bot", "--config", str(cfg), "reindex"], env=env,
                              cwd=str(ROOT), capture_output=True).returncode == 0
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "--config", str(cfg), "run",
                                                    env=env, cwd=str(ROOT), stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.PIPE)
        try:
            await asyncio.wait_for(server.synced.wait(), 120)
            await asyncio.wait_for(server.identified.wait(), 60)
            rec = await (await server.interact("ask", {"question": "what is layer skip"})).answered(60)
            for _ in range(100):
                if rec.messages and rec.messages[-1]["embeds"]:
                    break
                await asyncio.sleep(0.1)
            assert cited_section(rec.messages[-1]["embeds"][0]) == LAYERSKIP_URL
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = await asyncio.wait_for(proc.communicate(), 60)
            await server.stop()
        assert proc.returncode == 0, err.decode()[-2000:]
        assert token not in (out + err).decode()
        assert "Traceback" not in err.decode()
    run(scenario())
