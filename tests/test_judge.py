"""The no-match judge holds for every question: Discord syntax, filler, other languages, filters, bad ranges."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from index.search.query import read_question, strip_markup
from index.search.retriever import BackwardsRange, Filters

from .conftest import EXAMPLES, IndexEnv, write_config
from .test_cli import bot

LAYERSKIP = "LayerSkip: Early Exit and Self-Speculative Decoding"
MOE = "Mixture of Experts: Only Some of the Model Works at Once"
ROBOTS = "Robots With a Sense of Touch"
FILLER = (" I have been reading this newsletter for a long while now and I really love it, my friends and colleagues"
          " at work all read it too. Thanks so much in advance for any help, and have a wonderful weekend everyone!")


@pytest.fixture(scope="module")
def retriever(tmp_path_factory, embedder):
    """The bundled samples, indexed once for this module (the questions only read)."""
    from index.reading.issue import SourceSpec

    root = tmp_path_factory.mktemp("judge")
    shutil.copytree(EXAMPLES, root / "issues")
    env = IndexEnv(root / "data", embedder)
    env.indexer.reindex([SourceSpec(name="examples", path=root / "issues",
                                    base_url="https://newsletter.example.org/issues/", exclude=("README.md",))])
    yield env.retriever()
    env.close()


@pytest.mark.parametrize("question, top", [
    ("mixture of experts routing <@123456789>", MOE),  # a user mention
    ("what is layer skip <@!123456789012345678>", LAYERSKIP),  # a nickname mention
    ("<#123456789012345678> what is layer skip", LAYERSKIP),  # a channel reference
    ("what is layer skip <@&876543210987654321>", LAYERSKIP),  # a role mention
    ("what is layer skip <:pepe:123456789012345678>", LAYERSKIP),  # a custom emoji
    ("what is layer skip <a:dance:123456789012345678>", LAYERSKIP),  # an animated custom emoji
    ("what is layer skip https://example.com/x123?id=42", LAYERSKIP),  # a link
    ("@everyone what is layer skip <t:1700000000:R>", LAYERSKIP),  # a ping and a timestamp
    ("Hi all! What is layer skip?" + FILLER, LAYERSKIP),  # padded with filler
    ("How do robots feel what they touch?" + FILLER * 2, ROBOTS),  # padded with more filler
])
def test_discord_syntax_and_filler_are_not_words_of_the_question(retriever, question, top):
    answer = retriever.search(question)
    assert not answer.no_match, answer.reason
    assert answer.results[0].heading == top
    assert answer.query == question.strip()  # the question is echoed as asked


@pytest.mark.parametrize("question, language", [
    ("什么是量化", "Chinese"),
    ("量子コンピュータ", "Japanese"),
    ("양자화란 무엇인가", "Korean"),
    ("Что такое квантование?", "Cyrillic"),
    ("¿Qué es la cuantización de modelos?", "Spanish"),
    ("Comment fonctionne le décodage spéculatif ?", "French"),
    ("Wie funktioniert das spekulative Dekodieren?", "German"),
])
def test_questions_in_other_languages_are_weak(retriever, question, language):
    answer = retriever.search(question)
    assert answer.no_match
    assert language in answer.reason and "English" in answer.reason
    assert answer.results, "the closest sections are still offered, labelled as weak"


@pytest.mark.parametrize("question, filters, reason", [
    ("FineWeb dataset", Filters(issue="oct_26.md"), "FineWeb"),  # the archive has it, the chosen issue not
    ("mixture of experts", Filters(since=dt.date(2024, 10, 1)), "filters"),  # only in an earlier issue
    ("helm charts for kubernetes deployments", Filters(since=dt.date(2024, 10, 1), until=dt.date(2024, 10, 31)),
     "filters"),
    ("helm charts for kubernetes deployments", Filters(), ""),  # "charts" alone is not the question
])
def test_the_judge_weighs_only_what_the_filters_leave(retriever, question, filters, reason):
    answer = retriever.search(question, filters=filters)
    assert answer.no_match and reason in answer.reason


@pytest.mark.parametrize("question, filters, top", [
    ("FineWeb dataset", Filters(), "FineWeb: An Open Pretraining Dataset"),
    ("mixture of experts", Filters(until=dt.date(2024, 9, 30)), MOE),
    ("speculative decoding", Filters(issue="oct_12.md"), "Speculative Decoding, Explained"),
    ("robot hands touch sensor", Filters(since=dt.date(2024, 10, 1), until=dt.date(2024, 10, 31)), ROBOTS),
])
def test_what_the_filters_leave_still_answers(retriever, question, filters, top):
    answer = retriever.search(question, filters=filters)
    assert not answer.no_match, answer.reason
    assert answer.results[0].heading == top


@pytest.mark.parametrize("question, top", [
    ("How does Mistral's router pick two experts out of sixty-four for every token?", MOE),
    ("Did the Redmond team's fingertip sensor measure pressure, vibration and temperature?", ROBOTS),
])
def test_one_unknown_nickname_does_not_undo_a_clear_match(retriever, question, top):
    answer = retriever.search(question)
    assert not answer.no_match, answer.reason
    assert answer.results[0].heading == top


@pytest.mark.parametrize("question, reason", [
    ("Do robots with a sense of smell detect gas leaks?", "smell"),  # the samples have touch, not smell
    ("Are Kolmogorov-Arnold networks better than multilayer perceptrons?", "Kolmogorov-Arnold"),
    ("How does the Ameca humanoid robot feel what it grasps?", "Ameca"),  # the name is the subject: close is not enough
])
def test_a_neighbouring_topic_is_a_no_match(retriever, question, reason):
    answer = retriever.search(question)
    assert answer.no_match and reason in answer.reason, answer.reason


def test_a_question_of_mentions_alone_says_so(retriever):
    answer = retriever.search("<@123456789> <:pepe:42> https://example.com")
    assert answer.no_match and answer.results == [] and "mentions" in answer.reason


def test_a_backwards_date_range_is_refused():
    with pytest.raises(BackwardsRange, match="backwards"):
        Filters(since=dt.date(2024, 3, 31), until=dt.date(2024, 1, 1))
    Filters(since=dt.date(2024, 1, 1), until=dt.date(2024, 1, 1))  # one day is a range


@pytest.mark.parametrize("raw, cleaned", [
    ("a <@1> b <@!2> c <#3> d <@&4> e <:x:5> f <a:y_z:6> g", "a b c d e f g"),
    ("see <https://example.org/a_(b)> and www.example.org/x?y=1, then", "see and , then"),
    ("</ask:123456789> how", "how"),
])
def test_markup_is_stripped(raw, cleaned):
    assert strip_markup(raw) == cleaned


@pytest.mark.parametrize("padded, content", [
    ("Hi everyone! Sorry if this is a dumb question, but what is mixture of experts routing? I have been reading this"
     " newsletter for a long while now and I really love it, my friends and colleagues at work all read it too."
     " Thanks so much in advance for any help, and have a wonderful weekend everyone!",
     "what is mixture of experts routing?"),
    ("Hi all, I was wondering, how does speculative decoding work, thanks!", "how does speculative decoding work"),
])
def test_filler_is_set_aside(padded, content):
    assert read_question(padded).text == content


@pytest.mark.parametrize("question", ["what is it, and how does it work", "FineWeb", "Thanks!", "Is it good?",
                                      "Thanks so much for the help with quantization"])
def test_a_question_without_filler_is_read_whole(question):
    assert read_question(question).text == question


@pytest.mark.slow  # `bot` in new processes
def test_empty_questions_and_backwards_ranges_on_the_command_line(tmp_path):
    cfg = write_config(tmp_path / "c.toml", tmp_path / "data", [("examples", EXAMPLES)])
    for empty in ("", "   "):
        r = bot("--config", str(cfg), "ask", empty)
        assert r.returncode == 2 and "the question is empty" in r.stderr, (r.stdout, r.stderr)
    r = bot("--config", str(cfg), "ask", "layer skip", "--since", "2024-03-31", "--until", "2024-01-01")
    assert r.returncode == 2 and "backwards" in r.stderr and "--since 2024-03-31" in r.stderr
    assert not (tmp_path / "data").exists(), "a usage error is found before anything is opened"


@pytest.mark.discord
@pytest.mark.slow
def test_ask_refuses_a_backwards_date_range_and_ignores_mentions(tmp_path, samples, embedder):
    import asyncio

    from tests.discord_harness import running_bot

    async def scenario():
        async with running_bot(tmp_path, samples, embedder) as r:
            rec = await (await r.server.interact(
                "ask", {"question": "what is layer skip", "since": "2024-12-31", "until": "2024-01-01"})).answered()
            msg = rec.messages[-1] if rec.original is None else rec.original
            assert rec.ephemeral and "backwards" in msg["content"] and "2024-12-31" in msg["content"]
            assert not msg.get("embeds")
            rec = await (await r.server.interact("ask", {"question": "mixture of experts routing <@123456789>"})).answered()
            msg = rec.messages[-1] if rec.original is None else rec.original
            assert "couldn't find" not in msg["content"]
            assert msg["embeds"][0]["title"].startswith("Sep 28 Weekly Newsletter")
            assert "weak match" not in msg["embeds"][0]["footer"]["text"]

    asyncio.run(scenario())
