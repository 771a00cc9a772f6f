"""The application's one typed settings object.

Read from a TOML file (``--config FILE``, else ``BACKISSUE_CONFIG``, else ``./config.toml``
when present, else built-in defaults that index the bundled sample issues), then
overridden by environment variables ``BACKISSUE_…`` (``__`` for nesting, for example
``BACKISSUE_EMBEDDING__BATCH_SIZE=64``). Secrets come only from the environment.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from index.embedding.model import DEFAULT_MODEL
from index.errors import InvalidRequest
from index.reading.issue import SourceSpec

ENV_PREFIX = "BACKISSUE_"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_EXAMPLES = PROJECT_ROOT / "examples"
SECRET_KEYS = {"token", "discord_token", "password", "api_key", "secret"}


class ConfigError(InvalidRequest):
    """The configuration is unusable; the message names the key, the file and the reason."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourceSettings(_Section):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$")
    path: Path | None = None
    git: str = ""
    feed: str = ""  # an RSS or Atom feed's URL (index.reading.feeds)
    export: Path | None = None  # a Substack export (folder or zip) or a Ghost JSON export (index.reading.exports)
    branch: str = ""
    subdir: str = ""
    token_env: str = Field(default="", pattern=r"^([A-Za-z_][A-Za-z0-9_]*)?$")
    base_url: str = ""
    exclude: list[str] = Field(default_factory=lambda: ["README.md"])
    section_pages: bool = False
    generator: Literal["auto", "hugo", "jekyll", "zola", "pelican"] = "auto"
    permalink: str = ""
    announce_channel_id: int | None = Field(default=None, ge=1)
    announce_role_id: int | None = Field(default=None, ge=1)
    crosspost: bool = False
    # a feed is fetched at most this often by the running bot (`bot reindex` and /reindex fetch it at once);
    # 0: at every refresh of the index ([index] refresh_seconds)
    check_seconds: float = Field(default=300.0, ge=0, le=86400)
    include_paid: bool = False  # index an export's paid-only posts, quoted only to members with paid_role_id
    paid_role_id: int | None = Field(default=None, ge=1)

    @field_validator("base_url")
    @classmethod
    def _url(cls, v: str) -> str:
        if v and not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v

    @field_validator("git")
    @classmethod
    def _git_url(cls, v: str) -> str:
        if v and not (v.startswith(("https://", "http://", "ssh://", "file://", "git://")) or "@" in v.split(":")[0]):
            raise ValueError("must be an https, ssh (user@host:path or ssh://) or file URL")
        if "@" in v.split("//", 1)[-1].split("/")[0] and v.startswith(("https://", "http://")):
            raise ValueError("must not carry credentials; name an environment variable in token_env instead")
        return v

    @field_validator("feed")
    @classmethod
    def _feed_url(cls, v: str) -> str:
        if v and not v.startswith(("https://", "http://")):
            raise ValueError("must be the feed's http:// or https:// URL")
        if "@" in v.split("//", 1)[-1].split("/")[0]:
            raise ValueError("must not carry credentials")
        return v

    @field_validator("subdir")
    @classmethod
    def _subdir(cls, v: str) -> str:
        v = v.strip("/")
        if ".." in Path(v).parts:
            raise ValueError("must stay inside the repository")
        return v

    @model_validator(mode="after")
    def _one_place(self) -> SourceSettings:
        if [self.path is not None, bool(self.git), bool(self.feed) or self.export is not None].count(True) != 1:
            raise ValueError("give one of path (a folder), git (a repository URL), or feed (an RSS or Atom feed's URL)"
                             " and/or export (a Substack or Ghost export)")
        if self.include_paid and (self.export is None or self.paid_role_id is None):
            raise ValueError(f"source {self.name!r}: include_paid = true needs " + (
                "an export (a feed shows no paid post whole)" if self.export is None else
                "paid_role_id, the Discord role whose members may read paid posts; without it they stay out"))
        if self.paid_role_id is not None and not self.include_paid:
            raise ValueError(f"source {self.name!r}: paid_role_id is set but include_paid is not true")
        return self


