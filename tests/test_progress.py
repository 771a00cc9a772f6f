"""Reindex progress follows the embedding work, and the CLI shows it on any terminal."""

from __future__ import annotations

import itertools
import os
import select

from bot.progress import Progress
from index.indexing.progress import Step


def _long_issue(folder, paragraphs=700):
    body = "\n\n".join(f"Paragraph {i} on the build cache, the linker and incremental compilation, "
                       f"with detail number {i} that no other paragraph repeats." for i in range(paragraphs))
    (folder / "long.md").write_text(f"---\ntitle: The long one\ndate: 2024-05-01\n---\n## Everything\n{body}\n")


def test_progress_moves_while_one_big_issue_is_embedded_and_ends_complete(index_env, samples, spec_for):
    _long_issue(samples)
    steps: list[Step] = []
    summary = index_env.indexer.reindex([spec_for(samples)], progress=steps.append)
    fractions = [s.fraction for s in steps]
    assert fractions == sorted(fractions) and fractions[0] == 0 and fractions[-1] == 1.0
    assert steps[-1].issues_done == steps[-1].issues_total == 6  # five samples and the long one
    assert steps[-1].chunks_embedded == summary.chunks_embedded
    # the whole run is one batch: still, the share of the work moves between issue counts
    moving = [b for a, b in itertools.pairwise(steps)
              if b.issues_done == a.issues_done and b.chunks_embedded > a.chunks_embedded and b.fraction > a.fraction]
    assert len(moving) >= 2, [(s.issues_done, round(s.fraction, 2), s.chunks_embedded) for s in steps]


def test_a_terminal_without_a_size_gets_plain_lines_not_nothing():
    master, slave = os.openpty()  # a pseudo-terminal whose size was never set: 0 columns
    try:
        stream = os.fdopen(slave, "w", buffering=1, closefd=False)
        progress = Progress("indexing", stream=stream)
        progress(Step(0, 4, 0, 0.0, ""))
        progress(Step(4, 4, 120, 1.0, "b.md"))
        progress.close()
        stream.flush()
        out = ""
        while out.count("\n") < 2 and select.select([master], [], [], 5)[0]:  # a pty hands lines over one by one
            out += os.read(master, 4096).decode()
    finally:
        os.close(master)
        os.close(slave)
    assert "indexing: 0% (0 of 4 issues, 0 chunks embedded)" in out
    assert "indexing: 100% (4 of 4 issues, 120 chunks embedded)" in out
