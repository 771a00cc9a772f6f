"""Cutting issues into sections: headings, anchors, hidden HTML, item titles."""

from __future__ import annotations

import datetime as dt

from index.reading.anchors import AnchorMaker, anchor_hugo, anchor_jekyll, anchor_zola
from index.reading.htmlclean import clean_markdown
from index.reading.issue import SourceSpec, parse_issue
from index.reading.sections import split_sections

from .conftest import EXAMPLES, SHARED, needs_shared

NOW = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def _sections(md: str, generator: str = "hugo"):
    return split_sections(clean_markdown(md), generator)


def test_hugo_anchors_and_repeats():
    assert anchor_hugo("Layer Skip: Meta's Breakthrough in LLM Acceleration") == (
        "layer-skip-metas-breakthrough-in-llm-acceleration")
    maker = AnchorMaker("hugo")
    assert [maker.make("News"), maker.make("News"), maker.make("News")] == ["news", "news-1", "news-2"]


def test_other_generators_anchor_styles():
    assert anchor_jekyll("OpenAI's GPT-5: Here!") == "openais-gpt-5-here"
    assert anchor_zola("`uefi-rs` — Über") == "uefi-rs-uber"


def test_code_block_hash_is_not_a_heading_and_setext_counts():
    md = "Intro text.\n\nSetext Title\n------------\n\nBody.\n\n```\n# not a heading\n```\n\n## Next\nMore."
    secs = _sections(md)
    assert [s.heading for s in secs] == ["", "Setext Title", "Next"]
    assert "# not a heading" in secs[1].text


def test_heading_path_and_explicit_id():
    md = "# Big\n\nA.\n\n## Mid {#custom-id}\n\nB.\n\n### Low\n\nC.\n\n## Other\n\nD."
    secs = _sections(md)
    by = {s.heading: s for s in secs}
    assert by["Low"].path == ("Big", "Mid", "Low")
    assert by["Mid"].anchor == "custom-id"
    assert by["Other"].path == ("Big", "Other")


def test_bold_paragraph_is_an_item_title_but_a_byline_is_not():
    md = (
        "# Research\n\n***Paper One***\n\nAbout paper one.\n\n***Paper Two***\n\nAbout paper two.\n\n"
        "#### [A Story](https://example.org)\n**Jane Doe, Example Times**\n\nThe story text.\n"
    )
    secs = _sections(md)
    heads = [s.heading for s in secs]
    assert heads == ["Paper One", "Paper Two", "A Story"]
    assert secs[0].path == ("Research", "Paper One")
    assert secs[0].anchor == "research"  # items link to the nearest real heading
    assert "Jane Doe" in secs[2].text


def test_hidden_html_never_reaches_sections():
    md = (
        "## Story\nVisible text <!-- secret comment --> continues.\n\n<script>var secret = 1;</script>\n"
        "<iframe src='x'>secret frame</iframe>\n<span class='m'>Maintained by [@me](https://x)</span>\n\n"
        "`<!-- code stays -->`\n\n<!--\n## Draft heading\nsecret draft\n-->\n"
    )
    secs = _sections(md)
    text = " ".join(s.text + s.markdown for s in secs)
    assert "secret" not in text
    assert "Maintained by" in text and "<span" not in text
    assert "<!-- code stays -->" in text
    assert [s.heading for s in secs] == ["Story"]


def test_sample_issue_sections_anchors_and_url():
    spec = SourceSpec("examples", EXAMPLES, base_url="https://newsletter.example.org/issues/")
    issue = parse_issue((EXAMPLES / "oct_26.md").read_bytes(), "oct_26.md", spec, NOW)
    assert issue.url == "https://newsletter.example.org/issues/oct_26"
    anchors = {s.heading: s.anchor for s in issue.sections}
    assert anchors["LayerSkip: Early Exit and Self-Speculative Decoding"] == (
        "layerskip-early-exit-and-self-speculative-decoding")
    grounding = next(s for s in issue.sections if s.heading == "Google's Grounding with Search")
    assert grounding.path[-2:] == ("Search Integration Face-off: Google vs OpenAI", "Google's Grounding with Search")
    everything = " ".join(s.markdown for s in issue.sections)
    assert "embargoed" not in everything and "benchmark table" not in everything
    derived = parse_issue((EXAMPLES / "oct_12.md").read_bytes(), "oct_12.md", spec, NOW)
    assert derived.url == "https://newsletter.example.org/issues/oct_12/"


@needs_shared
def test_seed_issue_matches_what_hugo_publishes():
    seed = SHARED / "seed-example" / "nov_2.md"
    spec = SourceSpec("seed", seed.parent, base_url="https://prakyath.com/weekly_newsletter/")
    issue = parse_issue(seed.read_bytes(), "nov_2.md", spec, NOW)
    assert issue.url == "https://prakyath.com/weekly_newsletter/nov_2"
    anchors = [s.anchor for s in issue.sections]
    assert "layer-skip-metas-breakthrough-in-llm-acceleration" in anchors
    assert "googles-grounding-with-search" in anchors
    # the HTML-comment draft block at the end is not on the site
    assert not any("sweet spot" in s.text for s in issue.sections)


@needs_shared
def test_every_eval_gold_section_is_cut_as_a_section():
    import json

    for line in (SHARED / "eval" / "dev.jsonl").read_text().splitlines():
        q = json.loads(line)
        if q["kind"] == "no-answer":
            continue
        folder = SHARED / "corpora" / q["corpus"]
        now = dt.datetime.now(dt.UTC)
        issue = parse_issue((folder / q["file"]).read_bytes(), q["file"], SourceSpec(q["corpus"], folder), now)
        assert q["heading"] in [s.heading for s in issue.sections], (q["id"], q["heading"])


