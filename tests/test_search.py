"""Retrieval over the sample issues: hybrid ranking, filters, no-match, and staying in step with the index."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from index.search.fragments import matches
from index.search.lexical import LexicalIndex
from index.search.retriever import Filters

from .conftest import write_config
from .test_cli import bot

LAYERSKIP = "LayerSkip: Early Exit and Self-Speculative Decoding"


@pytest.fixture
def indexed(index_env, samples, spec_for, tmp_path):
    """The samples as source "examples" and a second newsletter as source "other"."""
    other = tmp_path / "other"
    other.mkdir()
    (other / "2023-03-04-spring.md").write_text(
        "---\ntitle: Spring Digest\n---\n\n## Speculative decoding in 2023\n"
        "An older note: a small draft model proposes tokens and a large model verifies them in one pass.\n"
    )
    index_env.indexer.reindex([spec_for(samples), spec_for(other, name="other", base_url="https://other.example.org/")])
    return index_env


def test_layer_skip_first_with_its_deep_link(indexed):
    answer = indexed.retriever().search("what is layer skip")
    assert not answer.no_match
    top = answer.results[0]
    assert top.heading == LAYERSKIP
    assert top.url == "https://newsletter.example.org/issues/oct_26#layerskip-early-exit-and-self-speculative-decoding"
    assert top.title == "Oct 26 Weekly Newsletter" and top.date == "2024-10-26" and top.path == "oct_26.md"
    assert "LayerSkip is a method from Meta" in top.snippet
    assert len(answer.results) == 3


def test_paraphrase_and_keyword_questions(indexed):
    r = indexed.retriever()
    assert r.search("How can a big model fit in the memory of an ordinary notebook computer?").results[0].heading == (
        "Quantization: Big Models on Small Machines")
    assert r.search("FineWeb").results[0].heading == "FineWeb: An Open Pretraining Dataset"
    item = r.search("Should I let a strong model grade answers?").results[0]
    assert item.heading == "Evaluating with a model as the judge"
    assert item.url.endswith("#quick-links")  # bold item titles link to their heading


def test_filters_by_source_issue_and_dates(indexed):
    r = indexed.retriever()
    q = "draft model proposes tokens verified by the large model"
    both = {x.source for x in r.search(q, k=5).results}
    assert both == {"examples", "other"}
    only_other = r.search(q, k=5, filters=Filters(source="other")).results
    assert {x.source for x in only_other} == {"other"} and only_other[0].heading == "Speculative decoding in 2023"
    in_2024 = r.search(q, k=10, filters=Filters(since=dt.date(2024, 1, 1), until=dt.date(2024, 12, 31))).results
    assert in_2024 and all(x.date and "2024-01-01" <= x.date <= "2024-12-31" for x in in_2024)
    assert in_2024[0].heading == "Speculative Decoding, Explained"
    by_title = r.search(q, k=10, filters=Filters(issue="Oct 12 Weekly Newsletter")).results
    assert by_title and {x.path for x in by_title} == {"oct_12.md"}
    by_path = r.search(q, k=10, filters=Filters(issue="sep_28.md")).results
    assert {x.path for x in by_path} == {"sep_28.md"}
    nothing = r.search(q, filters=Filters(since=dt.date(2030, 1, 1)))
    assert nothing.results == [] and nothing.no_match


def test_a_title_cut_short_matches_only_when_asked_to_as_a_prefix(index_env, spec_for, tmp_path):
    """An autocomplete choice holds at most 100 characters: /ask passes a cut title as a prefix, nothing else does."""
    folder = tmp_path / "long"
    folder.mkdir()
    title = "The Very Long Issue " + "about retrieval, ranking and evaluation " * 4
    (folder / "long.md").write_text(f"---\ntitle: {title}\n---\n\n## Ranking\nRanking sections by meaning.\n")
    (folder / "short.md").write_text("---\ntitle: Short\n---\n\n## Ranking notes\nRanking sections again.\n")
    index_env.indexer.reindex([spec_for(folder)])
    r = index_env.retriever()
    cut = title[:100]
    assert {x.path for x in r.search("ranking", k=5, filters=Filters(issue=cut, issue_title_prefix=True)).results} == {
        "long.md"}
    assert r.search("ranking", k=5, filters=Filters(issue=cut)).results == []  # a typed value must match whole
    assert r.search("ranking", k=5, filters=Filters(issue="The Very", issue_title_prefix=True)).results


def test_k_is_bounded(indexed):
    r = indexed.retriever()
    assert len(r.search("models", k=50).results) == 10
    assert len(r.search("models", k=0).results) == 1


def test_no_match_for_what_the_archive_never_covered(indexed):
    answer = indexed.retriever().search("What did the newsletter say about the Zorblax-9 quantum blockchain from Veltrix?")
    assert answer.no_match and answer.reason
    assert answer.results, "the closest sections are still offered, labelled as weak"


def test_a_question_of_emoji_symbols_or_invisible_characters_has_nothing_to_search_for(indexed):
    r = indexed.retriever()
    for question in ("🚀🚀🔥", "?!… ¯\\_(•)_/¯", "🙂 \u200f"):
        answer = r.search(question)
        assert answer.no_match and not answer.results, question
        assert "no words besides mentions, emoji and links" in answer.reason, question
    answer = r.search("\u200b\u200b \u2060")  # zero-width spaces and a word joiner: nothing was typed
    assert answer.no_match and not answer.results and answer.reason == "the question is empty"


def test_undecodable_bytes_and_invisible_characters_in_a_question_do_not_break_it(indexed):
    r = indexed.retriever()
    # a terminal's byte that is not UTF-8 reaches Python as a lone surrogate; the model's tokenizer refuses those
    answer = r.search("what is layer skip\udce9")
    assert answer.results[0].heading == LAYERSKIP and answer.query == "what is layer skip\ufffd"
    # a zero-width space inside a word, or a direction mark, is not part of the word
    answer = r.search("what is layer\u200b skip? Layer\u00adSkip\u200f")
    assert answer.results[0].heading == LAYERSKIP and "\u200b" not in answer.query


def test_keyword_index_follows_the_index_and_survives_restarts(indexed, samples, spec_for):
    r = indexed.retriever()
    assert r.search("FineWeb").results[0].heading.startswith("FineWeb")
    generation = indexed.catalog.generation()
    assert LexicalIndex.load(indexed.data_dir / "keyword-index", generation) is not None  # saved, loadable

    f = samples / "sep_28.md"
    f.write_text(f.read_text().replace("FineWeb", "Grobnitz"), encoding="utf-8")
    indexed.indexer.reindex([spec_for(samples)])
    assert indexed.catalog.generation() != generation
    top = r.search("Grobnitz pretraining dataset").results[0]
    assert "Grobnitz" in top.heading and not r.search("Grobnitz pretraining dataset").no_match
    (samples / "sep_28.md").unlink()
    indexed.indexer.reindex([spec_for(samples)])
    assert all(x.path != "sep_28.md" for x in r.search("Grobnitz pretraining dataset", k=10).results)


@pytest.mark.slow  # runs `bot ask` in a new process
def test_ask_json_lines_from_standard_input(tmp_path, samples):
    cfg = write_config(tmp_path / "c.toml", tmp_path / "data", [("examples", samples)])
    r = bot("--config", str(cfg), "ask", "--json", "-", stdin="what is layer skip\n\nrobot hands touch sensor\n")
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x["query"] for x in lines] == ["what is layer skip", "robot hands touch sensor"]
    first = lines[0]
    assert set(first) >= {"query", "no_match", "results"} and first["no_match"] is False
    res = first["results"][0]
    assert set(res) >= {"source", "path", "title", "date", "heading", "url", "snippet", "score"}
    assert res["heading"] == LAYERSKIP and res["path"] == "oct_26.md" and res["source"] == "examples"
    assert res["date"] == "2024-10-26" and isinstance(res["score"], float)
    assert lines[1]["results"][0]["heading"] == "Robots With a Sense of Touch"


@pytest.mark.slow  # runs `bot ask` in a new process
def test_ask_text_output_and_bad_arguments(tmp_path, samples):
    cfg = write_config(tmp_path / "c.toml", tmp_path / "data", [("examples", samples)])
    r = bot("--config", str(cfg), "ask", "what is layer skip", "--k", "1")
    assert r.returncode == 0, r.stderr
    assert "Oct 26 Weekly Newsletter (2024-10-26)" in r.stdout and LAYERSKIP in r.stdout
    assert "https://newsletter.example.org/issues/oct_26#layerskip-early-exit-and-self-speculative-decoding" in r.stdout
    assert "indexing the configured sources first" in r.stderr
    bad = bot("--config", str(cfg), "ask", "x", "--since", "last week")
    assert bad.returncode == 2 and "--since" in bad.stderr
    bad = bot("--config", str(cfg), "ask", "x", "--source", "nope")
    assert bad.returncode == 2 and "nope" in bad.stderr
    bad = bot("--config", str(cfg), "ask", "\u200b \u200b")  # only invisible characters: as empty as spaces
    assert bad.returncode == 2 and "the question is empty" in bad.stderr




def test_links_land_on_the_quoted_words_of_the_published_page(indexed, samples):
    """Each citation's text fragment matches its words exactly once on the page the site generator makes."""
    from index.search.retriever import Retriever

    from .published_page import markdown_page

    questions = ["what is layer skip", "How can a big model fit in the memory of an ordinary notebook computer?",
                 "robots", "which chips did Nvidia announce"]
    checked = 0
    for q in questions:
        for res in indexed.retriever().search(q).results:
            section, _, directive = res.quote_url.partition(":~:")
            assert section == res.url and directive.startswith("text="), res.quote_url
            assert matches(directive, markdown_page(samples / res.path)) == 1, (q, res.heading, directive)
            checked += 1
    assert checked == 3 * len(questions)
    plain = Retriever(indexed.catalog, indexed.store(), indexed.embedder, indexed.data_dir / "keyword-index",
                      text_fragments=False)
    assert plain.search("what is layer skip").results[0].quote_url == ""
