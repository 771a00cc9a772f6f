"""Progress for long CLI jobs: a bar on a terminal, plain lines otherwise (also on a terminal without a size)."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator
from typing import TextIO

from index.indexing.progress import Step


def _columns(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return 0


def describe(step: Step) -> str:
    """e.g. "12% (34 of 75 issues, 1,234 chunks embedded)": the share follows the work, not the file count."""
    return (f"{step.fraction:.0%} ({step.issues_done} of {step.issues_total} issues,"
            f" {step.chunks_embedded:,} chunks embedded)")


class Progress:
    """Callable as ``progress(step)``; close() when the job ends."""

    def __init__(self, what: str, stream: TextIO | None = None) -> None:
        self.what = what
        self.stream = stream or sys.stderr
        self._bar = None
        self._last_line = 0.0
        self._tty = self.stream.isatty() and _columns(self.stream) > 0

    def __call__(self, step: Step) -> None:
        if self._tty:
            if self._bar is None:
                from tqdm import tqdm

                self._bar = tqdm(total=1000, desc=self.what, file=self.stream, leave=False,
                                 bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix} [{elapsed}<{remaining}]")
            self._bar.n = round(step.fraction * 1000)
            self._bar.set_postfix_str(f"{step.issues_done}/{step.issues_total} issues, {step.chunks_embedded:,} chunks"
                                      f" {step.label[-30:]}", refresh=False)
            self._bar.refresh()
            return
        now = time.monotonic()
        if not self._last_line or step.issues_done == step.issues_total or now - self._last_line >= 5:
            self._last_line = now
            print(f"{self.what}: {describe(step)}", file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


@contextlib.contextmanager
def slow_notice(what: str, *, after: float = 1.5, stream: TextIO | None = None) -> Iterator[None]:
    """On a terminal, say what is loading when it takes longer than ``after`` seconds (and how long it took)."""
    out = stream or sys.stderr
    if not out.isatty():
        yield
        return
    started = time.monotonic()
    shown = threading.Event()

    def show() -> None:
        shown.set()
        print(f"{what}…", file=out, flush=True)

    timer = threading.Timer(after, show)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        if shown.is_set():
            print(f"ready in {time.monotonic() - started:.1f} s", file=out, flush=True)
