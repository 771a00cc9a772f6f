"""The question record in server mode: two record objects on one real Chroma server (two "hosts", each its own
client and data folder) agree on questions, votes, forgetting and pruning; nothing is made when disabled."""

from __future__ import annotations

import io
import json
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from bot.cli import main
from bot.feedback.record import Vote, encoded_text
from bot.feedback.server_copy import FILE_NAME as COPY_NAME
from bot.feedback.server_record import COLLECTION, KEY, ServerQuestionRecord
from bot.services import build_services, open_question_record
from bot.settings import load_settings
from index.search.retriever import Answer, Filters, Result
from index.store.server.records import ServerRecords
from index.store.vectors import VectorStore
from tests.conftest import write_config

pytestmark = [pytest.mark.slow, pytest.mark.chroma_server]
GAP = "Where is the issue about knitting machines?"


def _answer(no_match: bool = False, score: float = 0.8) -> Answer:
    hit = Result(source="examples", path="oct_26.md", title="Oct 26", date=None, heading="LayerSkip",
                 heading_path=("LayerSkip",), url="", snippet="s", score=score)
    return Answer("q", no_match, [] if no_match else [hit], "nothing close" if no_match else "")


def _host(tmp_path, name, url, embedder, extra="", copy=False):
    cfg = write_config(tmp_path / f"{name}.toml", tmp_path / f"data-{name}", [],
                       extra=f'[chroma]\nurl = "{url}"\n{extra}')
    store = VectorStore(url=url)  # a host's own client

    def make():
        return ServerQuestionRecord(store.client, ServerRecords(store.client), keep_days=180,
                                    encode=embedder.encode, model=embedder.identity,
                                    copy=tmp_path / f"data-{name}" / COPY_NAME if copy else None)
    return cfg, make


def test_two_hosts_agree_on_questions_votes_forgetting_and_pruning(tmp_path, chroma, embedder):
    cfg_a, make_a = _host(tmp_path, "a", chroma.url, embedder)
    cfg_b, make_b = _host(tmp_path, "b", chroma.url, embedder, copy=True)  # b reads through its copy
    with ThreadPoolExecutor(2) as pool:  # both hosts start at once: one secret for readers stays
        a, b = (f.result() for f in [pool.submit(make_a), pool.submit(make_b)])
    assert a.reader(111) == b.reader(111) != a.reader(222)
    assert not (tmp_path / "data-a" / "feedback.key").exists()  # the secret is the shared store's

    now = time.time()
    q1 = a.add("ask", 111, GAP, Filters(), _answer(no_match=True), now=now - 60)
    q2 = a.add("mention", 222, "What is LayerSkip?", Filters(source="examples"), _answer(), now=now - 50)
    q3 = b.add("ask", 111, "How does self-speculative decoding work?", Filters(), _answer(), now=now - 40)
    assert None not in (q1, q2, q3) and len({q1, q2, q3}) == 3
    for record in (a, b):
        assert [e.question for e in record.entries()] == [GAP, "What is LayerSkip?",
                                                          "How does self-speculative decoding work?"]
        assert record.counts(now - 3600, now + 1)["questions"] == 3
        assert record.counts(now - 3600, now + 1)["no_match"] == 1

    # a vote cast through one host is seen by the other; one per reader, changed in place
    assert b.vote(q1, 333, Vote(-1, "not_covered", "I wanted the knitting one"))
    assert a.vote_of(q1, 333) == Vote(-1, "not_covered", "I wanted the knitting one")
    assert a.thumbs_down() == [(GAP, "not_covered", "I wanted the knitting one")]
    assert a.vote(q1, 333, Vote(1))
    assert b.vote_of(q1, 333) == Vote(1) and b.thumbs_down() == []
    assert a.vote(q2, 111, Vote(-1, "wrong_issue"))
    counts = b.counts(now - 3600, now + 3600)
    assert (counts["up"], counts["down"]) == (1, 1)
    assert [(e.up, e.down) for e in b.entries()] == [(1, 0), (0, 1), (0, 0)]

    # the vectors kept by one host serve the other: nothing is encoded again
    def no_encoding(texts):
        raise AssertionError(f"encoded again: {texts}")
    entries = b.entries()
    vectors = b.vectors(entries, embedder.identity, no_encoding)
    assert vectors.shape == (3, len(embedder.encode(["x"])[0]))
    assert np.allclose(vectors[0], embedder.encode([encoded_text(GAP)])[0], atol=1e-4)

    # `bot gaps` on host b reports every host's questions
    out = io.StringIO()
    from bot.cli.gaps import run_gaps
    assert run_gaps(load_settings(cfg_b), as_json=True, embedder=embedder, stdout=out) == 0
    report = json.loads(out.getvalue())
    assert report["questions"] == 3 and report["gap_questions"] == 2
    assert {"question": "What is LayerSkip?", "why": "wrong_issue", "note": ""} in report["thumbs_down"]

    # forgetting a reader through host b's `bot gaps` takes their questions, the votes on them, and their votes
    out = io.StringIO()
    assert run_gaps(load_settings(cfg_b), forget_user=111, stdout=out) == 0
    assert out.getvalue().strip() == "forgot 2 questions of user 111"
    assert [e.question for e in a.entries()] == ["What is LayerSkip?"]
    copy = sqlite3.connect(tmp_path / "data-b" / COPY_NAME).execute("SELECT meta FROM questions").fetchall()
    assert [json.loads(m)["question"] for (m,) in copy] == ["What is LayerSkip?"]  # gone from b's copy at once
    assert all("reader" not in json.loads(m) for (m,) in copy)
    assert [e.question for e in b.entries()] == ["What is LayerSkip?"]
    assert a.vote_of(q1, 333) is None and a.vote_of(q2, 111) is None
    assert not a.vote(q1, 333, Vote(1))  # the question is no longer on record
    assert a.counts(now - 3600, now + 3600) == {"questions": 1, "no_match": 0, "weak": 0, "up": 0, "down": 0}

    # keep_days prunes on every host's behalf
    old = b.add("ask", 444, "An old question about punch cards", Filters(), _answer(), now=now - 200 * 86400)
    assert a.vote(old, 555, Vote(-1, "other"))
    assert len(a.entries()) == 2
    assert a.prune(now) == 1
    assert [e.question for e in b.entries()] == ["What is LayerSkip?"] and b.vote_of(old, 555) is None
    assert open_question_record(load_settings(cfg_a)).reader(111) == a.reader(111)


