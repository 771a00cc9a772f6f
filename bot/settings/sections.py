"""The settings' tables, one model each: ``[[sources]]``, ``[embedding]``, ``[chroma]``, ``[discord]``… (see
config.example.toml for every key)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from index.embedding.model import DEFAULT_MODEL

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BUNDLED_EXAMPLES = PROJECT_ROOT / "examples"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$"  # a source's name: it appears in citations, commands and file names
ENV_NAME_PATTERN = r"^([A-Za-z_][A-Za-z0-9_]*)?$"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourceSettings(_Section):
    name: str = Field(min_length=1, max_length=64, pattern=NAME_PATTERN)
    path: Path | None = None
    git: str = ""
    feed: str = ""  # an RSS or Atom feed's URL (index.reading.feeds)
    export: Path | None = None  # a Substack export (folder or zip) or a Ghost JSON export (index.reading.exports)
    branch: str = ""
    subdir: str = ""
    token_env: str = Field(default="", pattern=ENV_NAME_PATTERN)
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


