"""`bot gaps` over 10,000 recorded questions: how long it takes, cold (every question still to encode) and warm.

The questions are synthesized from tests/data/gap_questions.jsonl and a few questions the samples answer,
through paraphrase templates (a greeting, a lead-in, a thank-you, lower case); each base question is answered
once by the real retriever over the bundled samples, and its variants are recorded with that answer through
the real QuestionRecord (so weak matches are judged on their own words). One in a hundred answered questions
gets a 👎. Then ``python -m bot gaps`` runs as a process, twice: the first run encodes and keeps every
question's vector, the second reads them back. The issue asks for under 2 s.

Then the same in server mode: a real Chroma server (``chroma run``, as the tests start it) gets the same
questions through the real ServerQuestionRecord (each with the vector the SQLite record kept, as a search would
have given it) and the same 👎, and ``python -m bot gaps`` runs as a process of a host whose ``[chroma] url``
names it. Also printed, to compare: how long a process takes only to import chromadb (`bot gaps` no longer
does: it reads the server over its HTTP API, index/store/server/rest.py).

    python benchmarks/bench_gaps.py [--n 10000] [--keep DIR] [--no-server]

``--keep DIR`` builds the record in DIR and leaves it there; a later run with the same DIR times it again.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import ROOT

ANSWERABLE = ["How does speculative decoding work?", "What is LayerSkip?", "quantization of big models",
              "What is FineWeb?", "How do mixture of experts models route tokens?", "Can robots feel touch?",
              "Do byte-level models need a tokenizer?", "How do vision-language models read charts?"]
LEADS = ["", "Quick question: ", "Hi! ", "Does anyone know: ", "I was wondering, ", "Hey bot, ", "Sorry if this is"
         " obvious, but ", "Question for the archive: ", "Curious: ", "Can you tell me: ", "Hello, ", "Help: "]
TAILS = ["", " Thanks!", " Thank you.", " Any issue on that?", " (asking for a friend)", " Cheers."]
CASES = [str, str.lower]


def _variants(question: str) -> list[str]:
    out = []
    for lead, tail, case in itertools.product(LEADS, TAILS, CASES):
        body = question if not lead or question[1:2].isupper() else question[0].lower() + question[1:]
        out.append(case(f"{lead}{body}{tail}"))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--keep", type=Path, help="build the record here and keep it; reuse it if already built")
    ap.add_argument("--no-server", action="store_true", help="skip the server-mode run")
    args = ap.parse_args()
    from bot.feedback.record import FILE_NAME, QuestionRecord
    from bot.services import build_services
    from bot.settings import load_settings
    from index.search.retriever import Filters

    work = args.keep or Path(tempfile.mkdtemp(prefix="backissue-bench-gaps-"))
    if args.keep and (work / "data" / FILE_NAME).exists():
        _time(work / "bot.toml")
        if not args.no_server and (work / "server.toml").exists():
            _time_server(work)
        return
    work.mkdir(parents=True, exist_ok=True)
    shutil.copytree(ROOT / "examples", work / "issues")
    data = work / "data"
    cfg = work / "bot.toml"
    cfg.write_text(f'data_dir = "{data}"\n\n[[sources]]\nname = "examples"\npath = "{work / "issues"}"\n'
                   'base_url = "https://newsletter.example.org/issues/"\nexclude = ["README.md"]\n')
    settings = load_settings(cfg)
    services = build_services(settings, purpose="bench")
    services.indexer.reindex(settings.source_specs())
    retriever = services.retriever()
    gap_set = [json.loads(line)["question"] for line in (ROOT / "tests" / "data" / "gap_questions.jsonl")
               .read_text().splitlines() if line.strip()]
    base = gap_set + ANSWERABLE
    answers = {q: retriever.search(q) for q in base}
    model = services.embedder.identity
    services.close()
    rng = random.Random(14)
    pool = [(q, v) for q in base for v in _variants(q)]
    # a fifth of the questions are ones the samples answer, as in a working archive
    answered = [p for p in pool if p[0] in ANSWERABLE]
    unanswered = [p for p in pool if p[0] not in ANSWERABLE]
    picked = rng.sample(answered, min(len(answered), args.n // 5))
    picked += rng.sample(unanswered, min(len(unanswered), args.n - len(picked)))
    while len(picked) < args.n:
        picked.append(rng.choice(pool))
    record = QuestionRecord(data, keep_days=180)
    now = time.time() - 30 * 86400
    started = time.perf_counter()
    for n, (q, text) in enumerate(picked):
        record.add("ask", n % 700, text, Filters(), answers[q], now=now + n * 60)
    print(f"recorded {len(picked)} questions in {time.perf_counter() - started:.1f} s")
    record.close()
    db = sqlite3.connect(data / FILE_NAME)
    ids = [r[0] for r in db.execute("SELECT id FROM questions WHERE no_match = 0 AND weak = 0")]
    down = ids[::100]
    db.executemany("INSERT INTO votes (question_id, reader, vote, at) VALUES (?, 'r', -1, 0)", [(i,) for i in down])
    db.commit()
    no_match, weak = db.execute("SELECT sum(no_match), sum(weak) FROM questions").fetchone()
    distinct = db.execute("SELECT count(DISTINCT lower(question)) FROM questions").fetchone()[0]
    db.close()
    print(f"  {no_match} no-match, {weak} weak, {len(down)} 👎; {distinct} distinct texts")
    _time(cfg)
    if not args.no_server:
        _server_mode(work, data, model, picked, answers, now, set(down))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


def _not_kept(texts: list[str]) -> None:
    raise RuntimeError(f"{len(texts)} questions have no vector kept")


def _server_mode(work: Path, data: Path, model: str, picked: list[tuple[str, str]], answers: dict, now: float,
                 down: set[int]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from bot.feedback.record import QuestionRecord, Vote, encoded_text
    from bot.feedback.server_record import ServerQuestionRecord
    from index.search.retriever import Filters
    from index.store.server.records import ServerRecords
    from index.store.vectors import VectorStore
    from tests.chroma_server import ChromaServer

    local = QuestionRecord(data, keep_days=180)
    entries = local.entries()
    vectors = local.vectors(entries, model, _not_kept)
    local.close()
    by_text = {encoded_text(e.question): v for e, v in zip(entries, vectors, strict=True)}
    server = ChromaServer(work / "chroma-server")
    try:
        store = VectorStore(url=server.url)
        shared = ServerQuestionRecord(store.client, ServerRecords(store.client), keep_days=180,
                                      vector_of=by_text.get, model=model)
        started = time.perf_counter()

        def add(n: int) -> int | None:
            q, text = picked[n]
            return shared.add("ask", n % 700, text, Filters(), answers[q], now=now + n * 60)

        with ThreadPoolExecutor(4) as pool:
            ids = list(pool.map(add, range(len(picked))))
        for n, e in enumerate(entries):
            if e.id in down and ids[n] is not None:
                shared.vote(ids[n], 10_000 + n, Vote(-1, "other"))
        print(f"\nserver mode: recorded {sum(i is not None for i in ids)} questions in the Chroma server in"
              f" {time.perf_counter() - started:.1f} s")
        (work / "server.toml").write_text((work / "bot.toml").read_text().replace(
            f'data_dir = "{data}"', f'data_dir = "{work / "data-b"}"') + '\n[chroma]\nurl = "URL"\n')
    finally:
        server.stop()
    _time_server(work)


def _time_server(work: Path) -> None:
    """`bot gaps` of another host against the server: as a process, and in one (as /gaps in a running bot)."""
    import io

    from bot.cli.gaps import run_gaps
    from bot.settings import load_settings
    from tests.chroma_server import ChromaServer

    server = ChromaServer(work / "chroma-server")
    try:
        cfg = work / "server-now.toml"
        cfg.write_text((work / "server.toml").read_text().replace('"URL"', f'"{server.url}"'))
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import chromadb"], check=True)
        print(f"\nserver mode: importing chromadb alone takes a process {time.perf_counter() - started:.2f} s")
        _time(cfg, runs=("another host, first run", "another host, again", "another host, again"))
        settings = load_settings(cfg)
        took = []
        for _ in range(3):
            started = time.perf_counter()
            run_gaps(settings, as_json=True, stdout=io.StringIO())
            took.append(time.perf_counter() - started)
        print(f"in a running process (chromadb loaded, as /gaps): {', '.join(f'{t:.2f}' for t in took)} s")
    finally:
        server.stop()


def _time(cfg: Path, runs: tuple[str, ...] = ("first run (encodes every question not kept yet)", "warm (vectors kept)",
                                                "warm again")) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    figures = []
    for label in runs:
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "bot", "--config", str(cfg), "gaps", "--json"], env=env,
                              capture_output=True, text=True, check=True)
        took = time.perf_counter() - started
        figures.append(took)
        report = json.loads(done.stdout)
        print(f"bot gaps, {label}: {took:.2f} s — {report['questions']} questions, {len(report['gaps'])} gap groups"
              f" (biggest {report['gaps'][0]['count']}), {len(report['answered'])} answered topics")
    print(f"\nwarm: {min(figures[1:]):.2f} s (target < 2 s): {'ok' if min(figures[1:]) < 2 else 'TOO SLOW'}")


if __name__ == "__main__":
    main()
