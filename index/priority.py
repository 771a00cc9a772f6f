"""Lower the CPU priority of background threads, so that work which can wait (indexing) yields the cores to
work a person is waiting for (the bot's event loop and its answers).

On Linux a thread's niceness is its own and a new thread starts with its creator's: a thread can lower itself
(``lower_this_thread``), and the threads a library starts inside ``lower_new_threads`` — ONNX Runtime's workers,
made when its session is — are lowered after they appear. Raising a priority again needs privileges, so nothing
here does. Elsewhere (macOS, Windows) niceness is per process, and these do nothing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Iterator

log = logging.getLogger(__name__)
_TASKS = "/proc/self/task"


def supported() -> bool:
    return sys.platform.startswith("linux") and os.path.isdir(_TASKS)


def _lower(tid: int, nice: int) -> bool:
    try:
        if os.getpriority(os.PRIO_PROCESS, tid) < nice:
            os.setpriority(os.PRIO_PROCESS, tid, nice)
        return True
    except OSError as exc:  # the thread ended meanwhile, or a sandbox refuses
        log.debug("cannot lower the priority of thread %d: %s", tid, exc)
        return False


def lower_this_thread(nice: int) -> bool:
    """Give the calling thread (and the threads it starts from now on) niceness ``nice``, if it is lower."""
    if nice <= 0 or not supported():
        return False
    return _lower(threading.get_native_id(), nice)


def _threads() -> set[int]:
    try:
        return {int(t) for t in os.listdir(_TASKS)}
    except OSError:
        return set()


@contextlib.contextmanager
def lower_new_threads(nice: int) -> Iterator[None]:
    """Give the threads that start in this process during the block niceness ``nice``.

    Best effort: a thread some other code starts at the same moment is lowered too (it then runs at a lower
    priority only when the cores are contended).
    """
    if nice <= 0 or not supported():
        yield
        return
    before = _threads()
    try:
        yield
    finally:
        for tid in sorted(_threads() - before):
            _lower(tid, nice)
