"""What a reindex did: counts, and every file held back, recovered with warnings, or failed, with its reason."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class FileReport:
    source: str
    path: str
    reason: str


@dataclass
class ReindexSummary:
    new: int = 0
    changed: int = 0
    reembedded: int = 0  # unchanged issues re-read and re-embedded by a full run
    unchanged: int = 0
    removed: int = 0
    held_back: list[FileReport] = field(default_factory=list)
    failed: list[FileReport] = field(default_factory=list)
    warnings: list[FileReport] = field(default_factory=list)
    missing: list[FileReport] = field(default_factory=list)  # a source folder that is not there: a configuration error
    sections: int = 0  # sections served for the sources of this run, after it
    chunks_embedded: int = 0
    seconds: float = 0.0
    model_loaded: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReindexSummary:
        lists = {k: [FileReport(**r) for r in data.get(k, [])] for k in ("held_back", "failed", "warnings", "missing")}
        plain = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k not in lists}
        return cls(**plain, **lists)
