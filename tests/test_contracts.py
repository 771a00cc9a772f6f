"""One contract per seam, run against both places the index's state can live: the data folder
(embedded) and a real Chroma server (`chroma run` on loopback).

- the index's record: what one writer commits, a reader elsewhere serves after ``follow()``;
- the writer's lock: one writer at a time, the refusal names the holder;
- the announce ledger: a post's whole life reads back the same from either ledger.
"""

from __future__ import annotations

import pytest

from bot.announce.server_state import ServerAnnounceState
from bot.announce.state import AnnounceState
from index.store.catalog import Catalog
from index.store.locks import DataDirLock, FolderWriter, StoreBusy
from index.store.server.leases import Leases, LeaseWriter
from index.store.server.records import ServerRecords
from index.store.server.replica import ReplicatedCatalog
from index.store.vectors import VectorStore
from tests.chroma_server import ChromaServer, chroma_command

MODES = ["embedded", pytest.param("server", marks=[pytest.mark.slow, pytest.mark.chroma_server])]


@pytest.fixture(scope="module")
def chroma(tmp_path_factory):
    if chroma_command() is None:
        pytest.skip("the chroma command is not installed")
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server"))
    yield server
    server.stop()


@pytest.fixture
def server_store(request):
    """A store on the module's Chroma server, emptied first: each test starts from a server nobody used."""
    store = VectorStore(url=request.getfixturevalue("chroma").url)
    for c in store.client.list_collections():
        store.client.delete_collection(getattr(c, "name", c))
    return VectorStore(url=request.getfixturevalue("chroma").url)


@pytest.fixture(params=MODES)
def mode(request):
    return request.param


# --- the index's record ------------------------------------------------------------------------

@pytest.fixture
def writer_and_reader(mode, tmp_path, request):
    """A writer's record and a reader's: the same data folder (embedded), or two hosts' copies of one server's."""
    if mode == "embedded":
        pair = [Catalog(tmp_path / "data" / "catalog.sqlite3"), Catalog(tmp_path / "data" / "catalog.sqlite3")]
    else:
        store = request.getfixturevalue("server_store")
        records = ServerRecords(store.client)
        pair = [ReplicatedCatalog(tmp_path / f"host-{h}" / "catalog.sqlite3", lambda: store, lambda: records,
                                  check_every=0.0) for h in "ab"]
    yield pair
    for c in pair:
        c.close()


SECTION = (0, "Intro", ["Issue A", "Intro"], 2, "intro", "**Intro** text", "Intro text", 0.25)


def _served(record):
    return [(s.source, s.path, s.position, s.title, s.date, s.url, s.heading, s.heading_path, s.anchor, s.markdown,
             s.link_share) for s in record.served_sections()]


def test_what_a_writer_commits_a_reader_elsewhere_serves(writer_and_reader):
    writer, reader = writer_and_reader
    writer.catch_up()
    reader.follow()
    before = reader.generation()
    assert reader.served_sections() == [] and writer.stored_model() is None
    with writer.transaction() as db:
        stale = writer.record_issue(db, source="s", path="a.md", hash="h1", status="indexed", title="Issue A",
                                    url="https://x.example/a", date="2024-01-02", sections=[SECTION],
                                    chunks=[("c1", 0, 0, "Intro text")])
    assert stale == []
    writer.set_model("model-1")
    reader.follow()
    assert reader.generation() != before
    assert _served(reader) == [("s", "a.md", 0, "Issue A", "2024-01-02", "https://x.example/a", "Intro",
                                ("Issue A", "Intro"), "intro", "**Intro** text", 0.25)]
    assert reader.served_sections(with_text=True)[0].text == "Intro text"
    assert reader.chunk_refs() == [("c1", "s", "a.md", 0)]
    assert reader.issue_rows("s")["a.md"].hash == "h1" and reader.stored_model() == "model-1"
    # a held issue is recorded but not served; a forgotten one is gone; a re-recorded one gives back its old chunks
    with writer.transaction() as db:
        writer.record_issue(db, source="s", path="b.md", hash="h2", status="held", reason="a draft")
        assert writer.record_issue(db, source="s", path="c.md", hash="h3", status="indexed", sections=[SECTION],
                                   chunks=[("c2", 0, 0, "x")]) == []
    with writer.transaction() as db:
        assert writer.forget_issue(db, "s", "a.md") == ["c1"]
        assert writer.record_issue(db, source="s", path="c.md", hash="h4", status="indexed", sections=[SECTION],
                                   chunks=[("c3", 0, 0, "y")]) == ["c2"]
    reader.follow()
    assert {k: (r.hash, r.status, r.reason) for k, r in reader.issue_rows("s").items()} == {
        "b.md": ("h2", "held", "a draft"), "c.md": ("h4", "indexed", "")}
    assert [(s.path, s.heading) for s in reader.served_sections()] == [("c.md", "Intro")]
    assert reader.chunk_refs() == [("c3", "s", "c.md", 0)]
    # starting over (a new model): once the writer records again, the reader serves only that
    writer.wipe()
    with writer.transaction() as db:
        writer.record_issue(db, source="t", path="d.md", hash="h5", status="indexed", sections=[SECTION])
    reader.follow()
    assert reader.sources() == ["t"] and [s.path for s in reader.served_sections()] == ["d.md"]


