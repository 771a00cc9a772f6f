"""Snippets are verbatim, short, cut at word boundaries, and valid Markdown."""

from __future__ import annotations

import re

from index.search.lexical import terms
from index.search.snippets import make_snippet


def snip(md: str, question: str, limit: int = 300) -> str:
    return make_snippet(md, terms(question), limit)


def visible(s: str) -> str:
    s = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", s)
    return s.replace("**", "").replace("*", "").replace("`", "").replace("\\", "")


def balanced(s: str) -> bool:
    no_links = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", s)
    no_code = re.sub(r"`[^`]*`", "", no_links)
    stars_even = no_code.count("**") % 2 == 0 and no_code.replace("**", "").count("*") % 2 == 0
    return stars_even and "[" not in no_code.replace("\\[", "")


def test_picks_the_matching_sentence_and_quotes_it_verbatim():
    md = ("The first sentence is about routers. The second one explains quantization of weights to four bits. "
          "A third talks about something else entirely.")
    s = snip(md, "how does quantization work")
    assert "explains quantization of weights to four bits." in s
    assert s.startswith("…")  # it starts mid-paragraph


def test_long_text_is_cut_at_a_word_with_an_ellipsis():
    md = "Intro. " + " ".join(f"longword{i}" for i in range(200))
    s = snip(md, "longword5")
    assert len(visible(s)) <= 302
    assert s.endswith("…")
    assert re.search(r"longword\d+…$", s)  # no half word before the ellipsis
    body = s.strip("…")
    assert all(re.fullmatch(r"(Intro\.|longword\d+)", w) for w in body.split())


def test_links_are_never_cut_in_half():
    md = ("See " + "[the very long link text that goes on](https://example.org/a-very-long-path-indeed) " * 12
          + "for details.")
    s = snip(md, "link text", limit=120)
    assert balanced(s)
    assert s.count("](") == s.count("[") - s.count("\\[")
    for m in re.finditer(r"\[([^\]]*)\]\(([^)]*)\)", s):
        assert m.group(1) == "the very long link text that goes on"
        assert m.group(2) == "https://example.org/a-very-long-path-indeed"


def test_emphasis_opened_in_the_snippet_is_closed():
    md = "Plain start. *This italic sentence is long enough to be cut by a short limit for sure, yes it is.* End."
    s = snip(md, "italic sentence", limit=60)
    assert balanced(s)
    assert s.startswith("…*This italic")
    assert s.endswith("*…")


def test_inline_code_and_code_blocks_stay_whole():
    md = "Call `index.reindex(full=True)` to rebuild the index from scratch.\n\n```python\nprint('hi')\n```\n"
    s = snip(md, "rebuild index")
    assert "`index.reindex(full=True)`" in s
    assert balanced(s)


def test_list_items_keep_their_bullets():
    md = "Key results:\n\n- Up to 2.16x faster summarisation\n- 1.82x faster coding\n"
    s = snip(md, "how much faster is coding")
    assert "- 1.82x faster coding" in s.splitlines()


def test_markdown_special_characters_in_text_are_escaped():
    md = "The name snake_case_thing and a \\*literal\\* star are plain text here."
    s = snip(md, "snake case")
    assert "snake\\_case\\_thing" in s and "a \\*literal\\* star" in s


def test_a_code_block_stays_a_code_block():
    md = "Install it and start the server:\n\n```sh\npip install backissue\nbot reindex --full\nbot run\n```\n"
    s = snip(md, "start the server")
    assert "```sh\npip install backissue\nbot reindex --full\nbot run\n```" in s
    assert "`pip install backissue`" not in s  # not run together as inline code


def test_a_long_code_block_is_cut_between_lines_and_closed():
    code = "\n".join(f"let value_{i} = compute_something_long({i});" for i in range(40))
    md = f"The whole program:\n\n```rust\n{code}\n```\n"
    s = snip(md, "whole program")
    assert s.count("```") == 2 and "\n```\n" in s + "\n" and s.endswith("…")
    inside = s.split("```rust\n", 1)[1].split("\n```", 1)[0].splitlines()
    assert inside and all(line in code.splitlines() for line in inside)  # whole lines, verbatim
    assert len("".join(inside)) <= 300


def test_triple_backticks_inside_code_cannot_end_the_block_early():
    md = "Markdown in markdown:\n\n````md\n```\ninner\n```\n````\n"
    s = snip(md, "markdown in markdown")
    assert s.count("```") == 2


def test_the_answering_sentence_wins_over_the_intro(embedder):
    md = ("Welcome back! This week we look at quantization, speculative decoding and robots. "
          "Quantization stores each weight in four bits instead of sixteen, shrinking a model about four times.")
    question = "how does quantization work"  # both sentences share "quantization" and nothing else

    def closeness(texts):
        v = embedder.encode([question, *texts])
        return (v[1:] @ v[0]).tolist()

    s = make_snippet(md, terms(question), 90, closeness=closeness)
    assert s.startswith("…Quantization stores each weight in four bits")
