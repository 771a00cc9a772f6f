"""What a new user reads when the configuration is wrong: the real cause and the fix, in our words."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import ConfigError, load_settings


def _error(tmp_path: Path, text: str) -> str:
    cfg = tmp_path / "config.toml"
    cfg.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    return str(err.value)


def test_a_validators_reason_reads_without_the_libraries_label(tmp_path):
    message = _error(tmp_path, '[chroma]\nurl = "ftp://chroma.internal"\n')
    assert "chroma.url: must be empty (embedded store)" in message
    assert "Value error" not in message
    message = _error(tmp_path, '[[sources]]\nname = "weekly"\npath = "."\nbase_url = "example.com"\n')
    assert "sources[0].base_url: must start with http:// or https://" in message and "Value error" not in message


def test_a_folder_given_as_the_config_file_is_called_a_folder(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path)
    assert "is a folder" in str(err.value) and "does not exist" not in str(err.value)
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path / "missing.toml")
    assert "does not exist" in str(err.value)


def test_sources_written_as_one_table_suggests_the_list_form(tmp_path):
    message = _error(tmp_path, '[sources]\nname = "weekly"\npath = "content"\n')
    assert "[[sources]]" in message


@pytest.mark.parametrize(("toml", "variable"), [
    ('[chroma]\ntoken = "s3cr3t"\n', "BACKISSUE_CHROMA__TOKEN"),
    ('[discord]\ntoken = "s3cr3t"\n', "DISCORD_TOKEN"),
    ('token = "s3cr3t"\n', "DISCORD_TOKEN"),
    ('[[sources]]\nname = "weekly"\npath = "."\ntoken = "s3cr3t"\n', "an environment variable named by the source's token_env"),
])
def test_a_secret_in_the_file_names_the_variable_that_carries_it(tmp_path, toml, variable):
    message = _error(tmp_path, toml)
    assert f"set {variable} instead" in message and "s3cr3t" not in message
    if variable != "DISCORD_TOKEN":
        assert "DISCORD_TOKEN" not in message


def test_an_unavailable_model_does_not_claim_a_connection_was_tried(monkeypatch):
    from index.embedding.model import Embedder, ModelLoadError

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelLoadError) as err:
        Embedder("no-such-org/no-such-model").load()
    message = str(err.value)
    assert "no-such-org/no-such-model" in message and "nothing was downloaded" in message
    assert "huggingface.co" not in message and "connect" not in message


def test_a_secret_looking_key_that_is_no_setting_gets_no_invented_variable(tmp_path):
    message = _error(tmp_path, '[embedding]\napi_key = "s3cr3t"\n')
    assert "embedding.api_key" in message and "no setting" in message
    assert "BACKISSUE_EMBEDDING__API_KEY" not in message and "s3cr3t" not in message


def test_a_name_that_breaks_the_rules_says_the_rules_not_a_pattern(tmp_path):
    message = _error(tmp_path, '[[sources]]\nname = "my source!"\npath = "."\n')
    assert "sources[0].name: use letters, digits, spaces, dots, underscores and hyphens" in message
    assert "pattern" not in message and "[A-Za-z" not in message
    message = _error(tmp_path, '[[sources]]\nname = "weekly"\npath = "."\ntoken_env = "1BAD"\n')
    assert "sources[0].token_env: must be an environment variable's name" in message


def test_a_table_given_whole_in_one_environment_variable_is_named_as_the_culprit(tmp_path, monkeypatch):
    monkeypatch.setenv("BACKISSUE_DISCORD", '{"ask_rate": "x"}')
    message = _error(tmp_path, '[[sources]]\nname = "weekly"\npath = "."\n')
    assert "discord.ask_rate" in message and "in environment variable BACKISSUE_DISCORD" in message
    assert "config.toml" not in message
