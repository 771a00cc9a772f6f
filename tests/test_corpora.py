"""Robustness on the four real archives in ../shared/corpora (skipped when they are absent)."""

from __future__ import annotations

import datetime as dt

import pytest

from index.reading.files import find_issue_files
from index.reading.issue import IssueReadError, SourceSpec, read_issue

from .conftest import CORPORA, needs_shared

pytestmark = pytest.mark.slow  # a subprocess, a server or real archives: not in `make test-fast`

ARCHIVES = ["last-week-in-ai", "nlp-newsletter", "rust-osdev-this-month", "this-week-in-rust"]


@needs_shared
@pytest.mark.parametrize("archive", ARCHIVES)
def test_every_issue_file_is_found_and_read(archive):
    folder = CORPORA / archive
    spec = SourceSpec(archive, folder, base_url=f"https://{archive}.example.org/", exclude=("SOURCE.md", "README.md"))
    files = find_issue_files(folder, spec.exclude)
    on_disk = [p for p in folder.rglob("*") if p.is_file() and p.name not in ("SOURCE.md", "README.md")]
    assert len(files) == len(on_disk)  # .Md, .md.md, "name.md .md" and .markdown are all found
    now = dt.datetime.now(dt.timezone.utc)
    read, failed = 0, []
    for rel in files:
        try:
            issue = read_issue(folder, rel, spec, now)
        except IssueReadError as exc:
            failed.append((rel, str(exc)))
            continue
        read += 1
        assert issue.title and issue.url.startswith("https://")
        if issue.publication.published:
            assert issue.sections, rel
            for s in issue.sections:
                assert "<!--" not in s.markdown and "<script" not in s.markdown.lower() and "<iframe" not in s.markdown
    assert read >= 0.99 * len(files), failed


@needs_shared
def test_damaged_front_matter_is_recovered_with_warnings():
    folder = CORPORA / "last-week-in-ai"
    spec = SourceSpec("lwia", folder)
    now = dt.datetime.now(dt.timezone.utc)
    fenced = read_issue(folder, "2025-07-28-317.md", spec, now)
    assert fenced.title == "Last Week in AI #317"
    assert fenced.sections[0].path[0] == "Top News" and not any("```" in s.markdown for s in fenced.sections)
    glued = read_issue(folder, "2025-08-18-319.md", spec, now)
    assert glued.title == "Last Week in AI #319" and any("glued" in w for w in glued.warnings)
    broken = read_issue(folder, "2024-02-19-258.md", spec, now)
    assert broken.title == "Last Week in AI #258" and any("not valid YAML" in w for w in broken.warnings)
    assert broken.url == "/digests/the-two-hundred-and-fifty-eighth"  # no base_url given: left relative