# --- the writer's lock -------------------------------------------------------------------------

@pytest.fixture
def two_writers(mode, tmp_path, request):
    """Two processes' writer locks on one index."""
    if mode == "embedded":
        return [FolderWriter(DataDirLock(tmp_path / "data", f"writer-{w}")) for w in "ab"]
    leases = Leases(ServerRecords(request.getfixturevalue("server_store").client))
    return [LeaseWriter(lambda: leases, holder=f"writer-{w}") for w in "ab"]


def test_one_writer_at_a_time_and_the_refusal_names_the_holder(two_writers):
    a, b = two_writers
    a.take()
    with pytest.raises(StoreBusy) as refused:
        b.take()
    assert "writer-a" in str(refused.value)
    a.renew()
    with pytest.raises(StoreBusy):
        b.take()
    a.release()
    b.take()  # the other takes its turn
    with pytest.raises(StoreBusy) as refused:
        a.take()
    assert "writer-b" in str(refused.value)
    b.release()


# --- the announce ledger -----------------------------------------------------------------------

@pytest.fixture
def ledger(mode, tmp_path, request):
    if mode == "embedded":
        state = AnnounceState(tmp_path / "announce.sqlite3")
    else:
        state = ServerAnnounceState(ServerRecords(request.getfixturevalue("server_store").client))
    yield state
    state.close()


def test_a_post_reads_back_the_same_through_its_whole_life(ledger):
    assert not ledger.is_seeded("s") and ledger.rows() == {} and ledger.problems() == []
    ledger.seed("s", [("old.md", "seeded", "", "h0")])
    assert ledger.is_seeded("s") and not ledger.is_seeded("other")
    ledger.add_pending("s", "new.md", "nonce-1", "h1", version=2)
    ledger.attempted("s", "new.md", "HTTP 500", next_attempt=100.0, sent_at=50.0)
    ledger.attempted("s", "new.md", "HTTP 502", next_attempt=200.0, sent_at=60.0)
    row = ledger.rows("s")[("s", "new.md")]
    assert (row.status, row.nonce, row.version, row.attempts, row.next_attempt, row.last_error, row.sent_at) == (
        "pending", "nonce-1", 2, 2, 200.0, "HTTP 502", 50.0)  # the first attempt's time is kept
    assert ledger.problems() == ["1 announcement(s) waiting to be retried (up to 2 attempts so far)"]
    ledger.posted("s", "new.md", channel_id=7, message_id=9, file_hash="h1", post_hash="p1")
    row = ledger.rows("s")[("s", "new.md")]
    assert (row.status, row.channel_id, row.message_id, row.post_hash, row.last_error) == ("posted", 7, 9, "p1", "")
    ledger.touch("s", "new.md", "h2")
    assert (ledger.rows()[("s", "new.md")].file_hash, ledger.rows()[("s", "new.md")].post_hash) == ("h2", "p1")
    ledger.touch("s", "new.md", "h3", "p3")
    assert ledger.rows()[("s", "new.md")].post_hash == "p3"
    # recorded without posting: only what is not recorded yet (or still pending) counts
    ledger.add_pending("s", "waiting.md", "nonce-2", "h5")
    assert ledger.mark_all("s", [("old.md", "h0"), ("new.md", "h3"), ("waiting.md", "h5"), ("later.md", "h4")]) == 2
    assert {k[1]: r.status for k, r in ledger.rows("s").items()} == {
        "old.md": "seeded", "new.md": "posted", "waiting.md": "seeded", "later.md": "seeded"}
    assert ledger.rows("other") == {}
    # a channel that refuses posts: one backoff, counted, shown, then cleared
    assert ledger.channel_error(7) is None
    ledger.set_channel_error(7, "403 Missing Access", 300.0)
    ledger.set_channel_error(7, "403 Missing Access", 600.0)
    assert ledger.channel_error(7) == ("403 Missing Access", 600.0, 2)
    (problem,) = ledger.problems()
    assert problem.startswith("channel 7: 403 Missing Access (failing since ") and problem.endswith(", 2 attempts)")
    ledger.clear_channel_error(7)
    assert ledger.channel_error(7) is None and ledger.problems() == []
