"""Follow-up retrieval: recall@3 of follow-up questions with their conversation's context and without, in one run.

Two sets of pairs, each a first question and a follow-up that leans on it ("who released it?"):

- the bundled samples (``tests/data/followups.jsonl``), indexed afresh into a temporary folder;
- the shared archives (``benchmarks/followups.jsonl``, written by reading the issues), on a copy of
  the benchmarks' index (``--data-dir``, brought up to date incrementally). Its ``switch`` pairs
  change the subject: context should not drag them back to the earlier topic.

A pair is *found* when its section is among the first three results; *answered* when, besides, the
answer is not a no-match (a reader is told the section answers). "without" ranks the follow-up alone,
as /ask would; "with" is :func:`index.search.followup.search_followup` given the first question.

    python benchmarks/bench_followups.py [--data-dir DIR] [--show]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import ALL_ARCHIVES, CORPORA, ROOT, open_index

SAMPLE_PAIRS = ROOT / "tests" / "data" / "followups.jsonl"
ARCHIVE_PAIRS = Path(__file__).resolve().parent / "followups.jsonl"


def _load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _gold(pair: dict, result) -> bool:
    if "path" in pair and (result.source, result.path) != (pair["source"], pair["path"]):
        return False
    return result.heading == pair["heading"]


def measure(retriever, pairs: list[dict], show: bool) -> dict[str, dict[str, list[int]]]:
    """kind -> {"without"/"with" -> [found, answered, count]}."""
    from index.search.followup import search_followup

    out: dict[str, dict[str, list[int]]] = {}
    for pair in pairs:
        kind = pair.get("kind", "follow")
        row = out.setdefault(kind, {"without": [0, 0, 0], "with": [0, 0, 0]})
        for mode, answer in (("without", retriever.search(pair["followup"], 3)),
                             ("with", search_followup(retriever, pair["followup"], [pair["first"]], 3))):
            found = any(_gold(pair, r) for r in answer.results[:3])
            row[mode][0] += found
            row[mode][1] += found and not answer.no_match
            row[mode][2] += 1
            if show and mode == "with" and not (found and not answer.no_match):
                print(f"  miss ({kind}, with context): {pair['followup']!r} after {pair['first']!r} ->"
                      f" {[r.heading[:40] for r in answer.results]} no_match={answer.no_match}")
    return out


def report(name: str, figures: dict[str, dict[str, list[int]]]) -> None:
    for kind, row in figures.items():
        n = row["with"][2]
        cells = "  ".join(f"{mode}: found@3 {row[mode][0]}/{n} ({row[mode][0] / n:.0%}), answered@3"
                          f" {row[mode][1]}/{n} ({row[mode][1] / n:.0%})" for mode in ("without", "with"))
        print(f"{name:<16} {kind:<7} {cells}")


def samples_retriever(folder: Path):
    from index.embedding.model import Embedder
    from index.indexing.indexer import Indexer
    from index.reading.issue import SourceSpec
    from index.search.retriever import Retriever
    from index.store.catalog import Catalog
    from index.store.vectors import VectorStore

    catalog = Catalog(folder / "catalog.sqlite3")
    store = VectorStore(path=folder / "chroma")
    embedder = Embedder()
    Indexer(catalog, lambda: store, embedder).reindex([SourceSpec(
        name="examples", path=ROOT / "examples", base_url="https://newsletter.example.org/issues/",
        exclude=("README.md",))])
    return Retriever(catalog, store, embedder, folder / "keyword-index")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "backissue-followups" / "data")
    ap.add_argument("--show", action="store_true", help="print the follow-ups missed with context")
    args = ap.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        report("bundled samples", measure(samples_retriever(Path(tmp)), _load(SAMPLE_PAIRS), args.show))
    if not CORPORA.is_dir():
        print(f"shared archives not found at {CORPORA}: skipped")
        return
    _, services, summary = open_index(args.data_dir, ALL_ARCHIVES, "followups")
    print(f"shared archives: {summary.sections} sections in the index")
    report("shared archives", measure(services.retriever(), _load(ARCHIVE_PAIRS), args.show))
    services.close()
    print(f"{time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