def test_nothing_is_made_in_the_server_when_feedback_is_disabled(tmp_path, chroma, embedder):
    cfg, _ = _host(tmp_path, "off", chroma.url, embedder, extra="\n[feedback]\nenabled = false\n")
    settings = load_settings(cfg)
    services = build_services(settings, purpose="test", embedder=embedder)
    try:
        assert services.question_record(services.retriever()) is None
    finally:
        services.close()
    assert open_question_record(settings) is None
    assert main(["--config", str(cfg), "gaps", "--json"]) == 0
    client = VectorStore(url=chroma.url).client
    names = {c if isinstance(c, str) else c.name for c in client.list_collections()}
    assert COLLECTION not in names and ServerRecords(client).get(KEY) is None


def test_bot_gaps_of_another_host_reads_the_server_without_chromadb_or_the_model(tmp_path, chroma, embedder):
    """`bot gaps` as a process on a host of the installation: the report over the server's questions, with neither
    chromadb's client (1.5-3.5 s to import under load) nor the model (every question's vector is kept) loaded."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    _, make_a = _host(tmp_path, "a", chroma.url, embedder)
    cfg_b, _ = _host(tmp_path, "b", chroma.url, embedder)
    a = make_a()
    now = time.time()
    a.add("ask", 111, GAP, Filters(), _answer(no_match=True), now=now - 60)
    a.add("ask", 222, "Which issue covered knitting machines?", Filters(), _answer(no_match=True), now=now - 50)
    a.add("ask", 333, "What is LayerSkip?", Filters(), _answer(), now=now - 40)
    probe = ("import json, sys\nfrom bot.cli import main\ncode = main(['--config', sys.argv[1], 'gaps', '--json'])\n"
             "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'chromadb', 'onnxruntime', 'torch',"
             " 'sentence_transformers', 'bm25s', 'scipy'})\nprint(json.dumps({'code': code, 'loaded': heavy}))")
    done = subprocess.run([sys.executable, "-c", probe, str(cfg_b)], capture_output=True, text=True, timeout=120,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    report_text, probe_text = done.stdout.rsplit("\n{", 1)
    assert json.loads("{" + probe_text) == {"code": 0, "loaded": []}
    report = json.loads(report_text)
    assert report["questions"] == 3 and report["gap_questions"] == 2
    assert (tmp_path / "data-b" / COPY_NAME).exists()  # read through b's copy


def test_the_rest_client_and_chromadbs_see_one_collection_alike(chroma):
    from index.store.server.rest import RestClient

    full = VectorStore(url=chroma.url).client
    ServerRecords(full)
    light = RestClient(chroma.url)
    with pytest.raises(LookupError):
        ServerQuestionRecord(light, ServerRecords(light), keep_days=180)  # it makes no collection
    mine, theirs = ServerRecords(light), ServerRecords(full)
    assert mine.put_new("k", {"kind": "x", "n": 1}) == {"kind": "x", "n": 1}
    assert theirs.put_new("k", {"kind": "x", "n": 2}) == {"kind": "x", "n": 1}  # the first stays, either way
    mine.put(["a", "b"], [{"kind": "y", "at": 1.5, "ok": True}, {"kind": "y", "at": 3.0, "ok": False}])
    assert theirs.find({"kind": "y"}) == mine.find({"kind": "y"}) and len(mine.find({"kind": "y"})) == 2
    assert mine.delete_where({"$and": [{"kind": "y"}, {"at": {"$lt": 2.0}}]}) == 1
    assert [m["at"] for m in theirs.find({"kind": "y"})] == [3.0]
    col = full.get_or_create_collection("backissue-rest-test", embedding_function=None)
    col.add(ids=["1"], embeddings=[[0.5, 0.25]], metadatas=[{"model": "m"}])
    got = light.get_collection("backissue-rest-test").get(ids=["1"], include=["metadatas", "embeddings"])
    assert got["metadatas"] == [{"model": "m"}] and np.allclose(got["embeddings"][0], [0.5, 0.25])
    light.get_collection("backissue-rest-test").update(ids=["1"], embeddings=[np.array([1.0, 2.0])],
                                                       metadatas=[{"model": "n"}])
    again = col.get(ids=["1"], include=["metadatas", "embeddings"])
    assert again["metadatas"] == [{"model": "n"}] and np.allclose(again["embeddings"][0], [1.0, 2.0])
