"""Text-fragment links: the directive quotes words a reader sees, percent-encoded as the spec requires."""

import urllib.parse

from index.search.fragments import fragment_url, matches, occurrences, page_text, text_directive, visible_blocks


def _terms(directive: str) -> list[str]:
    return [urllib.parse.unquote(t) for t in directive.removeprefix("text=").split(",")]


def test_markdown_syntax_is_not_quoted() -> None:
    md = "Hi **there** see [the docs](https://x.org/a) and `cargo` &amp; snake_case more\n\n- an item"
    assert visible_blocks(md) == ["Hi there see the docs and cargo & snake_case more", "an item"]


def test_dash_ampersand_comma_and_unicode_are_encoded() -> None:
    url = fragment_url("https://e.org/p/", "sec", "Rust-lang, fast & safe: café")
    assert url == "https://e.org/p/#sec:~:text=Rust%2Dlang%2C%20fast%20%26%20safe%3A%20caf%C3%A9"


def test_no_anchor_and_long_snippet_use_range_form() -> None:
    words = " ".join(f"w{i}" for i in range(20))
    url = fragment_url("https://e.org/p/", "", words)
    assert url == "https://e.org/p/#:~:text=w0%20w1%20w2%20w3,w16%20w17%20w18%20w19"


def test_start_words_grow_until_unique_in_page() -> None:
    page = page_text(["A b c d x.", "a b c d e f g h i j k l m"])
    start = _terms(text_directive("a b c d e f g h i j k l m", page))[0]
    assert occurrences(page, start) == 1 and start == "a b c d e"


def test_terms_stay_inside_one_block_and_drop_the_ellipsis() -> None:
    snippet = "…the model skips layers early on\n- and checks them with the rest"
    start, end = _terms(text_directive(snippet))
    assert start == "the model skips layers" and end == "them with the rest"
    assert "…" not in start + end


def test_counting_is_by_whole_words_and_ignores_case() -> None:
    page = page_text(["Layer skipping", "layer skip works"])
    assert occurrences(page, "layer skip") == 1
    assert occurrences(page, "LAYER") == 2


def test_disabled_gives_plain_link() -> None:
    assert fragment_url("https://e.org/p/", "sec", "some words", enabled=False) == "https://e.org/p/#sec"
    assert fragment_url("https://e.org/p/", "", "some words", enabled=False) == "https://e.org/p/"


def test_a_directive_that_would_not_land_once_is_left_out() -> None:
    page = page_text(["one two three", "one two three"])
    assert fragment_url("https://e.org/p/", "sec", "one two three", page) == "https://e.org/p/#sec"
    assert matches("text=one%20two,three", page_text(["one two x", "three"])) == 1
    assert matches("text=three,one", page_text(["one two x", "three"])) == 0


def test_text_without_spaces_gives_no_overlong_term() -> None:
    clause = "计算社会科学的研究员讨论了自然语言处理的伦理问题以及它对社会的影响" * 3
    assert fragment_url("https://e.org/p/", "sec", f"{clause} 和 {clause}") == "https://e.org/p/#sec"
