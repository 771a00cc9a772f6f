"""Incremental indexing with the real model, real Chroma and real SQLite."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from index.embedding.model import Embedder
from index.indexing.indexer import Indexer

from .conftest import IndexEnv


def _served_ids(env: IndexEnv) -> set[str]:
    return env.catalog.all_chunk_ids()


def test_first_run_indexes_published_issues_and_holds_back_the_rest(index_env, samples, spec_for):
    s = index_env.indexer.reindex([spec_for(samples)])
    assert (s.new, s.changed, s.unchanged, s.removed) == (3, 0, 0, 0)
    held = {r.path: r.reason for r in s.held_back}
    assert held.keys() == {"nov_9.md", "dec_7.md"}
    assert "draft" in held["nov_9.md"] and "scheduled" in held["dec_7.md"]
    assert s.failed == []
    assert s.sections == index_env.catalog.count("sections") > 10
    # every served chunk has its vector, and nothing else is in the store
    assert index_env.store().count() == len(_served_ids(index_env)) == s.chunks_embedded
    meta = index_env.store().query(index_env.embedder.encode_query("layer skip early exit"), 1)[0].metadata
    assert meta["source"] == "examples" and meta["path"] == "oct_26.md" and meta["date"] == "2024-10-26"
    assert meta["url"] == "https://newsletter.example.org/issues/oct_26#layerskip-early-exit-and-self-speculative-decoding"
    assert meta["heading"].startswith("LayerSkip") and meta["title"] == "Oct 26 Weekly Newsletter"


def test_unchanged_run_skips_everything_without_loading_the_model(index_env, samples, spec_for, tmp_path):
    index_env.indexer.reindex([spec_for(samples)])
    fresh = Embedder()  # a new process would start with no model loaded
    indexer = Indexer(index_env.catalog, index_env.store, fresh)
    s = indexer.reindex([spec_for(samples)])
    assert (s.new, s.changed, s.unchanged, s.removed, s.chunks_embedded) == (0, 0, 3, 0, 0)
    assert len(s.held_back) == 2
    assert not fresh.loaded and not s.model_loaded


def test_changed_issue_is_replaced_and_only_it_is_embedded(index_env, samples, spec_for):
    spec = spec_for(samples)
    index_env.indexer.reindex([spec])
    before = {r[0]: r[1] for r in index_env.catalog.execute("SELECT id, path FROM chunks")}
    f = samples / "sep_28.md"
    f.write_text(f.read_text().replace("FineWeb", "FineWeb-Edu"), encoding="utf-8")
    s = index_env.indexer.reindex([spec])
    assert (s.new, s.changed, s.unchanged) == (0, 1, 2)
    sep_chunks = index_env.catalog.chunk_ids("examples", "sep_28.md")
    assert s.chunks_embedded == len(sep_chunks)
    after = {r[0]: r[1] for r in index_env.catalog.execute("SELECT id, path FROM chunks")}
    # other issues keep their chunks; the changed one has new ids and the old vectors are gone
    assert {i for i, p in before.items() if p != "sep_28.md"} <= after.keys()
    assert not ({i for i, p in before.items() if p == "sep_28.md"} & after.keys())
    assert index_env.store().count() == len(after)
    assert any("FineWeb-Edu" in t for (t,) in index_env.catalog.execute("SELECT text FROM sections"))


def test_deleted_and_unpublished_issues_are_removed(index_env, samples, spec_for):
    spec = spec_for(samples)
    index_env.indexer.reindex([spec])
    (samples / "sep_28.md").unlink()
    oct12 = samples / "oct_12.md"
    oct12.write_text(oct12.read_text().replace("draft: false", "draft: true"), encoding="utf-8")
    s = index_env.indexer.reindex([spec])
    assert s.removed == 1
    assert {r.path for r in s.held_back} == {"nov_9.md", "dec_7.md", "oct_12.md"}
    paths = {r[0] for r in index_env.catalog.execute("SELECT DISTINCT path FROM chunks")}
    assert paths == {"oct_26.md"}
    assert index_env.store().count() == len(_served_ids(index_env))


def test_draft_switched_off_and_scheduled_date_reached_become_indexed(index_env, samples, spec_for):
    spec = spec_for(samples)
    index_env.indexer.reindex([spec])
    nov9 = samples / "nov_9.md"
    nov9.write_text(nov9.read_text().replace("draft: true", "draft: false"), encoding="utf-8")
    s = index_env.indexer.reindex([spec])
    assert s.new == 1 and {r.path for r in s.held_back} == {"dec_7.md"}
    # the clock reaches the scheduled date: the unchanged file is published now
    index_env.indexer.clock = lambda: dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
    s = index_env.indexer.reindex([spec])
    assert s.new == 1 and s.held_back == []
    assert index_env.catalog.chunk_ids("examples", "dec_7.md")


def test_bad_files_are_named_and_nothing_else_is_lost(index_env, samples, spec_for):
    (samples / "binary.md").write_bytes(b"\x89PNG\x00\x00\x00")
    (samples / "latin1 [odd] name.Md").write_bytes("---\ntitle: Caf\xe9 issue\n---\n## Caf\xe9\nCr\xe8me text.".encode("cp1252"))
    (samples / "huge.md").write_bytes(b"## Huge\n" + b"word " * 1_300_000)
    (samples / "broken.md").write_text('---\ntitle: "Broken "quoted" title"\ndate: 2024-01-01\n---\n## Works\nStill indexed.')
    s = index_env.indexer.reindex([spec_for(samples)])
    failed = {r.path: r.reason for r in s.failed}
    assert set(failed) == {"binary.md", "huge.md"}
    assert "binary" in failed["binary.md"] and "too large" in failed["huge.md"]
    warned = {r.path for r in s.warnings}
    assert {"latin1 [odd] name.Md", "broken.md"} <= warned
    assert s.new == 5
    titles = {r[0] for r in index_env.catalog.execute("SELECT title FROM issues WHERE status = 'indexed'")}
    assert "Café issue" in titles


def test_missing_source_folder_keeps_what_was_indexed(index_env, samples, spec_for, tmp_path):
    index_env.indexer.reindex([spec_for(samples)])
    count = index_env.catalog.count("chunks")
    s = index_env.indexer.reindex([spec_for(tmp_path / "gone")])
    assert s.missing and "does not exist" in s.missing[0].reason and not s.failed
    assert s.removed == 0 and index_env.catalog.count("chunks") == count


def test_model_change_rebuilds_everything(index_env, samples, spec_for):
    spec = spec_for(samples)
    index_env.indexer.reindex([spec])
    other = Embedder(str(index_env.embedder.model_name).lower())  # same weights, another identity
    other._encoder = index_env.embedder.load()
    s = Indexer(index_env.catalog, index_env.store, other).reindex([spec])
    assert s.new == 3 and s.unchanged == 0
    assert index_env.catalog.get_meta("model") == other.identity


def test_long_sections_are_windowed_without_losing_text(index_env, samples, spec_for):
    words = " ".join(f"w{i}" for i in range(1200))
    (samples / "long.md").write_text(f"---\ntitle: Long\ndate: 2024-02-02\n---\n## Long one\n{words} final-word.\n")
    index_env.indexer.reindex([spec_for(samples)])
    rows = index_env.catalog.execute(
        "SELECT window, text FROM chunks WHERE path = 'long.md' ORDER BY window").fetchall()
    assert len(rows) > 3
    tok = index_env.embedder.tokenizer()
    limit = index_env.embedder.max_tokens
    for _, text in rows:
        assert len(tok(text)["input_ids"]) <= limit
        assert text.startswith("Long one\n")
    seen = set()
    for _, text in rows:
        seen.update(re.findall(r"w\d+", text))
    assert seen == {f"w{i}" for i in range(1200)}
    assert "final-word" in rows[-1][1]


def test_full_rebuild_re_embeds_in_place_and_sweeps_stray_vectors(index_env, samples, spec_for):
    import numpy as np

    spec = spec_for(samples)
    index_env.indexer.reindex([spec])
    ids_before = index_env.catalog.all_chunk_ids()
    dim = index_env.embedder.encode_query("x").shape[0]
    index_env.store().upsert(["stray-1"], np.ones((1, dim), dtype=np.float32) / np.sqrt(dim), [{"source": "gone"}])
    s = index_env.indexer.reindex([spec], full=True)
    assert (s.new, s.changed, s.reembedded, s.unchanged) == (0, 0, 3, 0)  # re-embedded, not "changed"
    assert s.chunks_embedded == len(ids_before)
    assert index_env.catalog.all_chunk_ids() == ids_before  # same content, same ids: served throughout
    assert index_env.store().all_ids() == ids_before  # the stray vector is gone


def test_a_run_stopped_for_shutdown_stops_at_its_next_step_and_the_next_run_finishes(index_env, samples, spec_for):
    from index.indexing.indexer import ReindexStopped

    spec = spec_for(samples)

    def stop_soon(step):
        if step.issues_done >= 1:
            index_env.indexer.stopping.set()  # as bot run's shutdown does

    with pytest.raises(ReindexStopped):
        index_env.indexer.reindex([spec], progress=stop_soon)
    index_env.indexer.stopping.clear()
    s = index_env.indexer.reindex([spec])
    assert s.new == 3 and not s.failed
    assert index_env.store().all_ids() == index_env.catalog.all_chunk_ids()  # nothing half-written is left
