"""Questions are encoded while the reindex thread cuts text into chunks with the model's tokenizer."""

from __future__ import annotations

import threading
import time

from index.embedding.model import Embedder


def test_questions_encode_while_another_thread_counts_tokens_for_chunking():
    embedder = Embedder()
    embedder.encode(["warm up"])
    counting = embedder.tokenizer()
    stop = threading.Event()
    counted = [0]

    def chunking() -> None:  # what the reindex thread does: token counts and offsets, no padding
        while not stop.is_set():
            counting(["a paragraph of an issue to cut " * 20, "a heading"], add_special_tokens=False,
                     return_offsets_mapping=True)
            counted[0] += 1

    worker = threading.Thread(target=chunking)
    worker.start()
    failures: list[str] = []
    encoded = 0
    try:
        while counted[0] == 0:  # the other thread is cutting text before the first encode
            time.sleep(0.001)
        for _ in range(30):  # a count, not a time: a loaded machine runs them all, only slower
            try:  # a short and a long text: encoding pads one to the other
                vectors = embedder.encode(["what is layer skip", "a much longer question with many more words " * 4])
                assert vectors.shape == (2, 384)
            except Exception as exc:
                failures.append(repr(exc)[:120])
            encoded += 1
    finally:
        stop.set()
        worker.join()
    assert encoded == 30 and counted[0] > 1  # the tokenizer was in use throughout
    assert failures == [], f"{len(failures)} of {encoded} encodes failed, e.g. {failures[0]}"
