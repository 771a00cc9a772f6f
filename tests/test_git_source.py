"""Sources that are git repositories: a real repository in a temporary folder serves as the remote."""

from __future__ import annotations

import asyncio
import json
import shutil

import pytest

from tests.conftest import write_config
from tests.discord_api import DiscordTestServer
from tests.discord_harness import running_bot
from tests.git_remote import PrivateHTTP, Remote, issue, move_away
from tests.test_cli import bot

pytestmark = pytest.mark.slow  # a subprocess, a server or real archives: not in `make test-fast`

SUBDIR = 'subdir = "content/weekly_newsletter"'


@pytest.fixture
def remote(tmp_path):
    r = Remote(tmp_path / "remote")
    r.write("issue_001.md", issue(1))
    r.commit("first issue")
    r.push()
    return r


def config(tmp_path, url: str, extra_source: str = SUBDIR, extra: str = ""):
    return write_config(tmp_path / "c.toml", tmp_path / "data", [("weekly", url)], extra=extra,
                        source_extra={"weekly": extra_source})


def indexed_paths(tmp_path) -> set[str]:
    import sqlite3

    db = sqlite3.connect(tmp_path / "data" / "catalog.sqlite3")
    try:
        return {r[0] for r in db.execute("SELECT path FROM issues WHERE status = 'indexed'")}
    finally:
        db.close()


def test_clone_index_only_the_subdir_and_show_the_commit(tmp_path, remote):
    cfg = config(tmp_path, remote.url)
    r = bot("--config", str(cfg), "reindex")
    assert r.returncode == 0, r.stderr
    assert "1 new" in r.stdout
    assert indexed_paths(tmp_path) == {"issue_001.md"}  # not _index.md, not files outside the subdir
    status = json.loads(bot("--config", str(cfg), "status", "--json").stdout)
    git = status["sources"][0]["git"]
    assert git["commit"] == remote.head() and git["last_fetch"] and git["error"] is None
    text = bot("--config", str(cfg), "status").stdout
    assert f"git: commit {remote.head()[:12]}" in text
    # the clone is shallow: one commit of history
    checkout = tmp_path / "data" / "git" / "weekly" / "checkout"
    assert (checkout / ".git" / "shallow").exists()


def test_force_push_and_a_remote_that_disappears_and_comes_back(tmp_path, remote):
    cfg = config(tmp_path, remote.url)
    assert bot("--config", str(cfg), "reindex").returncode == 0
    remote.write("issue_002.md", issue(2))
    remote.commit("second")
    remote.push()
    assert bot("--config", str(cfg), "reindex").returncode == 0
    assert indexed_paths(tmp_path) == {"issue_001.md", "issue_002.md"}
    # history rewritten: issue 2 never happened, issue 3 did
    remote._git("reset", "--quiet", "--hard", "HEAD~1")
    remote.write("issue_003.md", issue(3))
    remote.commit("rewritten")
    remote.push(force=True)
    r = bot("--config", str(cfg), "reindex")
    assert r.returncode == 0, r.stderr
    assert indexed_paths(tmp_path) == {"issue_001.md", "issue_003.md"}
    # the remote goes away: the last good checkout keeps being served, the failure is shown
    gone = move_away(remote.bare)
    r = bot("--config", str(cfg), "reindex")
    assert "weekly:" in r.stderr and r.stderr.count("serving the last good checkout") == 1, r.stderr  # said once
    assert "0 removed" in r.stdout and indexed_paths(tmp_path) == {"issue_001.md", "issue_003.md"}
    status = json.loads(bot("--config", str(cfg), "status", "--json").stdout)
    assert status["sources"][0]["git"]["error"] and status["sources"][0]["issues"] == 2
    shutil.move(str(gone), str(remote.bare))
    remote.write("issue_004.md", issue(4))
    remote.commit("back")
    remote.push()
    r = bot("--config", str(cfg), "reindex")
    assert r.returncode == 0 and "serving the last good checkout" not in r.stderr
    assert indexed_paths(tmp_path) == {"issue_001.md", "issue_003.md", "issue_004.md"}


