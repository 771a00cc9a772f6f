"""The pure renderers fed hostile and oversize input, each payload checked by the Discord test server's own validators.

The payload is the one discord.py would send (its own message-parameter builder), so a limit the
renderer misses fails here in milliseconds, without a bot, a model or a network.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import discord
import pytest

from bot.admin.render import reindex_reply, status_embed
from bot.announce.discord_poster import DiscordPoster
from bot.announce.post import make_post, nonce_for
from bot.ask.render import render_answer
from bot.discord_text import NO_PINGS
from bot.jobs import Job, ReindexRunner
from index.embedding.model import Embedder
from index.indexing.indexer import Indexer
from index.indexing.progress import Step
from index.indexing.summary import FileReport, ReindexSummary
from index.reading.issue import SourceSpec, parse_issue
from index.search.retriever import Answer, Result
from index.store.catalog import Catalog
from tests.discord_api.limits import CONTENT_MAX, check_message
from tests.discord_api.messages import NONCE_MAX

PINGS = "@everyone @here <@123456789012345678> <@!123456789012345678> <@&876543210987654321>"
MARKUP = "**bold** __under__ *it* ~~gone~~ `code` ||spoiler|| > quote [link](https://evil.example) # Heading"
UNICODE = "🦜 naïve e\u0301 \u202eRTL\u202c 量子 Ωμέγα \u200b"
HOSTILE = f"{PINGS} {MARKUP} {UNICODE}"
FENCE = "```python\n" + "\n".join(f"print({i}) # {HOSTILE}" for i in range(300)) + "\n```"


def sent(content: str | None, embeds: list[discord.Embed], mentions: discord.AllowedMentions = NO_PINGS) -> dict:
    """The JSON body discord.py sends for this message."""
    return discord.http.handle_message_parameters(content=content, embeds=embeds, allowed_mentions=mentions).payload


def result(n: int, *, title: str = "An issue", heading: tuple[str, ...] = ("A section",), snippet: str = "Text.",
           url: str = "https://example.org/issue#section") -> Result:
    return Result(source="s", path=f"p{n}.md", title=title, date="2024-01-01", heading=heading[-1], heading_path=heading,
                  url=url, snippet=snippet, score=0.5)


def inert(content: str) -> None:
    """No mention, spoiler or link of the reader's survives as live syntax in ``content``."""
    assert "@everyone" not in content and "@here" not in content
    assert not re.search(r"<@[!&]?\d+>", content)
    assert "||spoiler||" not in content and "](https://evil.example)" not in content


# --- /ask ------------------------------------------------------------------------------------------------------

HUGE = {
    "title": dict(title=HOSTILE * 40),
    "heading path": dict(heading=tuple(f"{HOSTILE} {i}" for i in range(60))),
    "snippet": dict(snippet=(HOSTILE + "\n\n") * 400),
    "code fence": dict(snippet="Run this:\n" + FENCE),
    "unicode": dict(title=UNICODE * 50, snippet=UNICODE * 800),
    "empty snippet": dict(snippet=""),
    "relative link (a source without base_url)": dict(url="2024-05-01-issue/#a-section"),
}


@pytest.mark.parametrize("count", [1, 3, 10, 14])
@pytest.mark.parametrize("case", sorted(HUGE))
@pytest.mark.parametrize("no_match", [False, True])
def test_answers_pass_discord_validation_whatever_the_archive_holds(case, count, no_match):
    question = (HOSTILE + " what is layer skip ") * 30
    answer = Answer(question[:2000], no_match, [result(n, **HUGE[case]) for n in range(count)],
                    "the archive never mentions Zorblax" if no_match else "")
    rendered = render_answer(answer)
    payload = sent(rendered.content, rendered.embeds)
    check_message(payload)  # raises DiscordError as Discord would answer 400
    assert payload["allowed_mentions"] == {"parse": []}
    assert 1 <= len(payload["embeds"]) <= min(count, 10)
    inert(payload["content"])
    for embed in payload["embeds"]:
        assert embed["description"].count("```") % 2 == 0, "a code block was cut open"


def test_no_results_is_one_inert_line_within_the_limit():
    rendered = render_answer(Answer(HOSTILE * 60, True, [], "the question has no words besides mentions"))
    payload = sent(rendered.content, rendered.embeds)
    check_message(payload)
    assert "embeds" not in payload or payload["embeds"] == []
    inert(payload["content"])


