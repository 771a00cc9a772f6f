"""The ``bot`` command as a user runs it: exit codes, summaries, friendly errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from index.store.locks import DataDirLock

from .conftest import ROOT, child_keeps, write_config

pytestmark = pytest.mark.slow  # a subprocess, a server or real archives: not in `make test-fast`


def bot(*args: str, env: dict[str, str] | None = None, stdin: str | None = None, cwd: Path | None = None):
    full_env = {k: v for k, v in os.environ.items() if child_keeps(k)}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=full_env,
                          input=stdin, timeout=300, cwd=cwd or ROOT)


@pytest.fixture
def config(tmp_path, samples) -> Path:
    return write_config(tmp_path / "config.toml", tmp_path / "data", [("examples", samples)])


def test_reindex_summary_status_and_second_run(config, samples):
    (samples / "broken.md").write_bytes(b"\x00\x01 not text")
    first = bot("--config", str(config), "reindex")
    assert first.returncode == 1, first.stderr  # some files failed, the rest indexed
    out = first.stdout
    assert "3 new" in out and "2 held back" in out and "1 failed" in out
    assert "examples/broken.md: binary file" in out
    assert "examples/nov_9.md: draft: true" in out
    assert "Traceback" not in first.stderr

    (samples / "broken.md").unlink()
    second = bot("--config", str(config), "reindex")
    assert second.returncode == 0, second.stderr
    assert "0 new, 0 changed, 3 unchanged, 0 removed, 2 held back, 0 failed" in second.stdout

    status = bot("--config", str(config), "status", "--json")
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert data["model"] == "all-MiniLM-L6-v2" and "embedded Chroma" in data["store"]
    [src] = data["sources"]
    assert src["name"] == "examples" and src["issues"] == 3 and src["sections"] > 10
    assert src["last_indexed"]


def test_bad_settings_name_the_key_the_file_and_the_reason(tmp_path, samples):
    cfg = write_config(tmp_path / "c.toml", tmp_path / "data", [("examples", samples)],
                       extra="[embedding]\nbatch_size = 0\n")
    r = bot("--config", str(cfg), "status")
    assert r.returncode == 2
    assert "embedding.batch_size" in r.stderr and str(cfg) in r.stderr and "greater than or equal to 1" in r.stderr
    assert "Traceback" not in r.stderr

    r = bot("--config", str(cfg), "status", env={"BACKISSUE_CHROMA__URL": "chroma.internal:8000"})
    assert r.returncode == 2 and "BACKISSUE_CHROMA__URL" in r.stderr
    r = bot("--config", str(cfg), "status", env={"BACKISSUE_CHROMA__URL": "https://admin:hunter2@chroma.internal"})
    assert r.returncode == 2 and "must not carry credentials" in r.stderr and "hunter2" not in r.stderr

    broken = tmp_path / "broken.toml"
    broken.write_text("data_dir = \n")
    r = bot("--config", str(broken), "status")
    assert r.returncode == 2 and "not valid TOML" in r.stderr and str(broken) in r.stderr

    # saved by an editor with a byte order mark and Windows line ends: still the same settings
    windows = tmp_path / "windows.toml"
    windows.write_bytes(b"\xef\xbb\xbf" + write_config(tmp_path / "plain.toml", tmp_path / "data", [("examples", samples)])
                        .read_bytes().replace(b"\n", b"\r\n"))
    r = bot("--config", str(windows), "status", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["data_dir"] == str(tmp_path / "data")

    # a data folder that cannot be made: a file in its place, or under a folder nobody may write
    (tmp_path / "afile").write_text("")
    for data_dir, why in ((tmp_path / "afile", "a file is in the way"), (Path("/proc/backissue-test"), "")):
        cfg = write_config(tmp_path / "d.toml", data_dir, [("examples", samples)])
        for command in (["status"], ["reindex"], ["ask", "wombats"]):
            r = bot("--config", str(cfg), *command)
            assert r.returncode == 2, (command, r.stderr)
            assert f"data_dir {data_dir} cannot be used" in r.stderr and why in r.stderr, r.stderr
            assert "Traceback" not in r.stderr


def test_secrets_are_refused_in_the_config_file(tmp_path, samples):
    cfg = write_config(tmp_path / "c.toml", tmp_path / "data", [("examples", samples)],
                       extra='[chroma]\ntoken = "s3cr3t-value"\n')
    r = bot("--config", str(cfg), "status")
    assert r.returncode == 2 and "chroma.token" in r.stderr and "environment" in r.stderr
    assert "s3cr3t-value" not in r.stderr + r.stdout


def test_config_from_environment_variable_and_env_overrides(tmp_path, samples):
    cfg = write_config(tmp_path / "c.toml", tmp_path / "data", [("examples", samples)])
    r = bot("status", "--json", env={"BACKISSUE_CONFIG": str(cfg), "BACKISSUE_DATA_DIR": str(tmp_path / "other")})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["data_dir"] == str(tmp_path / "other")


def test_second_process_is_refused_while_the_data_folder_is_in_use(config, tmp_path):
    lock = DataDirLock(tmp_path / "data", "a test holding the store")
    lock.acquire()
    try:
        r = bot("--config", str(config), "reindex")
    finally:
        lock.release()
    assert r.returncode == 3
    assert "in use by another backissue process" in r.stderr and "a test holding the store" in r.stderr


def test_unknown_source_is_a_usage_error(config):
    r = bot("--config", str(config), "reindex", "--source", "nope")
    assert r.returncode == 2 and "no source named 'nope'" in r.stderr


def test_example_config_is_valid_and_documents_every_key(tmp_path):
    import tomllib

    from bot.settings import Settings, load_settings

    example = ROOT / "config.example.toml"
    text = example.read_text()
    settings = load_settings(example)
    assert settings.sources[0].name == "weekly"
    for name, field in Settings.model_fields.items():
        assert name in text
        sub = getattr(field.annotation, "model_fields", None)
        for key in sub or {}:
            if key != "token":
                assert f"\n{key} =" in text or f"\n# {key}" in text, f"{name}.{key} is not documented"
    from bot.settings import SourceSettings

    for key in tomllib.loads(text)["sources"][0]:
        assert key in SourceSettings.model_fields
    for key in SourceSettings.model_fields:
        assert f"\n{key} =" in text or f"\n# {key} =" in text, f"sources.{key} is not documented"
    # whoever copies the example gets the same embedding as a bot with no config (same index, same memory)
    assert settings.embedding == Settings().embedding


def test_a_missing_source_folder_is_a_configuration_error_that_status_shows(tmp_path, samples):
    gone = tmp_path / "moved-away"
    cfg = write_config(tmp_path / "c.toml", tmp_path / "data", [("examples", samples), ("old", gone)])
    r = bot("--config", str(cfg), "reindex")
    assert r.returncode == 2, r.stdout + r.stderr  # a configuration error, not "some files failed"
    assert f"old: source folder {gone} does not exist" in r.stdout
    assert "3 new" in r.stdout and "0 failed" in r.stdout  # the other source is indexed all the same
    assert "Traceback" not in r.stderr

    status = bot("--config", str(cfg), "status", "--json")
    by_name = {s["name"]: s for s in json.loads(status.stdout)["sources"]}
    assert "does not exist" in by_name["old"]["problem"] and by_name["old"]["last_indexed"] is None
    assert by_name["examples"]["problem"] is None and by_name["examples"]["last_indexed"]
    text = bot("--config", str(cfg), "status").stdout
    assert f"NOT FOUND: source folder {gone} does not exist" in text


def test_a_full_reindex_reports_unchanged_issues_as_re_embedded(config):
    assert bot("--config", str(config), "reindex").returncode == 0
    full = bot("--config", str(config), "reindex", "--full")
    assert full.returncode == 0, full.stderr
    assert "0 new, 0 changed, 3 re-embedded, 0 unchanged" in full.stdout


def test_a_one_shot_ask_on_a_terminal_says_what_it_is_loading(config):
    import select

    master, slave = os.openpty()
    env = {k: v for k, v in os.environ.items() if child_keeps(k)}
    try:
        proc = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(config), "ask", "what is layer skip"],
                                stdout=subprocess.PIPE, stderr=slave, text=True, env=env, cwd=ROOT)
        os.close(slave)
        err = b""
        while select.select([master], [], [], 120)[0]:
            try:
                data = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            err += data
        out = proc.communicate(timeout=120)[0]
    finally:
        os.close(master)
    assert proc.returncode == 0, err.decode()
    assert "oct_26" in out
    text = err.decode()
    # the notice shows only when loading takes over 1.5 s (here it indexes first, which may or may not take that
    # long): when shown, it is said how long loading took; test_a_slow_load_is_announced_on_a_terminal pins it down
    assert ("loading the embedding model and the index" in text) == ("ready in" in text)


def test_a_slow_load_is_announced_on_a_terminal_and_a_fast_one_is_not():
    import time

    from bot.progress import slow_notice

    master, slave = os.openpty()
    try:
        stream = os.fdopen(slave, "w", buffering=1, closefd=False)
        with slow_notice("loading the index", after=0.05, stream=stream):
            time.sleep(0.5)
        with slow_notice("loading quickly", after=5, stream=stream):
            pass
        stream.flush()
        out = os.read(master, 4096).decode()
    finally:
        os.close(master)
        os.close(slave)
    assert "loading the index…" in out and "ready in 0." in out
    assert "loading quickly" not in out


def test_options_read_as_a_user_would_type_them(tmp_path, samples, capsys):
    from bot.cli import main

    cfg = write_config(tmp_path / "c.toml", tmp_path / "data", [("examples", samples)])
    assert main(["status", "--json", "--config", str(cfg)]) == 0  # --config after the command, too
    assert json.loads(capsys.readouterr().out)["data_dir"] == str(tmp_path / "data")
    for argv, message in (
        (["ask", "x", "--wait", "-5"], "--wait: must be 0 or more seconds, not -5"),
        (["reindex", "--wait", "soon"], "--wait: expected a number of seconds, not 'soon'"),
        (["gaps", "--forget-user", "-5"], "--forget-user: expected a Discord user ID"),
        (["gaps", "--forget-user", "123", "--since", "2026-01-01"], "--since and --until do not apply"),
    ):
        with pytest.raises(SystemExit) as exit_:
            main(["--config", str(cfg), *argv])
        assert exit_.value.code == 2 and message in capsys.readouterr().err, argv


def test_output_into_a_pipe_that_closes_early_is_no_traceback(config):
    child = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(config), "status"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env={k: v for k, v in os.environ.items() if child_keeps(k)},
                             cwd=ROOT)
    child.stdout.close()  # as `bot status | head -0` does: nobody reads what it prints
    err = child.stderr.read().decode()
    assert child.wait(timeout=300) == 141 and "Traceback" not in err and "BrokenPipeError" not in err, err


def test_status_does_not_show_a_feeds_key(tmp_path):
    feed = "http://127.0.0.1:9/members/feed.xml?format=rss&access_token=SECRETKEY123&sig=ab12"
    cfg = write_config(tmp_path / "c.toml", tmp_path / "data", [("members", f"feed+{feed}")])
    r = bot("--config", str(cfg), "status", "--json")
    assert r.returncode == 0, r.stderr
    shown = next(s for s in json.loads(r.stdout)["sources"] if s["name"] == "members")["feed"]["url"]
    assert shown == "http://127.0.0.1:9/members/feed.xml?format=rss&access_token=***&sig=***"
    assert "SECRETKEY123" not in r.stdout + r.stderr and "ab12" not in r.stdout + r.stderr


def test_with_no_config_file_at_all_the_bundled_samples_answer(tmp_path):
    """The quick start's `make demo`: no config.toml, no BACKISSUE_CONFIG; the defaults index the samples."""
    r = bot("ask", "what is layer skip", "--k", "1", cwd=tmp_path, env={"BACKISSUE_CONFIG": ""})
    assert r.returncode == 0, r.stderr
    assert "LayerSkip: Early Exit and Self-Speculative Decoding" in r.stdout
    assert (tmp_path / "data" / "catalog.sqlite3").is_file()  # the default data folder, beside where it ran