def test_a_corrupt_clone_is_cloned_again(tmp_path, remote):
    cfg = config(tmp_path, remote.url)
    assert bot("--config", str(cfg), "reindex").returncode == 0
    objects = tmp_path / "data" / "git" / "weekly" / "checkout" / ".git" / "objects"
    shutil.rmtree(objects)
    objects.mkdir()
    remote.publish("issue_002.md", issue(2))
    r = bot("--config", str(cfg), "reindex")
    assert r.returncode == 0, r.stderr
    assert indexed_paths(tmp_path) == {"issue_001.md", "issue_002.md"}


def test_private_repository_token_never_reaches_disk_or_logs(tmp_path, remote):
    token = "ghp_s3cretTOKENvalue1234567890"
    http = PrivateHTTP(remote.bare.parent, token)
    try:
        url = http.url(remote.bare.name)
        cfg = config(tmp_path, url, extra_source=f'{SUBDIR}\ntoken_env = "WEEKLY_GIT_TOKEN"')
        refused = bot("--config", str(cfg), "-v", "reindex", env={"WEEKLY_GIT_TOKEN": "wrong-token-value"})
        assert "weekly:" in refused.stderr and "serving the last good checkout" in refused.stderr
        assert "wrong-token-value" not in refused.stderr + refused.stdout
        assert refused.returncode == 2 and "weekly: the git repository has not been cloned yet" in refused.stdout
        assert "checkout does not exist" not in refused.stdout  # a folder of ours the user never named
        ok = bot("--config", str(cfg), "-vv", "reindex", env={"WEEKLY_GIT_TOKEN": token})
        assert ok.returncode == 0, ok.stderr
        assert indexed_paths(tmp_path) == {"issue_001.md"}
        assert any(a.startswith("Basic ") for a in http.authorizations)
        import base64

        secrets = [token.encode(), base64.b64encode(f"x-access-token:{token}".encode())]
        for path in (tmp_path / "data").rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                assert not any(s in data for s in secrets), path
        assert token not in ok.stdout + ok.stderr
        cfg_text = (tmp_path / "data" / "git" / "weekly" / "checkout" / ".git" / "config").read_text()
        assert "extraheader" not in cfg_text.lower() and "Authorization" not in cfg_text
    finally:
        http.close()


def test_pushed_issues_are_announced_once_and_a_draft_waits_for_its_second_push(tmp_path, remote, embedder):
    async def scenario():
        server = await DiscordTestServer().start()
        try:
            async with running_bot(tmp_path, tmp_path, embedder, server=server, sources=[("weekly", remote.url)],
                                   source_extra={"weekly": f"{SUBDIR}\nannounce_channel_id = {server.channel_id}"}) as r:
                cog = r.bot.get_cog("AnnounceCog")
                cog.loop.cancel()
                await cog.tick()  # first start: issue 1 is recorded, not posted
                remote.publish("issue_002.md", issue(2, date="2024-01-08"))
                await cog.tick()  # one interval later
                remote.publish("issue_003.md", issue(3, date="2024-01-15", extra="draft: true\n"), "draft")
                await cog.tick()
                await cog.tick()
                titles = [m["embeds"][0]["title"] for m in server.channel_messages.get(server.channel_id, [])]
                assert titles == ["Issue 2"]
                ask = await (await server.interact("ask", {"question": "topic2 story"})).answered()
                assert ask.messages[-1]["embeds"][0]["title"].startswith("Issue 2")
                remote.publish("issue_003.md", issue(3, date="2024-01-15", extra="draft: false\n"), "publish")
                await cog.tick()
                await cog.tick()
                titles = [m["embeds"][0]["title"] for m in server.channel_messages.get(server.channel_id, [])]
                assert titles == ["Issue 2", "Issue 3"]
                status = await (await server.interact("status", {})).answered()
                assert remote.head()[:12] in str(status.messages[-1]["embeds"][0])
        finally:
            await server.stop()
    asyncio.run(scenario())
