"""Text-fragment links: the directive quotes words a reader sees, percent-encoded as the spec requires."""

import urllib.parse

from index.search.fragments import fragment_url, plain_text, text_directive


def test_markdown_syntax_is_not_quoted() -> None:
    md = "## Hi **there**\n- see [the docs](https://x.org/a) and `cargo` &amp; more"
    assert plain_text(md) == "Hi there see the docs and cargo & more"


def test_dash_ampersand_comma_and_unicode_are_encoded() -> None:
    url = fragment_url("https://e.org/p/", "sec", "Rust-lang, fast & safe: café")
    assert url == "https://e.org/p/#sec:~:text=Rust%2Dlang%2C%20fast%20%26%20safe%3A%20caf%C3%A9"


def test_no_anchor_and_long_snippet_use_range_form() -> None:
    words = " ".join(f"w{i}" for i in range(20))
    url = fragment_url("https://e.org/p/", "", words)
    assert url == "https://e.org/p/#:~:text=w0%20w1%20w2%20w3,w16%20w17%20w18%20w19"


def test_start_words_grow_until_unique_in_page() -> None:
    page = "a b c d x. a b c d e f g h i j k l m"
    directive = text_directive("a b c d e f g h i j k l m", page)
    start = urllib.parse.unquote(directive.removeprefix("text=").split(",")[0])
    assert plain_text(page).count(start) == 1


def test_disabled_gives_plain_link() -> None:
    assert fragment_url("https://e.org/p/", "sec", "some words", enabled=False) == "https://e.org/p/#sec"
    assert fragment_url("https://e.org/p/", "", "some words", enabled=False) == "https://e.org/p/"
