"""Export sources: a Substack export (folder or zip) and a Ghost JSON export, alone and with the newsletter's feed."""

from __future__ import annotations

import datetime as dt
import json
import zipfile

import pytest

from index.reading.exports import sync_export
from index.reading.feeds import FeedMirror, FeedSource, entry_key
from index.reading.issue import SourceSpec
from tests.conftest import CORPORA, needs_shared
from tests.feed_samples import Entry, body, rss2
from tests.feed_server import FeedServer

SUBSTACK = "https://seedlings.substack.com"
GHOST = "https://seedlings.ghost.io"
CSV_HEAD = "post_id,post_date,is_published,email_sent_at,inbox_sent_at,type,audience,title,subtitle,podcast_url\n"


def substack_export(folder, posts):
    """posts: (n, is_published, audience); post n is about seedling note n."""
    (folder / "posts").mkdir(parents=True)
    rows = []
    for n, published, audience in posts:
        post_id = f"{1000 + n}.seedling-notes-{n}"
        date = f"2024-0{1 + n % 8}-0{1 + n % 8}T08:00:00.000Z" if published else ""
        rows.append(f'{post_id},{date},{"true" if published else "false"},,,newsletter,{audience},'
                    f'"Seedling notes {n}","A teaser, for note {n}",\n')
        (folder / "posts" / f"{post_id}.html").write_text(body(n), encoding="utf-8")
    (folder / "posts.csv").write_text(CSV_HEAD + "".join(rows), encoding="utf-8")
    return folder


def ghost_export(path, posts):
    """posts: (n, status, visibility, published_at)."""
    items = [{"id": f"65f0c0ffee{n:04d}", "slug": f"seedling-notes-{n}", "title": f"Seedling notes {n}", "type": "post",
              "status": status, "visibility": visibility, "published_at": at, "html": body(n),
              "custom_excerpt": f"Teaser {n}", "feature_image": None} for n, status, visibility, at in posts]
    items.append({"id": "65f0c0ffeepage", "slug": "about", "title": "About", "type": "page", "status": "published",
                  "visibility": "public", "published_at": "2024-01-01T00:00:00.000Z", "html": "<p>About us</p>"})
    path.write_text(json.dumps({"db": [{"meta": {"version": "5.80.0"}, "data": {"posts": items}}]}), encoding="utf-8")
    return path


def spec(root):
    return SourceSpec(name="garden", path=root / "entries", kind="feed")


def states(index_env) -> dict[str, tuple[str, str]]:
    """url -> (status, reason) of every issue row."""
    return {r[0]: (r[1], r[2]) for r in index_env.catalog.execute("SELECT url, status, reason FROM issues")}


def test_a_substack_export_folder_or_zip_indexes_published_posts_and_holds_drafts_back(tmp_path, index_env):
    folder = substack_export(tmp_path / "export", [(1, True, "everyone"), (2, False, "everyone"), (3, True, "only_paid"),
                                                   (4, True, "everyone")])
    root = tmp_path / "data" / "feeds" / "garden"
    st = sync_export(root, folder, SUBSTACK, entry_key)
    assert st.error == "" and st.posts == 3
    assert st.skipped == ["1003.seedling-notes-3: paid-only post (audience=only_paid); not indexed"]
    summary = index_env.indexer.reindex([spec(root)])
    assert summary.new == 2 and [(r.source, r.reason) for r in summary.held_back] == [
        ("garden", "draft (is_published is false in posts.csv)")]
    assert any("paid-only" in r.reason for r in summary.failed)  # named with its reason
    assert states(index_env) == {f"{SUBSTACK}/p/seedling-notes-1": ("indexed", ""),
                                 f"{SUBSTACK}/p/seedling-notes-4": ("indexed", ""),
                                 f"{SUBSTACK}/p/seedling-notes-2": ("held", "draft (is_published is false in posts.csv)")}
    # the same export as the zip Substack hands out, inside a folder of its own: the same entries
    zipped = tmp_path / "export.zip"
    with zipfile.ZipFile(zipped, "w") as z:
        for p in folder.rglob("*"):
            z.write(p, f"seedlings-export/{p.relative_to(folder)}")
    other = tmp_path / "other"
    sync_export(other, zipped, SUBSTACK, entry_key)
    assert sorted(p.read_bytes() for p in (other / "entries").iterdir()) == sorted(
        p.read_bytes() for p in (root / "entries").iterdir())


