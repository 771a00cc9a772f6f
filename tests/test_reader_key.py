"""The data folder's readers' secret (bot/reader_key.py): every process of one data folder hashes readers alike."""

from __future__ import annotations

import multiprocessing
import stat
import threading
import time

import pytest

from bot.reader_key import KEY_NAME, folder_key, new_key, reader_hash
from index.errors import Unavailable


def test_a_key_file_caught_half_written_is_read_again_not_taken_as_a_key(tmp_path):
    """A second process that finds feedback.key still empty (its maker between creating and writing it)
    waits for the whole key instead of hashing readers under an empty one."""
    path = tmp_path / KEY_NAME
    path.write_text("")
    key = new_key()

    def finish() -> None:
        time.sleep(0.3)
        path.write_text(key.hex()[:20])  # still short
        time.sleep(0.3)
        path.write_text(key.hex())

    writer = threading.Thread(target=finish)
    writer.start()
    try:
        got = folder_key(tmp_path)
    finally:
        writer.join()
    assert reader_hash(got, 42) == reader_hash(key, 42)


def test_a_key_file_that_stays_empty_is_refused_with_its_name(tmp_path):
    (tmp_path / KEY_NAME).write_text("")
    with pytest.raises(Unavailable, match=KEY_NAME):
        folder_key(tmp_path, wait=0.2)


def _key_of(folder: str) -> str:
    from pathlib import Path

    return folder_key(Path(folder)).hex()


def test_processes_starting_at_once_make_one_key_and_leave_only_it(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        keys = set(pool.map(_key_of, [str(tmp_path)] * 8))
    assert len(keys) == 1
    path = tmp_path / KEY_NAME
    assert path.read_text() == keys.pop()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [KEY_NAME]  # no temporary file left behind
