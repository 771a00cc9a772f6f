"""Server mode: the index in a real Chroma server on loopback, shared by several processes; and two reindexes at once."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, child_keeps, write_config

pytestmark = pytest.mark.slow  # a subprocess, a server or real archives: not in `make test-fast`

chroma_server = pytest.mark.chroma_server
LAYERSKIP = "LayerSkip: Early Exit and Self-Speculative Decoding"


def _env():
    import os

    return {k: v for k, v in os.environ.items() if child_keeps(k)}


def bot(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=_env(),
                          timeout=600, cwd=cwd)


def _config(tmp_path, name, issues, url=""):
    extra = f'[chroma]\nurl = "{url}"\n' if url else ""
    return write_config(tmp_path / f"{name}.toml", tmp_path / f"data-{name}", [("examples", issues)], extra=extra)


def _bulk(folder, n=40):
    for i in range(n):
        text = " ".join(f"bulk{i} sentence {j} about models, data and evaluation." for j in range(60))
        (folder / f"bulk_{i:02d}.md").write_text(f"---\ntitle: Bulk {i}\ndate: 2023-06-01\n---\n## Bulk {i}\n{text}\n")


@chroma_server
def test_index_search_and_reindex_through_a_chroma_server_shared_by_two_hosts(tmp_path, samples, chroma):
    a = _config(tmp_path, "a", samples, chroma.url)
    b = _config(tmp_path, "b", samples, chroma.url)  # another host: its own data folder, the same server
    first = bot("--config", str(a), "reindex")
    assert first.returncode == 0, first.stderr
    assert "3 new" in first.stdout
    assert not (tmp_path / "data-a" / "chroma").exists()  # nothing embedded locally
    # the other host agrees about what is indexed: nothing to embed, the model is not even loaded
    second = bot("--config", str(b), "-v", "reindex")
    assert second.returncode == 0, second.stderr
    assert "0 new, 0 changed, 3 unchanged" in second.stdout and "loading embedding model" not in second.stderr
    ask = bot("--config", str(b), "ask", "--json", "what is layer skip")
    assert ask.returncode == 0, ask.stderr
    top = json.loads(ask.stdout)["results"][0]
    assert top["heading"] == LAYERSKIP and top["url"].endswith("#layerskip-early-exit-and-self-speculative-decoding")
    # a change made through one host is seen by the other
    f = samples / "sep_28.md"
    f.write_text(f.read_text().replace("FineWeb", "Grobnitz"))
    changed = bot("--config", str(b), "reindex")
    assert "1 changed" in changed.stdout, changed.stdout + changed.stderr
    again = bot("--config", str(a), "reindex")
    assert "0 new, 0 changed, 3 unchanged" in again.stdout, again.stdout + again.stderr
    found = json.loads(bot("--config", str(a), "ask", "--json", "Grobnitz pretraining data").stdout)
    assert found["results"][0]["heading"].startswith("Grobnitz")
    (samples / "sep_28.md").unlink()
    assert "1 removed" in bot("--config", str(a), "reindex").stdout
    gone = json.loads(bot("--config", str(b), "ask", "--json", "--k", "10", "Grobnitz pretraining data").stdout)
    assert all(r["path"] != "sep_28.md" for r in gone["results"])


@chroma_server
def test_two_reindexes_at_once_against_a_server_keep_it_intact(tmp_path, samples, chroma):
    _bulk(samples)
    configs = [_config(tmp_path, name, samples, chroma.url) for name in ("x", "y")]
    procs = [subprocess.Popen([sys.executable, "-m", "bot", "--config", str(c), "reindex"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=_env(), cwd=ROOT) for c in configs]
    outs = [p.communicate(timeout=600) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes in ([0, 0], [0, 3]), outs  # the second waited its turn, or was refused clearly
    if codes == [0, 3]:
        refused = next(err for (out, err), p in zip(outs, procs, strict=True) if p.returncode == 3)
        assert "another process is writing to the shared index" in refused
    _assert_server_intact(chroma.url)
    check = bot("--config", str(configs[1]), "reindex")
    assert check.returncode == 0 and " 0 new, 0 changed" in " " + check.stdout.splitlines()[0]


def _assert_server_intact(url):
    import chromadb
    from chromadb.config import Settings

    host, port = url.removeprefix("http://").split(":")
    client = chromadb.HttpClient(host=host, port=int(port), settings=Settings(anonymized_telemetry=False))
    chunks = client.get_collection("backissue-chunks", embedding_function=None)
    issues = client.get_collection("backissue-issues", embedding_function=None)
    records = issues.get(include=["documents"])
    referenced = {c[0] for doc in records["documents"] for c in json.loads(doc)["chunks"]}
    stored = set(chunks.get(include=[])["ids"])
    assert referenced == stored and len(referenced) > 40  # every served chunk has its vector; no stray vectors


def test_two_reindexes_at_once_on_an_embedded_store_take_turns(tmp_path, samples):
    _bulk(samples, 20)
    cfg = _config(tmp_path, "e", samples)
    procs = [subprocess.Popen([sys.executable, "-m", "bot", "--config", str(cfg), "reindex", "--wait", "300"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=ROOT)
             for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    firsts = sorted(out.splitlines()[0] for out, _ in outs)
    assert "23 new" in firsts[1] and "0 new, 0 changed, 23 unchanged" in firsts[0]  # one indexed, then the other found it done
    status = json.loads(bot("--config", str(cfg), "status", "--json").stdout)
    assert status["sources"][0]["issues"] == 23


@chroma_server
def test_only_one_process_holds_the_announcer_lease(chroma):
    import chromadb
    from chromadb.config import Settings

    from index.store.server.leases import Leases
    from index.store.server.records import ServerRecords

    host, port = chroma.url.removeprefix("http://").split(":")
    states = []
    for _ in range(2):
        client = chromadb.HttpClient(host=host, port=int(port), settings=Settings(anonymized_telemetry=False))
        states.append(Leases(ServerRecords(client)))
    assert states[0].acquire("announcer:1", "host-a:1", ttl=2)
    assert not states[1].acquire("announcer:1", "host-b:2", ttl=2)
    assert states[0].acquire("announcer:1", "host-a:1", ttl=2)  # renewing keeps it
    time.sleep(2.2)  # the holder died: the lease expires and the other takes over
    assert states[1].acquire("announcer:1", "host-b:2", ttl=2)
    assert states[1].holder("announcer:1") == "host-b:2"


@chroma_server
def test_a_bot_on_another_host_takes_over_announcing_without_reposting_or_losing(tmp_path, chroma, embedder):
    import asyncio

    from tests.discord_api import DiscordTestServer
    from tests.discord_harness import running_bot
    from tests.test_announce import Clock, control, urls, write_issue

    folder = tmp_path / "weekly"
    folder.mkdir()
    write_issue(folder, 1, date="2024-01-01")
    hosts = [tmp_path / "host-a", tmp_path / "host-b"]
    for h in hosts:
        h.mkdir()

    async def scenario():
        discord = await DiscordTestServer().start()
        kwargs = {"server": discord, "sources": [("weekly", folder)], "extra": f'[chroma]\nurl = "{chroma.url}"\n',
                  "source_extra": {"weekly": f"announce_channel_id = {discord.channel_id}"}, "settle": False}
        try:
            async with running_bot(hosts[0], folder, embedder, **kwargs) as r:
                cog = await control(r, Clock())
                await cog.tick()  # first start: issue 1 recorded, not posted
                write_issue(folder, 2, date="2024-01-08")
                await cog.tick()
            # host A has shut down and released its lease (else it would hold it for three intervals):
            # host B, with an empty data folder, takes over at once
            write_issue(folder, 3, date="2024-01-15")
            async with running_bot(hosts[1], folder, embedder, **kwargs) as r:
                cog = await control(r, Clock())
                await cog.tick()
                await cog.tick()
            assert urls(discord, discord.channel_id) == [
                "https://newsletter.example.org/issues/issue_002/", "https://newsletter.example.org/issues/issue_003/"]
        finally:
            await discord.stop()
    asyncio.run(scenario())
