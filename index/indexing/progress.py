"""How far a reindex is: issues done, chunks embedded, and the share of the work done.

The work is measured by the size of the issues' text: embedding it is what takes the time, and it
is known before the first issue is read. An issue that fails or is held back counts as done at once;
one that is embedded counts in step with its chunks, so the figure moves while a batch is embedded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    issues_done: int
    issues_total: int
    chunks_embedded: int
    fraction: float  # of the work, 0 to 1
    label: str  # the file last read


ProgressFn = Callable[[Step], None]


class Tracker:
    def __init__(self, report: ProgressFn | None, issues: int, work: int) -> None:
        self._report = report
        self.issues_total = issues
        self.work_total = max(work, 1)
        self.issues_done = 0
        self.chunks = 0
        self.work_done = 0.0
        self.label = ""

    def _send(self) -> None:
        if self._report is not None and self.issues_total:
            # all issues done is all the work, whatever the shares of batches added up to in floating point
            share = 1.0 if self.issues_done >= self.issues_total else min(self.work_done / self.work_total, 1.0)
            self._report(Step(self.issues_done, self.issues_total, self.chunks, share, self.label))

    def start(self) -> None:
        self._send()

    def issue_done(self, label: str, size: int) -> None:
        """An issue that needed no embedding (failed, held back)."""
        self.issues_done += 1
        self.work_done += size
        self.label = label
        self._send()

    def embedded(self, chunks: int, of: int, size: int) -> None:
        """``chunks`` more of a batch of ``of`` chunks, made from issues of ``size`` bytes, are embedded."""
        self.chunks += chunks
        self.work_done += size * chunks / max(of, 1)
        self._send()

    def batch_done(self, issues: int, label: str) -> None:
        self.issues_done += issues
        self.label = label
        self._send()
