"""Front matter and file names that once stopped or fooled the reader: each file now fails or waits alone.

A YAML alias bomb (400 bytes that expand to 490 million values) took 100 s and 10 GB; a file name that is
not UTF-8 stopped the whole reindex; ``draft: maybe`` published a draft; an unclosed quote stayed in the title.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import time
from pathlib import Path

import pytest

from index.reading.issue import IssueReadError, SourceSpec, parse_issue

NOW = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
SPEC = SourceSpec(name="s", path=Path("."), base_url="https://news.example.org/")
BODY = "\n## Wombats\nWombats dig square burrows.\n"


def _bomb(levels: str = "abcdefghi") -> str:
    """Nine lists of nine, each made of the one before: 9**9 strings once aliases are expanded."""
    lines = [f"{levels[0]}: &{levels[0]} [" + ",".join(['"x"'] * 9) + "]"]
    for prev, cur in itertools.pairwise(levels):
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines)


def test_a_yaml_alias_bomb_fails_fast_with_its_reason():
    raw = f"---\n{_bomb()}\ntitle: Bomb\ndate: 2024-09-07\n---\n{BODY}".encode()
    assert len(raw) < 500
    started = time.monotonic()
    with pytest.raises(IssueReadError, match=r"front matter expands too far \(YAML aliases\)"):
        parse_issue(raw, "bomb.md", SPEC, NOW)
    assert time.monotonic() - started < 2.0  # before the fix: 100 s and 10 GB


def test_an_alias_bomb_on_one_line_of_broken_yaml_fails_too():
    flow = "{" + ", ".join(_bomb("abcdef").split("\n")) + "}"  # the bomb as one flow mapping
    raw = f"---\ntitle: [never closed\nk: {flow}\n---\n{BODY}".encode()  # not YAML: recovered line by line
    with pytest.raises(IssueReadError, match="expands too far"):
        parse_issue(raw, "bomb.md", SPEC, NOW)


def test_front_matter_with_a_few_aliases_is_read_as_before():
    front = "title: Aliased\ndate: 2024-09-07\nauthors: &people [Ann, Bo]\neditors: *people\ntags: &t [a, b]\nkeywords: *t"
    issue = parse_issue(f"---\n{front}\n---\n{BODY}".encode(), "aliased.md", SPEC, NOW)
    assert issue.title == "Aliased" and issue.publication.published
    assert [s.heading for s in issue.sections] == ["Wombats"]


def test_front_matter_that_contains_itself_is_named_as_such():
    with pytest.raises(IssueReadError, match="refers to itself"):
        parse_issue(f"---\nloop: &a [*a]\ntitle: Loop\n---\n{BODY}".encode(), "loop.md", SPEC, NOW)


def test_a_name_that_is_not_utf8_gives_its_plain_reason():
    rel = os.fsdecode(b"2024/badname_\xe9.md")  # as os.walk gives it: a lone surrogate
    with pytest.raises(IssueReadError, match=r"^its file name is not valid UTF-8; rename it$"):
        parse_issue(f"---\ntitle: X\nurl: https://example.com/p/bad/\n---\n{BODY}".encode(), rel, SPEC, NOW)
    with pytest.raises(IssueReadError, match=r"the name of its folder 2024\\xe9 is not valid UTF-8"):
        parse_issue(BODY.encode(), os.fsdecode(b"2024\xe9/ok.md"), SPEC, NOW)


def test_a_name_that_is_not_utf8_fails_alone_in_a_reindex(index_env, tmp_path):
    folder = tmp_path / "issues"
    folder.mkdir()
    (folder / "good.md").write_text(f"---\ntitle: Good\ndate: 2024-09-01\n---\n{BODY}")
    with open(os.fsencode(folder) + b"/badname_\xe9.md", "w") as f:  # its chunk ids and URL once stopped the run
        f.write(f"---\ntitle: X\ndate: 2024-09-03\nurl: https://example.com/p/bad/\n---\n{BODY}")
    s = index_env.indexer.reindex([SourceSpec(name="s", path=folder)])
    assert {r.path: r.reason for r in s.failed} == {"badname_\\xe9.md": "its file name is not valid UTF-8; rename it"}
    assert s.new == 1 and dict(index_env.catalog.execute("SELECT title, status FROM issues")) == {"Good": "indexed"}


@pytest.mark.parametrize(
    ("front", "reason"),
    [
        ("draft: maybe", "draft 'maybe' is neither true nor false"),
        ("draft: ture", "draft 'ture' is neither true nor false"),
        ("Draft: [true]", "Draft [True] is neither true nor false"),
        ("published: flase", "published 'flase' is neither true nor false"),
    ],
)
def test_an_unreadable_draft_or_published_value_holds_the_issue_back(front, reason):
    issue = parse_issue(f"---\ntitle: T\ndate: 2024-09-07\n{front}\n---\n{BODY}".encode(), "t.md", SPEC, NOW)
    assert not issue.publication.published and issue.sections == []
    assert issue.publication.reason == f"{reason} (write true or false); held back until it is fixed"


def test_an_unreadable_draft_in_toml_holds_the_issue_back_and_plain_values_still_work():
    toml = parse_issue(f'+++\ntitle = "T"\ndraft = "maybe"\n+++\n{BODY}'.encode(), "t.md", SPEC, NOW)
    assert not toml.publication.published and "draft 'maybe' is neither true nor false" in toml.publication.reason
    for front, published in [("draft: no", True), ("draft: 0", True), ("draft:", True), ("draft: yes", False),
                             ("published: yes", True), ("published: off", False)]:
        issue = parse_issue(f"---\ntitle: T\n{front}\n---\n{BODY}".encode(), "t.md", SPEC, NOW)
        assert issue.publication.published is published, front


@pytest.mark.parametrize(
    ("raw", "title"),
    [
        ('---\ntitle: "Broken\nx: [\n---\n', "Broken"),
        ("---\ntitle: 'Broken\nx: [\n---\n", "Broken"),
        ('+++\ntitle = "unterminated\n+++\n', "unterminated"),
        ('---\ntitle: "Closed"\nx: [\n---\n', "Closed"),
    ],
)
def test_a_quote_never_closed_in_broken_front_matter_is_not_kept_in_the_title(raw, title):
    issue = parse_issue((raw + BODY).encode(), "t.md", SPEC, NOW)
    assert issue.title == title
    assert any("recovered" in w for w in issue.warnings)


def test_hostile_files_fail_or_wait_alone_and_the_rest_is_indexed(index_env, tmp_path):
    folder = tmp_path / "issues"
    folder.mkdir()
    (folder / "good.md").write_text(f"---\ntitle: Good\ndate: 2024-09-01\n---\n{BODY}")
    (folder / "bomb.md").write_text(f"---\n{_bomb()}\ntitle: Bomb\ndate: 2024-09-07\n---\n{BODY}")
    (folder / "maybe.md").write_text(f"---\ntitle: Maybe\ndate: 2024-09-02\ndraft: maybe\n---\n{BODY}")
    bad = os.fsencode(folder) + b"/badname_\xe9.md"
    with open(bad, "w") as f:  # a url: its chunk ids and its URL once failed to encode and stopped the run
        f.write(f"---\ntitle: X\ndate: 2024-09-03\nurl: https://example.com/p/bad/\n---\n{BODY}")
    spec = SourceSpec(name="s", path=folder)
    for _ in range(2):  # the second run reports the same files again
        started = time.monotonic()
        s = index_env.indexer.reindex([spec])
        failed = {r.path: r.reason for r in s.failed}
        assert set(failed) == {"bomb.md", "badname_\\xe9.md"}
        assert failed["badname_\\xe9.md"] == "its file name is not valid UTF-8; rename it"
        assert failed["bomb.md"].startswith("front matter expands too far (YAML aliases)")
        assert {r.path: r.reason for r in s.held_back}["maybe.md"].startswith("draft 'maybe' is neither true nor false")
        assert time.monotonic() - started < 30
    statuses = dict(index_env.catalog.execute("SELECT title, status FROM issues"))
    assert statuses == {"Good": "indexed", "Maybe": "held"}  # only indexed issues are announced
