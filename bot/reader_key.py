"""Readers kept only as a keyed hash: HMAC-SHA256 of their Discord id under a secret of this installation.

The data folder's secret is ``feedback.key`` (32 random bytes, hex, mode 0600), made once, by whichever process
needs it first. It appears whole or not at all: the maker writes it to a file of its own, syncs it, and links it
into place (``os.link`` fails when the name exists, so of two processes starting at once the first to link wins
and the other reads that one back). A reader still checks what it read: a file that is empty or short (one left
by a version that wrote in place, caught half written) is read again for a while, then refused with a message
rather than taken as a key. The question record uses it (in server mode its own secret lives in the shared store
instead, so every host hashes alike), and so do the answers' buttons (``bot.converse.state``), to tell the asker
from others.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import time
from pathlib import Path

from index.errors import Unavailable

log = logging.getLogger(__name__)
KEY_NAME = "feedback.key"
KEY_BYTES = 32
WAIT = 5.0  # seconds a short key file is read again before it is refused (another process still writing it)


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def _parse(text: str) -> bytes | None:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        return None
    return key if len(key) == KEY_BYTES else None


def _read(path: Path, wait: float) -> bytes | None:
    """The key in ``path``; None when there is no file. A file without a whole key is read again until
    ``wait`` has passed (its maker may still be writing it), then refused."""
    deadline = time.monotonic() + wait
    delay = 0.01
    while True:
        try:
            text = path.read_text()
        except FileNotFoundError:
            return None
        key = _parse(text)
        if key is not None:
            return key
        if time.monotonic() >= deadline:
            raise Unavailable(f"{path} holds no key ({len(text.strip())} characters, not {2 * KEY_BYTES} hex"
                              " digits): if no reader was ever recorded under it, delete it and start again")
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


def _write_new(path: Path, key: bytes) -> bool:
    """Put ``key`` at ``path`` whole, unless a file is there already; whether this one stayed."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(key.hex())
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:  # another process made it meanwhile
            return False
        except OSError:  # a file system without hard links: create exclusively and write in place
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return False
            with os.fdopen(fd, "w") as f:
                f.write(key.hex())
                f.flush()
                os.fsync(f.fileno())
        _sync_folder(path.parent)
        return True
    finally:
        tmp.unlink(missing_ok=True)


def _sync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def folder_key(data_dir: Path, *, wait: float = WAIT) -> bytes:
    """The data folder's secret, made now if there is none yet."""
    path = data_dir / KEY_NAME
    key = _read(path, wait)
    if key is not None:
        return key
    data_dir.mkdir(parents=True, exist_ok=True)
    key = new_key()
    if _write_new(path, key):
        log.info("made the readers' secret %s", path)
        return key
    kept = _read(path, wait)
    if kept is None:  # made and deleted meanwhile: not something to guess about
        raise Unavailable(f"{path} appeared and went while it was being made; start again")
    return kept


def reader_hash(key: bytes, user_id: int | str) -> str:
    return hmac.new(key, str(user_id).encode(), hashlib.sha256).hexdigest()
