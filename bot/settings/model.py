"""The whole settings object: its tables, the checks across them, and what it derives (the data folder's files,
the index's source specs)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from bot.settings.sections import (
    AnnounceSettings,
    AnswersSettings,
    ChannelSettings,
    ChromaSettings,
    DiscordSettings,
    EmbeddingSettings,
    FeedbackSettings,
    IndexSettings,
    SourceSettings,
    _default_sources,
)

if TYPE_CHECKING:  # the issue reader (markdown-it...) is for indexing: `bot gaps` reads settings without it
    from index.reading.issue import SourceSpec

ENV_PREFIX = "BACKISSUE_"


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
        from index.reading.issue import SourceSpec

        max_bytes = int(self.index.max_file_mb * 1_000_000)
        return [
            SourceSpec(
                name=s.name, path=self.source_folder(s), base_url=s.base_url, exclude=tuple(s.exclude),
                generator=s.generator, permalink=s.permalink, max_file_bytes=max_bytes, section_pages=s.section_pages,
                kind="feed" if s.feed or s.export is not None else "files", fetched_from="git" if s.git else "",
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


