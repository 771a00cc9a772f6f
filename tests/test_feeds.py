"""Feed sources: feeds served over HTTP on loopback, fetched, stored entry by entry, indexed with the real model and store."""

from __future__ import annotations

import email.utils
import json
import time

import feedparser
import pytest

from index.reading.feedfetch import FetchError, fetch
from index.reading.feeds import FeedMirror, FeedSource
from index.reading.issue import SourceSpec, parse_issue
from tests.conftest import CORPORA, needs_shared
from tests.feed_samples import SITE, Entry, atom, rss1, rss2
from tests.feed_server import FeedServer


@pytest.fixture
def server():
    s = FeedServer().start()
    yield s
    s.stop()


def mirror(tmp_path, server, name: str, path: str) -> FeedMirror:
    return FeedMirror(FeedSource(name, server.url(path)), tmp_path / "feeds" / name)


def spec(m: FeedMirror) -> SourceSpec:
    return SourceSpec(name=m.source.name, path=m.folder, kind="feed")


def sections(index_env, source: str) -> list[tuple[str, str, str, str]]:
    return list(index_env.catalog.execute(
        "SELECT path, heading, anchor, markdown FROM sections WHERE source = ? ORDER BY path, position", (source,)))


def indexed(index_env, source: str) -> dict[str, str]:
    """path -> url of the source's indexed issues."""
    return {r[0]: r[1] for r in index_env.catalog.execute(
        "SELECT path, url FROM issues WHERE source = ? AND status = 'indexed'", (source,))}


def test_rss2_atom_and_rss1_are_indexed_with_the_feeds_own_anchors(tmp_path, server, index_env):
    entries = [Entry(1), Entry(2), Entry(3)]
    server.put("/rss2.xml", rss2(entries))
    server.redirects["/old-feed"] = (301, server.url("/rss2.xml"))  # the feed moved
    server.put("/atom.xml", atom(entries), "application/atom+xml")
    server.put("/rss1.xml", rss1(entries), "application/rdf+xml")
    mirrors = [mirror(tmp_path, server, "rss2", "/old-feed"), mirror(tmp_path, server, "atom", "/atom.xml"),
               mirror(tmp_path, server, "rss1", "/rss1.xml")]
    for m in mirrors:
        st = m.sync(force=True)
        assert st.error == "" and st.entries == 3, (m.source.name, st)
    assert mirrors[0].state().url == server.url("/rss2.xml")  # where it came from after the redirect
    assert all(h.sent < len(server.pages["/rss2.xml"].body) for h in server.hits_for("/rss2.xml"))  # gzip on the wire
    summary = index_env.indexer.reindex([spec(m) for m in mirrors])
    assert summary.new == 9 and not summary.failed, summary
    for m in mirrors:
        assert sorted(indexed(index_env, m.source.name).values()) == [f"{SITE}/notes/{n}/" for n in (1, 2, 3)]
        rows = sections(index_env, m.source.name)
        by_heading = {(h, a) for _, h, a, _ in rows}
        # a heading's id is its anchor; a heading without one links to the page, no id is invented
        assert {("", ""), ("Watering schedule", "watering-1"), ("Pests", "")} <= by_heading
        text = "\n".join(md for *_, md in rows)
        assert "track(" not in text and "a player" not in text and "icon" not in text and "pixel" not in text
        assert "[the raised beds](https://gardening.example.org/notes/1/beds/)" in text  # made absolute
        assert "*tomato*" in text  # emphasis kept as Markdown


def test_a_second_fetch_is_conditional_and_transfers_nothing(tmp_path, server):
    server.put("/feed.xml", rss2([Entry(1), Entry(2)]))
    m = mirror(tmp_path, server, "weekly", "/feed.xml")
    first = m.sync(force=True)
    assert first.status == 200 and first.transferred > 0
    stored = {p.name: p.stat().st_mtime_ns for p in m.folder.iterdir()}
    second = m.sync(force=True)
    last = server.hits_for("/feed.xml")[-1]
    assert last.status == 304 and last.sent == 0 and second.transferred == 0
    assert last.headers["if-none-match"] == server.pages["/feed.xml"].etag and "if-modified-since" in last.headers
    assert {p.name: p.stat().st_mtime_ns for p in m.folder.iterdir()} == stored  # nothing rewritten


