"""Reading issue files: front matter in every form real archives use, damaged or not."""

from __future__ import annotations

import datetime as dt

import pytest

from index.reading.frontmatter import normalise_newlines, split_front_matter
from index.reading.issue import IssueReadError, SourceSpec, decode, parse_issue

NOW = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
SPEC = SourceSpec(name="s", path=__import__("pathlib").Path("."), base_url="https://news.example.org/")


def test_yaml_toml_json_pelican_and_none():
    assert split_front_matter("---\ntitle: A\n---\nbody").meta == {"title": "A"}
    toml = split_front_matter('+++\ntitle = "B"\ndate = 2024-05-01\n[extra]\nmonth = "May"\n+++\nbody')
    assert toml.format == "toml" and toml.meta["title"] == "B" and toml.meta["extra"]["month"] == "May"
    js = split_front_matter('{"title": "C", "draft": false}\n\nbody text')
    assert js.format == "json" and js.meta["title"] == "C" and js.body.strip() == "body text"
    pel = split_front_matter("Title: D\nDate: 2024-05-01 10:00\nCategory: News\n\nHello")
    assert pel.format == "pelican" and pel.meta["title"] == "D" and pel.body == "Hello"
    none = split_front_matter("# Just a heading\n\ntext")
    assert none.format == "none" and none.meta == {} and none.body.startswith("# Just")


def test_closing_delimiter_glued_to_heading_is_split():
    s = split_front_matter("---\ntitle: Glued\n---### Top News\n\nStory.")
    assert s.meta["title"] == "Glued"
    assert s.body.startswith("### Top News")
    assert any("glued" in w for w in s.warnings)


def test_code_fence_wrapping_the_whole_file():
    s = split_front_matter("```markdown\n---\ntitle: Fenced\n---\n\n## News\nText.\n```\n")
    assert s.meta["title"] == "Fenced"
    assert "```" not in s.body and "## News" in s.body


def test_invalid_yaml_is_recovered_line_by_line_with_a_warning():
    raw = '---\ntitle: "Issue 9"\nexcerpt: "He said "hello" twice"\npermalink: /digests/nine\n---\n## A\nText.'
    s = split_front_matter(raw)
    assert s.meta["title"] == "Issue 9" and s.meta["permalink"] == "/digests/nine"
    assert any("not valid YAML" in w and "line" in w for w in s.warnings)


def test_pelican_header_split_by_a_blank_line_keeps_reading():
    s = split_front_matter("Title: TWiR 604\nDate: 2025-06-18\n\nCategory: This Week\n\nHello and welcome.")
    assert s.meta["category"] == "This Week"
    assert s.body.startswith("Hello and welcome")


def test_crlf_and_bom_and_non_utf8():
    text, warnings = decode("\ufeff---\r\ntitle: X\r\n---\r\nbody".encode(), "x.md")
    assert warnings == [] and split_front_matter(normalise_newlines(text)).meta == {"title": "X"}
    text, warnings = decode("caf\xe9".encode("cp1252"), "x.md")
    assert text == "café" and "not UTF-8" in warnings[0]
    with pytest.raises(IssueReadError, match="binary"):
        decode(b"\x00\x01\x02PNG", "x.md")


def test_title_falls_back_to_first_h1_then_file_name():
    a = parse_issue(b"# The H1 Title\n\nText here.", "2024-01-05-some_issue.md", SPEC, NOW)
    assert a.title == "The H1 Title"
    b = parse_issue(b"Just text.", "2024-01-05-some_issue.md", SPEC, NOW)
    assert b.title == "2024 01 05 some issue"
    assert b.date == dt.datetime(2024, 1, 5, tzinfo=dt.UTC)


def test_too_large_file_is_refused_by_name_of_limit():
    small = SourceSpec(name="s", path=SPEC.path, max_file_bytes=100)
    with pytest.raises(IssueReadError, match="too large"):
        parse_issue(b"x" * 101, "big.md", small, NOW)


@pytest.mark.parametrize(
    ("front", "reason"),
    [
        ("draft: true", "draft"),
        ("published: false", "published: false"),
        ("date: 2030-01-01", "scheduled"),
        ("publishDate: 2030-01-01T10:00:00+02:00", "scheduled"),
        ("expiryDate: 2024-06-01", "expired"),
    ],
)
def test_not_published_now(front, reason):
    issue = parse_issue(f"---\ntitle: T\n{front}\n---\n## A\nText.".encode(), "t.md", SPEC, NOW)
    assert not issue.publication.published
    assert reason in issue.publication.reason
    assert issue.sections == []


def test_scheduled_issue_knows_when_it_becomes_published():
    issue = parse_issue(b"---\ndate: 2030-01-01T10:00:00+02:00\n---\nText.", "t.md", SPEC, NOW)
    assert issue.publication.publish_at == dt.datetime(2030, 1, 1, 8, tzinfo=dt.UTC)
    later = parse_issue(b"---\ndate: 2030-01-01T10:00:00+02:00\n---\nText.", "t.md", SPEC,
                        dt.datetime(2030, 1, 2, tzinfo=dt.UTC))
    assert later.publication.published


def test_date_from_file_name_and_impossible_dates():
    ok = parse_issue(b"Text.", "2021-5-2-114.md", SPEC, NOW)
    assert ok.date == dt.datetime(2021, 5, 2, tzinfo=dt.UTC)
    bad = parse_issue(b"Text.", "2021-2-29-105.md", SPEC, NOW)
    assert bad.date is None and bad.publication.published
