"""Rendering answers: Discord embeds within every limit with code blocks intact; terminal text that keeps links whole."""

from __future__ import annotations

from bot.ask.render import render_answer
from bot.cli.ask import render_text
from bot.discord_text import DESCRIPTION_MAX, TOTAL_MAX, clip_lines
from index.search.retriever import Answer, Result

CODE = "```python\n" + "\n".join(f"print('line {i}')  # a comment to make it longer" for i in range(200)) + "\n```"
LONG_URL = "https://example.org/" + "-".join(["a-very-long-path-segment"] * 8) + "?query=with-hyphens&x=1"


def result(snippet: str, url: str = "https://example.org/issue#section") -> Result:
    return Result(source="s", path="p.md", title="An issue", date="2024-01-01", heading="A section",
                  heading_path=("A section",), url=url, snippet=snippet, score=0.5)


def test_clip_lines_closes_a_cut_code_block():
    text = "**A heading**\nSome prose.\n" + CODE
    out = clip_lines(text, 500)
    assert len(out) <= 500 and out.endswith("\n…")
    assert out.count("```") == 2 and out.rstrip("…").rstrip("\n").endswith("```")
    assert clip_lines("short", 500) == "short"


def test_embeds_keep_code_blocks_within_the_limits():
    answer = Answer("q", False, [result("Run this:\n" + CODE) for _ in range(10)])
    rendered = render_answer(answer)
    total = 0
    for embed in rendered.embeds:
        description = embed.description or ""
        assert len(description) <= DESCRIPTION_MAX
        assert description.count("```") % 2 == 0, "a code block was cut open"
        total += len(embed)
    assert total <= TOTAL_MAX


def test_terminal_output_never_wraps_inside_a_url():
    snippet = f"See [the write-up]({LONG_URL}) and also the raw link {LONG_URL} for all the details of it."
    text = render_text(Answer("q", False, [result(snippet, url=LONG_URL)]))
    assert LONG_URL in text.replace("\n", " ").split(" ") or f"[the write-up]({LONG_URL})" in text
    for line in text.splitlines():
        if "https://" in line:
            url = line[line.index("https://"):].split(" ")[0].rstrip(")")
            assert url.startswith(LONG_URL), line
    assert text.count(LONG_URL) == 3  # in the snippet twice and as the section's link


def test_terminal_output_keeps_code_lines():
    line = "bot reindex --full && bot run --config /a/very/long/path/" + "x" * 120
    text = render_text(Answer("q", False, [result(f"Run:\n```sh\n{line}\n```")]))
    assert f"   > {line}" in text.splitlines()


def test_nothing_to_quote_says_why():
    text = render_text(Answer("<@1>", True, [], "the question has no words besides mentions, emoji and links"))
    assert "no words besides mentions" in text


def test_a_no_match_reason_repeating_the_questions_words_is_not_formatted_in_discord():
    reason = "the archive never mentions Qwzx__init__, *kv*"
    for answer in (Answer("q", True, [], reason), Answer("q", True, [result("Some text.")], reason)):
        content = render_answer(answer).content
        assert "Qwzx\\_\\_init\\_\\_, \\*kv\\*" in content, content


def test_an_answer_as_plain_text_keeps_each_sections_title_snippet_and_link_within_discords_limit():
    from bot.ask.render import as_plain_text

    results = [result("A sentence of the issue, quoted verbatim. " * 8) for _ in range(10)]
    plain = as_plain_text(render_answer(Answer("what is layer skip", False, results)))
    assert plain.embeds == [] and len(plain.content) <= 2000
    assert plain.content.startswith("**Q:** what is layer skip") and "**1. " in plain.content
    first = render_answer(Answer("q", False, results[:1]))
    one = as_plain_text(first).content
    assert f"<{first.embeds[0].url}>" in one and "A sentence of the issue, quoted verbatim." in one