def test_a_changed_entry_is_reindexed_a_vanished_one_kept_a_new_one_added(tmp_path, server, index_env):
    server.put("/feed.xml", rss2([Entry(1), Entry(2), Entry(3)]))
    m = mirror(tmp_path, server, "weekly", "/feed.xml")
    m.sync(force=True)
    assert index_env.indexer.reindex([spec(m)]).new == 3
    changed = Entry(2, html="<h2 id=\"frost\">Late frost</h2><p>A late frost took the courgettes; cover them with fleece.</p>")
    server.put("/feed.xml", rss2([changed, Entry(3), Entry(4)]))  # note 1 dropped out of the window
    m.sync(force=True)
    summary = index_env.indexer.reindex([spec(m)])
    assert (summary.new, summary.changed, summary.removed, summary.unchanged) == (1, 1, 0, 2), summary  # 1 and 3 kept
    assert sorted(indexed(index_env, "weekly").values()) == [f"{SITE}/notes/{n}/" for n in (1, 2, 3, 4)]
    hits = index_env.retriever().search("courgettes late frost fleece", k=1)
    assert hits.results[0].url == f"{SITE}/notes/2/#frost"


def test_without_guids_identity_is_the_link_and_equal_titles_stay_apart(tmp_path, server, index_env):
    server.put("/feed.xml", rss2([Entry(n, title="newsletter", guid=None, link=f"{SITE}/entries#{n}") for n in (1, 2)]))
    m = mirror(tmp_path, server, "weekly", "/feed.xml")
    m.sync(force=True)
    index_env.indexer.reindex([spec(m)])
    assert sorted(indexed(index_env, "weekly").values()) == [f"{SITE}/entries#1", f"{SITE}/entries#2"]
    server.put("/feed.xml", rss2([Entry(n, title="newsletter", guid=None, link=f"{SITE}/entries#{n}") for n in (1, 2)])
               .replace("Welcome to note 2", "Welcome back to note 2"))
    m.sync(force=True)
    summary = index_env.indexer.reindex([spec(m)])
    assert (summary.new, summary.changed) == (0, 1)


def test_broken_xml_and_an_html_page_are_reported_and_what_was_indexed_stays(tmp_path, server, index_env):
    server.put("/feed.xml", rss2([Entry(1), Entry(2)]))
    clock = [time.time()]
    m = FeedMirror(FeedSource("weekly", server.url("/feed.xml")), tmp_path / "feeds" / "weekly", clock=lambda: clock[0])
    m.sync(force=True)
    index_env.indexer.reindex([spec(m)])
    server.put("/feed.xml", rss2([Entry(1), Entry(2), Entry(3)])[:-40])  # cut off mid-way
    st = m.sync(force=True)
    assert "not well-formed XML" in st.error and st.failures == 1 and st.next_attempt > clock[0]
    summary = index_env.indexer.reindex([spec(m)])
    assert [(r.source, r.path) for r in summary.failed] == [("weekly", "")]
    assert "not well-formed XML" in summary.failed[0].reason and "2 entries fetched before are kept" in summary.failed[0].reason
    assert len(indexed(index_env, "weekly")) == 2
    # backing off: an interval check does not ask again before the next attempt is due
    hits = len(server.hits)
    m.sync(force=False)
    assert len(server.hits) == hits
    server.put("/feed.xml", "<!DOCTYPE html><html><body><h1>Welcome to our shop</h1></body></html>", "text/html")
    clock[0] += 3600
    st = m.sync(force=False)
    assert "serves an HTML page, not a feed" in st.error and st.failures == 2
    assert len(indexed(index_env, "weekly")) == 2
    server.put("/feed.xml", rss2([Entry(1), Entry(2), Entry(3)]))
    st = m.sync(force=True)
    assert st.error == "" and st.failures == 0 and st.entries == 3


def test_never_fetched_feed_is_not_recorded_as_an_empty_archive(tmp_path, server, index_env):
    m = mirror(tmp_path, server, "weekly", "/nothing-here.xml")
    st = m.sync(force=True)
    assert "HTTP 404" in st.error
    summary = index_env.indexer.reindex([spec(m)])
    assert [r.source for r in summary.missing] == ["weekly"] and "not been fetched yet" in summary.missing[0].reason
    assert index_env.catalog.last_run("weekly") is None  # the announcer waits instead of seeding nothing


