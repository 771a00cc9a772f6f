"""Killing a reindex at any moment leaves an index that serves every issue; the next run completes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from index.reading.issue import SourceSpec, content_hash

pytestmark = pytest.mark.slow  # a subprocess, a server or real archives: not in `make test-fast`

CHILD = Path(__file__).with_name("crash_child.py")


def _run(data_dir: Path, issues: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(CHILD), str(data_dir), str(issues), *extra],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def indexed_v1(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("crash")
    issues = root / "issues"
    shutil.copytree(Path(__file__).resolve().parent.parent / "examples", issues)
    data = root / "data-v1"
    done = _run(data, issues)
    assert done.returncode == 0, done.stderr
    return issues, data


@pytest.mark.parametrize("point", ["before-upsert", "after-upsert", "after-commit", "mid-delete"])
def test_kill_during_reindex_then_rerun(indexed_v1, tmp_path, point):
    issues_v1, data_v1 = indexed_v1
    issues = tmp_path / "issues"
    shutil.copytree(issues_v1, issues)
    data = tmp_path / "data"
    shutil.copytree(data_v1, data)
    spec = SourceSpec("examples", issues, base_url="https://newsletter.example.org/issues/")
    old_hash = content_hash((issues / "oct_26.md").read_bytes(), spec)
    oct26 = issues / "oct_26.md"
    oct26.write_text(oct26.read_text().replace("without a second model.", "without a second model, ever."))
    new_hash = content_hash(oct26.read_bytes(), spec)
    (issues / "oct_12.md").unlink()

    crashed = _run(data, issues, "--die-at", point)
    assert crashed.returncode == -9, (crashed.returncode, crashed.stderr[-2000:])

    rerun = _run(data, issues, "--check")
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    report = json.loads(rerun.stdout.strip().splitlines()[-1])
    before, after = report["before"], report["after"]
    # after the kill: every served chunk still has its vector, and the question is still answered
    assert before["missing_vectors"] == 0
    assert before["top_heading"] == "LayerSkip: Early Exit and Self-Speculative Decoding"
    assert before["hashes"]["oct_26.md"] in (old_hash, new_hash)
    # the rerun completes: new state served, no vector left behind
    assert after["hashes"]["oct_26.md"] == new_hash
    assert "oct_12.md" not in after["hashes"]
    assert after["missing_vectors"] == 0 and after["store_count"] == after["served"]
    assert after["top_heading"] == "LayerSkip: Early Exit and Self-Speculative Decoding"