class EmbeddingSettings(_Section):
    model: str = DEFAULT_MODEL
    backend: Literal["torch", "onnx", "onnx-int8"] = "onnx"
    batch_size: int = Field(default=8, ge=1, le=1024)
    threads: int = Field(default=0, ge=0, le=256, description="0: the backend's default")
    # where the ONNX backends keep the exported graph; empty: data_dir/onnx
    export_dir: Path | None = None

    @field_validator("export_dir", mode="before")
    @classmethod
    def _empty_is_default(cls, v: object) -> object:
        return None if isinstance(v, str) and not v.strip() else v


class ChromaSettings(_Section):
    url: str = ""
    token: SecretStr | None = None  # only from the environment: BACKISSUE_CHROMA__TOKEN

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if v and not v.startswith(("http://", "https://")):
            raise ValueError("must be empty (embedded store) or start with http:// or https://")
        if "@" in v.split("//", 1)[-1].split("/")[0]:
            raise ValueError("must not carry credentials; set BACKISSUE_CHROMA__TOKEN in the environment instead")
        return v


class DiscordSettings(_Section):
    token: SecretStr | None = None  # only from the environment: DISCORD_TOKEN or BACKISSUE_DISCORD__TOKEN
    dev_guild_id: int | None = Field(default=None, ge=1)
    ask_rate: int = Field(default=4, ge=1, le=100)
    ask_per_seconds: float = Field(default=30.0, gt=0, le=3600)
    # the privileged Message Content intent (switch it on in the Developer Portal first): then any message in
    # the thread of an answer is a follow-up, not only replies and mentions
    message_content: bool = False
    api_base: str = ""
    gateway_url: str = ""

    @field_validator("api_base", "gateway_url")
    @classmethod
    def _url(cls, v: str) -> str:
        if v and not v.startswith(("http://", "https://", "ws://", "wss://")):
            raise ValueError("must be empty (Discord itself) or a http(s):// or ws(s):// URL")
        return v


class AnnounceSettings(_Section):
    interval_seconds: float = Field(default=60.0, ge=5, le=86400)
    backfill: int = Field(default=0, ge=0, le=50)
    on_edit: Literal["edit", "ignore", "repost"] = "edit"


class FeedbackSettings(_Section):
    enabled: bool = True  # false: no question is recorded, questions.sqlite3 is never created
    keep_days: int = Field(default=180, ge=1, le=3650)
    # the weekly digest: the past week's coverage gaps posted to this (admin) channel; unset, no digest
    digest_channel_id: int | None = Field(default=None, ge=1)
    digest_weekday: int = Field(default=0, ge=0, le=6, description="0 Monday … 6 Sunday, or the day's English name")
    digest_hour: int = Field(default=9, ge=0, le=23, description="the hour of that day (UTC) it is posted")

    @field_validator("digest_weekday", mode="before")
    @classmethod
    def _weekday(cls, v: Any) -> Any:
        if isinstance(v, str) and not v.strip().isdigit():
            days = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
            name = v.strip().lower()
            found = [n for n, d in enumerate(days) if len(name) >= 3 and d.startswith(name)]
            if not found:
                raise ValueError(f"must be 0 (Monday) to 6 (Sunday) or a day's name like \"monday\", not {v!r}")
            return found[0]
        return v


class AnswersSettings(_Section):
    text_fragments: bool = True  # citation links carry #:~:text= so the browser highlights the quoted words


class IndexSettings(_Section):
    max_file_mb: float = Field(default=5.0, gt=0, le=1024)
    chunk_overlap: int = Field(default=48, ge=0, le=128)
    refresh_seconds: float = Field(default=60.0, ge=0, le=86400, description="0: only at start and on /reindex")
    max_feed_mb: float = Field(default=20.0, gt=0, le=1024)

    @field_validator("refresh_seconds")
    @classmethod
    def _refresh(cls, v: float) -> float:
        if 0 < v < 1:
            raise ValueError("must be 0 (off) or at least 1 second")
        return v


class ChannelSettings(_Section):
    """How the bot behaves in one channel (and the threads and forum posts in it): ``[[channels]]``."""

    id: int = Field(ge=1)  # the channel's id (Developer Mode → right-click the channel → Copy Channel ID)
    source: str | None = Field(default=None, min_length=1)  # questions asked here search this source first
    reply: Literal["inline", "thread"] = "inline"  # "thread": a mention's answer starts a thread


