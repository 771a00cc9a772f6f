"""Paid posts: a feed entry cut at its paywall is indexed as far as the cut and labelled a preview; an export's
paid-only posts are indexed only with include_paid and quoted only to members; announcements never quote them."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from bot.announce.post import make_post
from bot.ask.render import PAID_LABEL, PREVIEW_LABEL, WITHHELD, render_answer, withhold_paid
from bot.cli.ask import render_text
from bot.settings import ConfigError, load_settings
from index.reading.exports import sync_export
from index.reading.feeds import FeedMirror, FeedSource, entry_key
from index.reading.issue import SourceSpec, parse_issue
from tests.conftest import write_config
from tests.feed_samples import SITE, Entry, rss2
from tests.feed_server import FeedServer
from tests.test_exports import GHOST, ghost_export

# Free parts and what lies past the paywall, in the three ways the platforms mark the cut (index.reading.paywall)
SUBSTACK_CUT = ("<p>Compost heaps warm up fastest when the greens and browns are layered evenly.</p>"
                "<div class=\"paywall-jump\" data-component-name=\"PaywallToDOM\"></div>"
                "<h2>Worm bins</h2><p>Tiger worms turn kitchen peelings into castings within eight weeks.</p>")
GHOST_CUT = ("<p>Leeks sown in March want transplanting once they are pencil thick.</p><!--members-only-->"
             "<p>Dibble holes fifteen centimetres deep and water them in without backfilling.</p>")


def read_more_tail(link: str) -> str:
    return (f"<p>Garlic cloves planted before midwinter split into the biggest bulbs.</p>"
            f"<p><a href=\"{link}?utm_source=rss\">Read more</a></p>")


def spec(root):
    return SourceSpec(name="garden", path=root / "entries", kind="feed")


@pytest.fixture
def server():
    s = FeedServer().start()
    yield s
    s.stop()


def test_a_feed_entry_cut_at_its_paywall_is_indexed_up_to_the_cut_and_cited_as_a_preview(tmp_path, server,
                                                                                         index_env):
    entries = [Entry(1, html=SUBSTACK_CUT), Entry(2, html=GHOST_CUT), Entry(3, html=read_more_tail(f"{SITE}/notes/3/")),
               Entry(4), Entry(5, html=read_more_tail("https://elsewhere.example.net/seeds/"))]
    server.put("/feed", rss2(entries))
    root = tmp_path / "data" / "feeds" / "garden"
    FeedMirror(FeedSource("garden", server.url("/feed")), root).sync(force=True)
    index_env.indexer.reindex([spec(root)])
    access = dict(index_env.catalog.execute("SELECT url, access FROM issues").fetchall())
    assert access == {f"{SITE}/notes/1/": "preview", f"{SITE}/notes/2/": "preview", f"{SITE}/notes/3/": "preview",
                      f"{SITE}/notes/4/": "", f"{SITE}/notes/5/": ""}  # a "Read more" elsewhere is no paywall
    stored = " ".join(p.read_text() for p in (root / "entries").iterdir())
    text = " ".join(r[0] for r in index_env.catalog.execute("SELECT text FROM sections").fetchall())
    for past_the_cut in ("Tiger worms", "Worm bins", "Dibble holes"):
        assert past_the_cut not in text and past_the_cut not in stored
    note3 = json.loads((root / "entries" / f"{entry_key('tag:gardening.example.org,2024:note-3')}.entry.json").read_text())
    assert "Read more" not in note3["html"]  # the tail that marks the cut is not the post's text either
    assert "Compost heaps warm up" in text and "pencil thick" in text and "Garlic cloves" in text

    answer = index_env.retriever().search("how fast do compost heaps warm up with greens and browns", k=3)
    top = answer.results[0]
    assert top.url.startswith(f"{SITE}/notes/1/") and top.access == "preview"
    embed = render_answer(answer).embeds[0]
    assert "Compost heaps" in embed.description and PREVIEW_LABEL in embed.description
    assert embed.url.startswith(f"{SITE}/notes/1/")  # to the full post
    assert "1. Seedling notes 1 (2024-03-08) [preview — paid post]" in render_text(answer)  # `bot ask` says so too


def test_an_entry_stored_whole_by_an_earlier_version_is_read_only_up_to_its_paywall(tmp_path):
    record = {"v": 1, "id": "n1", "link": f"{SITE}/notes/1/", "title": "Seedling notes 1",
              "published": "2024-03-08T08:00:00+00:00", "author": "", "summary": "", "image": "", "html": SUBSTACK_CUT}
    issue = parse_issue(json.dumps(record).encode(), "n1.entry.json", spec(tmp_path), dt.datetime.now(dt.timezone.utc))
    assert issue.access == "preview" and issue.publication.published
    assert "Compost heaps" in issue.sections[0].text and "Tiger worms" not in " ".join(s.text for s in issue.sections)


def test_an_exports_paid_posts_are_indexed_with_include_paid_only_and_quoted_to_members_only(tmp_path, index_env):
    path = ghost_export(tmp_path / "ghost.json", [(1, "published", "public", "2024-02-01T08:00:00.000Z"),
                                                  (2, "published", "paid", "2024-03-01T08:00:00.000Z")])
    root = tmp_path / "data" / "feeds" / "garden"
    st = sync_export(root, path, GHOST, entry_key, include_paid=True)
    assert st.posts == 2 and st.skipped == []
    index_env.indexer.reindex([spec(root)])
    access = dict(index_env.catalog.execute("SELECT url, access FROM issues").fetchall())
    assert access == {f"{GHOST}/seedling-notes-1/": "", f"{GHOST}/seedling-notes-2/": "paid"}

    answer = index_env.retriever().search("aphids broad beans soapy water note 2", k=1)
    [hit] = answer.results
    assert hit.url.startswith(f"{GHOST}/seedling-notes-2/") and hit.access == "paid"
    member = render_answer(answer, unlocked=frozenset({"garden"})).embeds[0]
    assert "Aphids on the broad beans in note 2" in member.description and PAID_LABEL in member.description
    other = render_answer(answer).embeds[0]
    assert other.description == WITHHELD and "Aphids" not in str(other.to_dict())
    assert other.title.startswith("Seedling notes 2 · 2024-03-01") and other.url == f"{GHOST}/seedling-notes-2/"
    assert member.url != other.url and ":~:" in member.url  # only the member's link carries the quoted words
    shared = withhold_paid([member])[0]  # the member shares their private answer: the public copy quotes nothing
    assert shared.description == WITHHELD and shared.url == f"{GHOST}/seedling-notes-2/"

    # include_paid turned off again: the paid post goes, named with its reason
    st = sync_export(root, path, GHOST, entry_key)
    assert st.skipped == ["seedling-notes-2: paid-only post; not indexed"]
    index_env.indexer.reindex([spec(root)])
    assert [r[0] for r in index_env.catalog.execute("SELECT url FROM issues")] == [f"{GHOST}/seedling-notes-1/"]


def test_a_paid_post_replaces_the_feeds_preview_of_it_and_the_feed_does_not_put_the_preview_back(tmp_path, server):
    link = f"{GHOST}/seedling-notes-2/"
    server.put("/feed", rss2([Entry(2, guid="65f0c0ffee0002", link=link, html=GHOST_CUT)]))
    root = tmp_path / "garden"
    mirror = FeedMirror(FeedSource("garden", server.url("/feed")), root)
    mirror.sync(force=True)
    stored = root / "entries" / f"{entry_key('65f0c0ffee0002')}.entry.json"
    assert json.loads(stored.read_text())["access"] == "preview"
    path = ghost_export(tmp_path / "ghost.json", [(2, "published", "paid", "2024-03-01T08:00:00.000Z")])
    sync_export(root, path, GHOST, entry_key, include_paid=True)
    assert json.loads(stored.read_text())["access"] == "paid"
    server.put("/feed", rss2([Entry(2, guid="65f0c0ffee0002", link=link, html=GHOST_CUT + "<p>.</p>")]))
    mirror.sync(force=True)
    assert json.loads(stored.read_text())["access"] == "paid"  # the whole post stands


def test_a_paid_post_is_announced_by_its_title_and_link_only(tmp_path):
    path = ghost_export(tmp_path / "ghost.json", [(2, "published", "paid", "2024-03-01T08:00:00.000Z")])
    root = tmp_path / "garden"
    sync_export(root, path, GHOST, entry_key, include_paid=True)
    [entry] = list((root / "entries").iterdir())
    issue = parse_issue(entry.read_bytes(), entry.name, spec(root), dt.datetime.now(dt.timezone.utc))
    post = make_post(issue)
    shown = json.dumps(post.embed.to_dict()) + post.content
    assert post.embed.title == "Seedling notes 2" and post.embed.url == f"{GHOST}/seedling-notes-2/"
    assert "paid post" in post.embed.footer.text
    for word in ("Teaser 2", "Watering schedule", "Pests", "Aphids"):  # its excerpt and highlights are its words
        assert word not in shown


def test_include_paid_without_a_role_is_an_error_naming_the_source(tmp_path):
    export = tmp_path / "ghost.json"
    cfg = write_config(tmp_path / "c.toml", tmp_path / "data", [("journal", f"export+{export}")],
                       source_extra={"journal": "include_paid = true"})
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    assert "source 'journal': include_paid = true needs paid_role_id" in str(err.value)
    cfg = write_config(tmp_path / "c.toml", tmp_path / "data", [("journal", f"feed+{SITE}/feed")],
                       source_extra={"journal": "include_paid = true\npaid_role_id = 42"})
    with pytest.raises(ConfigError, match="source 'journal': include_paid = true needs an export"):
        load_settings(cfg)
    cfg = write_config(tmp_path / "c.toml", tmp_path / "data", [("journal", f"export+{export}")],
                       source_extra={"journal": "include_paid = true\npaid_role_id = 42"})
    [source] = load_settings(cfg).sources
    assert source.include_paid and source.paid_role_id == 42
