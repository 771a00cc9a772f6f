"""One process at a time may write to a data folder (embedded Chroma is not process-safe); readers share it.

Writers (`bot reindex`, `bot run`) hold ``backissue.lock`` exclusively. Readers (`bot ask`) hold it
shared, so several read side by side; but opening embedded Chroma and its first query write files of
their own, so a reader opens the store under ``backissue.open.lock`` (exclusive among readers) and
only then reads alongside the others.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from types import TracebackType

from index.errors import Busy, InvalidRequest


class StoreBusy(Busy):
    """Another process holds the data folder."""


class DataDirUnusable(InvalidRequest):
    """The configured data folder cannot be made or written (a file in its place, no permission)."""

    def __init__(self, data_dir: Path, exc: OSError) -> None:
        if isinstance(exc, (FileExistsError, NotADirectoryError)):
            why = "a file is in the way of the folder"
        else:
            why = (exc.strerror or type(exc).__name__).lower()
        super().__init__(f"data_dir {data_dir} cannot be used as the data folder: {why}; set data_dir to a folder"
                         " this user may write")


def ensure_folder(folder: Path) -> None:
    """Make the data folder ``folder`` when missing; :class:`DataDirUnusable` when that cannot be done."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataDirUnusable(folder, exc) from None


def _open_lock_file(path: Path) -> int:
    """A descriptor of the lock file ``path`` (made, with its folder, when missing); :class:`DataDirUnusable` when
    the data folder does not allow it."""
    ensure_folder(path.parent)
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise DataDirUnusable(path.parent, exc) from None


def _flock(fd: int, mode: int, wait: float, step: float) -> bool:
    """Take ``mode`` on ``fd``, trying every ``step`` seconds for up to ``wait``; whether it was taken."""
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(step)


class DataDirLock:
    """An advisory lock on ``data_dir/backissue.lock``: exclusive for a writer, ``shared`` for a reader;
    released when the process ends."""

    def __init__(self, data_dir: Path, purpose: str, *, shared: bool = False) -> None:
        self.path = data_dir / "backissue.lock"
        self.purpose = purpose
        self.shared = shared
        self._fd: int | None = None

    def acquire(self, wait: float = 0.0) -> None:
        fd = _open_lock_file(self.path)
        try:
            self._take(fd, fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX, wait)
        except StoreBusy:
            os.close(fd)
            raise
        self._fd = fd

    def upgrade(self, wait: float = 0.0) -> None:
        """A reader that must write (an empty index to fill) becomes the writer, once no other reader reads.

        On Linux a failed attempt gives up the shared lock meanwhile; on failure it is taken back."""
        assert self._fd is not None
        try:
            self._take(self._fd, fcntl.LOCK_EX, wait)
        except StoreBusy:
            fcntl.flock(self._fd, fcntl.LOCK_SH)  # readers only share; this waits for no writer for long
            raise

    def downgrade(self) -> None:
        assert self._fd is not None
        fcntl.flock(self._fd, fcntl.LOCK_SH)

    def _take(self, fd: int, mode: int, wait: float) -> None:
        if not _flock(fd, mode, wait, 0.2):
            raise StoreBusy(
                f"the data folder {self.path.parent} is in use by another backissue process"
                f" ({self._holder(fd)}); embedded Chroma cannot be written by one process while"
                " another uses it. Wait for it to finish, or stop it first."
            )
        if mode == fcntl.LOCK_EX:
            os.ftruncate(fd, 0)
            os.write(fd, f"pid {os.getpid()}: {self.purpose}\n".encode())

    def _holder(self, fd: int) -> str:
        try:
            text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
        except OSError:
            text = ""
        probe = os.open(self.path, os.O_RDONLY)
        try:  # a shared lock free to take: only readers hold the folder
            fcntl.flock(probe, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return "readers: bot ask"
        except BlockingIOError:
            return text or "pid unknown"
        finally:
            os.close(probe)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> DataDirLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


class FolderWriter:
    """The writer's right on an embedded store (an ``index.store.record.WriterLock``): the data-folder lock.

    A process that took the folder already (``bot.services.build_services`` does, at start) holds it
    for good; otherwise each run takes it exclusively and gives it back. ``lock`` None: the caller
    sees to it (tests that own their folder)."""

    def __init__(self, lock: DataDirLock | None = None, *, wait: float = 0.0) -> None:
        self._lock = lock
        self.wait = wait
        self._took = False

    def take(self) -> None:
        if self._lock is not None and not self._lock.held:
            self._lock.acquire(self.wait)
            self._took = True

    def renew(self) -> None:
        """A flock does not run out."""

    def release(self) -> None:
        if self._took and self._lock is not None:
            self._lock.release()
            self._took = False


class OpenLock:
    """Held by a reader while it opens the store and warms it up (those write); readers take turns here."""

    def __init__(self, data_dir: Path, wait: float = 600.0) -> None:
        self.path = data_dir / "backissue.open.lock"
        self.wait = wait
        self._fd: int | None = None

    def __enter__(self) -> OpenLock:
        fd = _open_lock_file(self.path)
        if not _flock(fd, fcntl.LOCK_EX, self.wait, 0.1):
            os.close(fd)
            raise StoreBusy(f"another `bot ask` has been opening {self.path.parent} for over {self.wait:.0f} s")
        self._fd = fd
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