def test_a_ghost_export_holds_drafts_and_scheduled_posts_and_leaves_members_posts_out(tmp_path, index_env):
    future = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3)).isoformat()
    path = ghost_export(tmp_path / "ghost.json", [(1, "published", "public", "2024-02-01T08:00:00.000Z"),
                                                  (2, "draft", "public", None), (3, "scheduled", "public", future),
                                                  (4, "published", "members", "2024-03-01T08:00:00.000Z")])
    root = tmp_path / "data" / "feeds" / "garden"
    st = sync_export(root, path, GHOST, entry_key)
    assert st.posts == 3 and st.skipped == ["seedling-notes-4: members-only post; not indexed"]
    index_env.indexer.reindex([spec(root)])
    got = states(index_env)
    assert got[f"{GHOST}/seedling-notes-1/"] == ("indexed", "")
    assert got[f"{GHOST}/seedling-notes-2/"] == ("held", "draft (status in the Ghost export)")
    assert got[f"{GHOST}/seedling-notes-3/"][0] == "held" and got[f"{GHOST}/seedling-notes-3/"][1].startswith("scheduled for")
    assert f"{GHOST}/about/" not in got  # a page, not an issue


def test_a_feed_and_an_export_of_one_newsletter_cite_each_post_once(tmp_path, index_env):
    """The feed shows the newest posts (GUID = the post's URL, as Substack's does); the export has them all."""
    server = FeedServer().start()
    try:
        newest = [Entry(n, guid=f"{SUBSTACK}/p/seedling-notes-{n}", link=f"{SUBSTACK}/p/seedling-notes-{n}") for n in (3, 4)]
        server.put("/feed", rss2(newest))
        root = tmp_path / "data" / "feeds" / "garden"
        FeedMirror(FeedSource("garden", server.url("/feed")), root).sync(force=True)
        folder = substack_export(tmp_path / "export", [(n, True, "everyone") for n in (1, 2, 3, 4)])
        sync_export(root, folder, SUBSTACK, entry_key)
        summary = index_env.indexer.reindex([spec(root)])
        assert summary.new == 4, summary
        assert sorted(states(index_env)) == [f"{SUBSTACK}/p/seedling-notes-{n}" for n in (1, 2, 3, 4)]
        feed_copy = json.loads((root / "entries" / f"{entry_key(f'{SUBSTACK}/p/seedling-notes-3')}.entry.json").read_text())
        assert "origin" not in feed_copy  # the feed's copy stands
        assert index_env.catalog.execute("SELECT COUNT(*) FROM issues").fetchone()[0] == 4  # no post twice
        hits = index_env.retriever().search("aphids broad beans soapy water nasturtiums", k=10)
        pests = [r.url.split("#")[0] for r in hits.results if r.heading == "Pests"]
        assert len(pests) == len(set(pests)) == 4  # each post's section once
    finally:
        server.stop()


def test_an_export_that_is_not_one_is_reported_by_its_file(tmp_path):
    (tmp_path / "notes.json").write_text('{"posts": []}', encoding="utf-8")
    st = sync_export(tmp_path / "root", tmp_path / "notes.json", GHOST, entry_key)
    assert st.error == f"{tmp_path / 'notes.json'}: not a Ghost export (no db[0].data.posts)"
    st = sync_export(tmp_path / "root", tmp_path / "missing", SUBSTACK, entry_key)
    assert st.error == f"export {tmp_path / 'missing'} does not exist"
    folder = substack_export(tmp_path / "export", [(1, True, "everyone")])
    st = sync_export(tmp_path / "root", folder, "", entry_key)
    assert "needs the source's base_url" in st.error


REAL_EXPORT = CORPORA / "feeds" / "export-substack-rod-machen"


@needs_shared
@pytest.mark.corpora
@pytest.mark.skipif(not REAL_EXPORT.is_dir(), reason=f"no Substack export at {REAL_EXPORT} (see BACKISSUE_SHARED)")
def test_the_real_substack_export_has_13_published_posts_and_8_drafts(tmp_path):
    from index.reading.issue import parse_issue

    root = tmp_path / "garden"
    st = sync_export(root, REAL_EXPORT, "https://edition.rodmachen.com", entry_key)
    assert st.error == "" and st.posts == 21 and st.skipped == []
    now = dt.datetime.now(dt.timezone.utc)
    issues = [parse_issue(p.read_bytes(), p.name, spec(root), now) for p in sorted((root / "entries").iterdir())]
    published = [i for i in issues if i.publication.published]
    assert len(published) == 13 and all(i.sections and i.date for i in published)
    assert {i.publication.reason for i in issues if not i.publication.published} == {"draft (is_published is false in posts.csv)"}
    assert all(not s.anchor for i in published for s in i.sections)  # Substack gives its headings no ids