def test_the_size_limit_holds_also_for_a_gzip_body_that_unpacks_large(server):
    server.put("/big.xml", b"<rss>" + b" " * 3_000_000 + b"</rss>")
    with pytest.raises(FetchError, match="larger than the limit of 1 MB"):
        fetch(server.url("/big.xml"), max_bytes=1_000_000)  # gzip: a few kB on the wire, 3 MB unpacked
    assert server.hits_for("/big.xml")[-1].sent < 100_000
    server.gzip = False
    with pytest.raises(FetchError, match="larger than the limit"):
        fetch(server.url("/big.xml"), max_bytes=1_000_000)
    server.put("/bad.xml", b"\x1f\x8b\x08\x00 not really gzip at all")
    server.pages["/bad.xml"].content_type = "application/rss+xml"
    server.gzip = True
    server.pages["/bad.xml"].body = b"x"  # served gzipped by the server: a valid body
    assert fetch(server.url("/bad.xml")).body == b"x"


REAL_FEEDS = sorted(p for p in (CORPORA / "feeds").glob("*/*.xml")) if (CORPORA / "feeds").is_dir() else []


@needs_shared
@pytest.mark.corpora
@pytest.mark.skipif(not REAL_FEEDS, reason=f"no real feeds under {CORPORA / 'feeds'} (see BACKISSUE_SHARED)")
def test_every_entry_of_the_real_feeds_is_read_or_named_with_its_reason(tmp_path, server):
    import datetime as dt

    for path in REAL_FEEDS:
        name = path.parent.name
        raw = path.read_bytes()
        server.put(f"/{name}.xml", raw)
        m = mirror(tmp_path, server, name, f"/{name}.xml")
        st = m.sync(force=True)
        assert st.error == "", (name, st.error)
        total = len(feedparser.parse(raw).entries)
        assert st.entries + len(st.skipped or []) == total, (name, st.skipped)
        files = sorted(m.folder.iterdir())
        assert len(files) == st.entries
        s = spec(m)
        for f in files:
            issue = parse_issue(f.read_bytes(), f.name, s, dt.datetime.now(dt.timezone.utc))
            assert issue.publication.published or issue.publication.reason, (name, f.name)
            assert issue.url.startswith(("http://", "https://")) and issue.date is not None, (name, issue.url)
            anchors = [sec.anchor for sec in issue.sections if sec.anchor]
            assert all(f'id="{a}"' in json.loads(f.read_bytes())["html"] for a in anchors), (name, f.name)
        assert m.sync(force=True).status in (304, 200)
        assert server.hits_for(f"/{name}.xml")[-1].status == 304


def test_a_feed_server_that_never_answers_times_out():
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # accepts the connection, never answers
        started = time.monotonic()
        with pytest.raises(FetchError, match="timed out"):
            fetch(f"http://127.0.0.1:{silent.getsockname()[1]}/feed.xml", timeout=0.5)
        assert time.monotonic() - started < 5


def test_a_feed_is_fetched_no_more_often_than_asked_and_a_servers_retry_after_is_obeyed(tmp_path, server):
    server.put("/feed.xml", rss2([Entry(1)]))
    clock = [time.time()]
    m = FeedMirror(FeedSource("weekly", server.url("/feed.xml"), check_seconds=300), tmp_path / "feeds" / "weekly",
                   clock=lambda: clock[0])
    hits = lambda: len(server.hits_for("/feed.xml"))  # noqa: E731
    assert m.sync().error == "" and hits() == 1
    clock[0] += 299
    m.sync()
    assert hits() == 1  # too soon for the interval
    m.sync(force=True)
    assert hits() == 2  # `bot reindex` and /reindex fetch at once
    clock[0] += 301
    m.sync()
    assert hits() == 3
    server.refusals["/feed.xml"] = (429, {"Retry-After": "7200"})
    clock[0] += 301
    st = m.sync()
    assert hits() == 4 and st.failures == 1 and "asks to wait 7200 s" in st.error
    assert st.next_attempt == pytest.approx(clock[0] + 7200)  # not our own 30 s backoff
    clock[0] += 3600
    m.sync()
    assert hits() == 4
    later = email.utils.formatdate(time.time() + 5400, usegmt=True)  # the HTTP-date form
    server.refusals["/feed.xml"] = (503, {"Retry-After": later})
    clock[0] += 3601
    st = m.sync()
    assert st.failures == 2 and st.next_attempt == pytest.approx(clock[0] + 5400, abs=5)
    del server.refusals["/feed.xml"]
    clock[0] += 5401
    st = m.sync()
    assert st.error == "" and st.failures == 0 and st.next_attempt == pytest.approx(clock[0] + 300)
