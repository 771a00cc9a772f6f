"""A wall-clock budget for reading one file: the parsers check it as they go."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from index.errors import BadIssue

_deadline: ContextVar[float | None] = ContextVar("parse_deadline", default=None)


class ParseTimeout(BadIssue):
    """Reading one file took longer than its budget."""


@contextmanager
def parse_budget(seconds: float | None) -> Iterator[None]:
    """Within this block, ``check_deadline`` raises ParseTimeout once ``seconds`` have passed.

    ``None`` or 0: no budget. The parsers call ``check_deadline`` as they go, so the budget bounds
    their loops, not one long call into C (which the parsers are written to keep linear).
    """
    token = _deadline.set(time.monotonic() + seconds if seconds else None)
    try:
        yield
    finally:
        _deadline.reset(token)


def check_deadline() -> None:
    deadline = _deadline.get()
    if deadline is not None and time.monotonic() > deadline:
        raise ParseTimeout