def _default_sources() -> list[SourceSettings]:
    return [SourceSettings(name="examples", path=BUNDLED_EXAMPLES, base_url="https://newsletter.example.org/issues/")]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid")

    data_dir: Path = Path("data")
    sources: list[SourceSettings] = Field(default_factory=_default_sources)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    chroma: ChromaSettings = Field(default_factory=ChromaSettings)
    index: IndexSettings = Field(default_factory=IndexSettings)
    discord: DiscordSettings = Field(default_factory=DiscordSettings)
    announce: AnnounceSettings = Field(default_factory=AnnounceSettings)
    feedback: FeedbackSettings = Field(default_factory=FeedbackSettings)
    answers: AnswersSettings = Field(default_factory=AnswersSettings)
    channels: list[ChannelSettings] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> Settings:
        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"source names must be unique; repeated: {', '.join(dupes)}")
        return self

    @model_validator(mode="after")
    def _known_channels(self) -> Settings:
        names = [s.name for s in self.sources]
        seen: dict[int, int] = {}
        for n, c in enumerate(self.channels):
            if c.source is not None and c.source not in names:
                raise ValueError(f"channels[{n}].source: channel {c.id}'s source {c.source!r} is not configured;"
                                 f" the sources are {', '.join(names)}")
            if c.id in seen:
                raise ValueError(f"channels[{n}].id: channel {c.id} is already configured in channels[{seen[c.id]}];"
                                 " give each channel one entry")
            seen[c.id] = n
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    def git_root(self, name: str) -> Path:
        return self.data_dir / "git" / name

    def feed_root(self, name: str) -> Path:
        return self.data_dir / "feeds" / name

    def source_folder(self, s: SourceSettings) -> Path:
        if s.feed or s.export is not None:
            return self.feed_root(s.name) / "entries"
        if s.git:
            checkout = self.git_root(s.name) / "checkout"
            return checkout / s.subdir if s.subdir else checkout
        assert s.path is not None
        return s.path

    def source_specs(self) -> list[SourceSpec]:
        max_bytes = int(self.index.max_file_mb * 1_000_000)
        return [
            SourceSpec(
                name=s.name, path=self.source_folder(s), base_url=s.base_url, exclude=tuple(s.exclude),
                generator=s.generator, permalink=s.permalink, max_file_bytes=max_bytes, section_pages=s.section_pages,
                kind="feed" if s.feed or s.export is not None else "files",
            )
            for s in self.sources
        ]

    @property
    def catalog_path(self) -> Path:
        return self.data_dir / "catalog.sqlite3"

    @property
    def export_dir(self) -> Path:
        return self.embedding.export_dir or self.data_dir / "onnx"

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def announce_state_path(self) -> Path:
        return self.data_dir / "announce.sqlite3"

    @property
    def health_path(self) -> Path:
        return self.data_dir / "health.json"

    @property
    def checks_path(self) -> Path:
        return self.data_dir / "source-checks.json"

    @property
    def control_socket(self) -> Path:
        return self.data_dir / "control.sock"

    @property
    def store_label(self) -> str:
        return self.chroma.url or f"embedded Chroma in {self.chroma_path}"


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


def _describe(err: dict[str, Any], file: Path | None) -> str:
    loc = err.get("loc", ())
    key = ""
    for part in loc:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    env_name = ENV_PREFIX + "__".join(str(p) for p in loc if not isinstance(p, int)).upper()
    if env_name in os.environ:
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
    value = err.get("input")
    if isinstance(value, str):
        value = re.sub(r"//[^/@\s]+@", "//***@", value)  # never echo credentials in a URL
    shown = "" if isinstance(value, (dict, list)) or err.get("type") in ("missing", "extra_forbidden") else f" (got {value!r})"
    return f"{key or 'settings'}: {msg}{shown} — in {where}"


def load_settings(explicit: Path | None = None) -> Settings:
    """Read the settings; raises ConfigError with a message fit for the user."""
    path = config_path(explicit)
    base = Path.cwd()
    if path is not None:
        if path.is_dir():
            raise ConfigError(f"config file {path} is a folder; give the TOML file inside it"
                              f" (for example {path / 'config.toml'})")
        if not path.exists():
            raise ConfigError(f"config file {path} does not exist (config.example.toml shows every key)")
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
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
        model_config = SettingsConfigDict(**{**Settings.model_config, "toml_file": path})

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
