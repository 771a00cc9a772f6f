"""Readers kept only as a keyed hash: HMAC-SHA256 of their Discord id under a secret of this installation.

The data folder's secret is ``feedback.key`` (32 random bytes, hex, mode 0600), made once, by whichever process
needs it first (``O_EXCL``: two processes starting at once end up with the same one). The question record uses
it (in server mode its own secret lives in the shared store instead, so every host hashes alike), and so do the
answers' buttons (``bot.converse.state``), to tell the asker from others.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_NAME = "feedback.key"


def new_key() -> bytes:
    return secrets.token_bytes(32)


def folder_key(data_dir: Path) -> bytes:
    """The data folder's secret, made now if there is none yet."""
    path = data_dir / KEY_NAME
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    key = new_key()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it meanwhile
        return bytes.fromhex(path.read_text().strip())
    with os.fdopen(fd, "w") as f:
        f.write(key.hex())
    return key


def reader_hash(key: bytes, user_id: int | str) -> str:
    return hmac.new(key, str(user_id).encode(), hashlib.sha256).hexdigest()
