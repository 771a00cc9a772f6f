"""Reading the settings: the TOML file, then the environment; a message that names the key, the file and the
reason for anything unusable, and secrets refused anywhere but the environment."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import BaseSettings, InitSettingsSource, PydanticBaseSettingsSource

from bot.settings.model import ENV_PREFIX, Settings
from bot.settings.sections import ENV_NAME_PATTERN, NAME_PATTERN
from index.errors import InvalidRequest

SECRET_KEYS = {"token", "discord_token", "password", "api_key", "secret"}


class ConfigError(InvalidRequest):
    """The configuration is unusable; the message names the key, the file and the reason."""


def config_path(explicit: Path | None) -> Path | None:
    """The TOML file to read: explicit, else $BACKISSUE_CONFIG, else ./config.toml if it exists."""
    if explicit is not None:
        return explicit
    env = os.environ.get("BACKISSUE_CONFIG")
    if env:
        return Path(env)
    local = Path("config.toml")
    return local if local.is_file() else None


def _find_secrets(data: Any, prefix: str = "") -> list[str]:
    found: list[str] = []
    if isinstance(data, dict):
        for k, v in data.items():
            key = f"{prefix}{k}"
            if str(k).lower() in SECRET_KEYS:
                found.append(key)
            found.extend(_find_secrets(v, key + "."))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            found.extend(_find_secrets(v, f"{prefix[:-1]}[{i}]."))
    return found


# the secrets backissue reads, and where each one comes from
SECRET_VARIABLES = {"token": "DISCORD_TOKEN", "discord_token": "DISCORD_TOKEN", "discord.token": "DISCORD_TOKEN",
                    "chroma.token": f"{ENV_PREFIX}CHROMA__TOKEN"}


def _secret_advice(key: str) -> str:
    """Where the secret a config file tried to hold belongs; no variable is invented for a key that is no setting."""
    if key.lower() in SECRET_VARIABLES:
        return f"set {SECRET_VARIABLES[key.lower()]} instead"
    if key.startswith("sources["):
        return "set an environment variable named by the source's token_env instead"
    return "no setting reads this key; remove it"


# what the settings' patterns (bot.settings.sections) allow, in words
PATTERNS = {
    NAME_PATTERN: "use letters, digits, spaces, dots, underscores and hyphens, starting with a letter or digit",
    ENV_NAME_PATTERN: "must be an environment variable's name: letters, digits and underscores, not starting with a digit",
}


def _describe(err: dict[str, Any], file: Path | None) -> str:
    loc = err.get("loc", ())
    key = ""
    for part in loc:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    names = [str(p) for p in loc if not isinstance(p, int)]
    # BACKISSUE_DISCORD__ASK_RATE, or BACKISSUE_DISCORD holding the whole table as JSON
    env_name = next((n for n in (ENV_PREFIX + "__".join(names[:i]).upper() for i in range(len(names), 0, -1))
                     if n in os.environ), None)
    if env_name is not None:
        where = f"environment variable {env_name}"
    elif file is not None:
        where = str(file)
    else:
        where = "the built-in defaults"
    msg = err.get("msg", "invalid")
    if err.get("type") == "value_error":
        msg = msg.removeprefix("Value error, ")  # the validator's own words, without pydantic's label
        named = None if key else re.match(r"([a-z_]+\[\d+\]\.[a-z_]+): ", msg)
        if named:  # a check across sections names the entry it is about: "channels[1].source: ..."
            key, msg = named[1], msg[named.end():]
    if err.get("type") == "extra_forbidden":
        msg = "unknown key (see config.example.toml for the keys)"
    if err.get("type") == "string_pattern_mismatch":
        msg = PATTERNS.get(str(err.get("ctx", {}).get("pattern")), msg)
    value = err.get("input")
    if isinstance(value, str):
        value = re.sub(r"//[^/@\s]+@", "//***@", value)  # never echo credentials in a URL
    shown = "" if isinstance(value, (dict, list)) or err.get("type") in ("missing", "extra_forbidden") else f" (got {value!r})"
    return f"{key or 'settings'}: {msg}{shown} — in {where}"


def load_settings(explicit: Path | None = None) -> Settings:
    """Read the settings; raises ConfigError with a message fit for the user."""
    path = config_path(explicit)
    base = Path.cwd()
    data: dict[str, Any] = {}  # no file: the defaults (the bundled sample issues) under the environment
    if path is not None:
        if path.is_dir():
            raise ConfigError(f"config file {path} is a folder; give the TOML file inside it"
                              f" (for example {path / 'config.toml'})")
        if not path.exists():
            raise ConfigError(f"config file {path} does not exist (config.example.toml shows every key)")
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8-sig"))  # an editor's byte order mark is no key
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from None
        secrets = _find_secrets(data)
        if secrets:
            where = "; ".join(f"{key}: {_secret_advice(key)}" for key in secrets)
            raise ConfigError(f"{path}: secrets are read only from the environment, never from the config file — {where}")
        for table in ("sources", "channels"):
            if isinstance(data.get(table), dict):
                raise ConfigError(f"{path}: {table} must be a list of tables: write each one as [[{table}]]"
                                  f" (two brackets), not [{table}]")
        base = path.resolve().parent

    class _FromFile(Settings):
        """The file's settings under the environment's, from the TOML parsed above (it may start with a BOM)."""

        @classmethod
        def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                       env_settings: PydanticBaseSettingsSource, **_: PydanticBaseSettingsSource
                                       ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (init_settings, env_settings, InitSettingsSource(settings_cls, init_kwargs=data))

    try:
        settings: Settings = _FromFile()
    except ValidationError as exc:
        lines = [_describe(e, path) for e in exc.errors()]
        raise ConfigError("invalid settings:\n  " + "\n  ".join(lines)) from None
    settings.data_dir = (base / settings.data_dir.expanduser()).resolve()
    for s in settings.sources:
        if s.path is not None:
            s.path = (base / s.path.expanduser()).resolve()
        if s.export is not None:
            s.export = (base / s.export.expanduser()).resolve()
    return settings