# --- /reindex and /status --------------------------------------------------------------------------------------


def test_a_reindex_summary_with_hundreds_of_hostile_failures_fits_one_message():
    failed = [FileReport("weekly", f"{HOSTILE} {i}.md", f"unreadable: {HOSTILE * 3}") for i in range(500)]
    summary = ReindexSummary(new=3, failed=failed, missing=[FileReport("gone", "", "folder missing")])
    text = reindex_reply(summary)
    check_message(sent(text, []))
    assert len(text) <= CONTENT_MAX and "more (see `bot status` on the host)" in text


@pytest.fixture
def runner(tmp_path: Path) -> ReindexRunner:
    """A real runner over an empty catalog; the status shows what it says about the job."""
    catalog = Catalog(tmp_path / "catalog.sqlite3")

    def no_store():
        raise AssertionError("rendering must not open the store")

    yield ReindexRunner(Indexer(catalog, no_store, Embedder()), list)
    catalog.close()


def _source(n: int, width: int) -> dict:
    long = HOSTILE * width
    return {"name": f"{long} {n}", "issues": 10**9, "sections": 10**12, "held_back": 7, "last_indexed": None,
            "last_checked": "2024-01-01T00:00:00+00:00", "last_change": None, "newest": long, "problem": long,
            "git": {"commit": "f" * 40, "last_fetch": None, "error": long}}


@pytest.mark.parametrize("sources, width", [(1, 1), (5, 10), (20, 10), (40, 30)])
def test_the_status_embed_passes_discord_validation_with_many_long_sources(runner, sources, width):
    runner.running = Job("admin", True, None, dt.datetime.now(dt.timezone.utc))
    runner.progress = Step(1, 10**6, 5, 0.000001, HOSTILE)
    runner.last_error = HOSTILE * 50
    data = {"sources": [_source(n, width) for n in range(sources)], "model": "m" * 500, "store": "http://chroma:8000"}
    embed = status_embed(data, uptime=dt.timedelta(days=400), runner=runner, problems=[HOSTILE * 5] * 100)
    payload = sent(None, [embed])
    check_message(payload)
    assert payload["embeds"][0]["fields"], "the sources are shown"


# --- announcements ---------------------------------------------------------------------------------------------


def _issue(front: str, body: str, *, base_url: str = "https://newsletter.example.org/issues/"):
    spec = SourceSpec(name="weekly", path=Path("/nowhere"), base_url=base_url)
    raw = f"---\n{front}\n---\n{body}\n".encode()
    return parse_issue(raw, "2024-05-01-issue.md", spec, dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc))


TITLE = (PINGS + " **Bold** `code` ") * 30
ANNOUNCED = {
    "hostile title": (f"title: '{TITLE}'\ndate: 2024-05-01", "## Highlights\n- a\n- b\n"),
    "long description": (f"title: Issue\ndescription: '{'word ' * 3000}'", "## One\ntext\n"),
    "many highlights": ("title: Issue", "## In this issue\n" + "\n".join(f"- {HOSTILE * 5} {i}" for i in range(60))),
    "many headings": ("title: Issue", "\n".join(f"## {HOSTILE * 4} {i}\ntext" for i in range(60))),
    "code fence": ("title: Issue", "## Highlights\n- `x`\n- ```\n\n" + FENCE),
    "cover image": ("title: Issue\nimage: /img/cover.png", "## One\ntext\n"),
    "relative image, no base url": ("title: Issue\nimage: img/cover.png", "## One\ntext\n"),
}


@pytest.mark.parametrize("role", [None, 876543210987654321])
@pytest.mark.parametrize("case", sorted(ANNOUNCED))
def test_announcements_pass_discord_validation_and_ping_only_the_configured_role(case, role):
    base = "" if "no base url" in case else "https://newsletter.example.org/issues/"
    post = make_post(_issue(*ANNOUNCED[case], base_url=base), role_id=role)
    mentions = DiscordPoster._mentions(post)
    payload = sent(post.content, [post.embed], mentions)
    check_message(payload)
    assert payload["allowed_mentions"] == ({"parse": [], "roles": [role]} if role else {"parse": []})
    assert len(nonce_for("weekly", "x" * 5000, 10**9)) <= NONCE_MAX
    assert post.fingerprint() == make_post(_issue(*ANNOUNCED[case], base_url=base), role_id=role).fingerprint()
