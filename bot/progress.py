"""Progress for long CLI jobs: a bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Callable as ``progress(done, total, label)``; close() when the job ends."""

    def __init__(self, what: str, stream: TextIO | None = None) -> None:
        self.what = what
        self.stream = stream or sys.stderr
        self._bar = None
        self._last_line = 0.0
        self._tty = self.stream.isatty()

    def __call__(self, done: int, total: int, label: str) -> None:
        if self._tty:
            if self._bar is None:
                from tqdm import tqdm

                self._bar = tqdm(total=total, unit="issue", desc=self.what, file=self.stream, leave=False)
            self._bar.n = done
            self._bar.set_postfix_str(label[-40:], refresh=False)
            self._bar.refresh()
            return
        now = time.monotonic()
        if done in (0, total) or now - self._last_line >= 5:
            self._last_line = now
            print(f"{self.what}: {done}/{total} issues", file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
