"""Shared set-up for the benchmark scripts: where the shared archives are, and a settings file for them."""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as bot.cli.main does, before numpy loads
os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("BACKISSUE_SHARED", ROOT.parent / "shared"))
CORPORA = SHARED / "corpora"
ALL_ARCHIVES = ["last-week-in-ai", "nlp-newsletter", "rust-osdev-this-month", "this-week-in-rust"]
EVAL_ARCHIVES = ["last-week-in-ai", "rust-osdev-this-month", "nlp-newsletter"]
BENCH_DATA = Path(tempfile.gettempdir()) / "backissue-bench" / "data"  # all four archives, shared by the benchmarks


def default_batch_size() -> int:
    """The project's default embedding batch size, so benchmarks measure what users run."""
    from bot.settings import EmbeddingSettings

    return EmbeddingSettings().batch_size


def write_config(path: Path, data_dir: Path, archives: list[str], *, batch_size: int | None = None) -> Path:
    """A TOML settings file that indexes the named shared archives into ``data_dir``."""
    batch_size = batch_size or default_batch_size()
    lines = [f'data_dir = "{data_dir}"', "", "[embedding]", f"batch_size = {batch_size}", ""]
    for name in archives:
        lines += [
            "[[sources]]", f'name = "{name}"', f'path = "{CORPORA / name}"',
            f'base_url = "https://{name}.example.org/"', 'exclude = ["SOURCE.md", "README.md"]', "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def require_shared() -> None:
    if not CORPORA.is_dir():
        raise SystemExit(f"the shared archives are not at {CORPORA}; set BACKISSUE_SHARED")


def open_index(data_dir: Path, archives: list[str], purpose: str):
    """Settings and services for an index of ``archives`` in ``data_dir``, brought up to date incrementally."""
    from bot.services import build_services
    from bot.settings import load_settings

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    settings = load_settings(write_config(data_dir.parent / f"{purpose}.toml", data_dir, archives))
    services = build_services(settings, purpose=purpose)
    summary = services.indexer.reindex(settings.source_specs())
    return settings, services, summary


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def bench_questions(catalog, dev: list[str], n: int, seed: int = 7) -> list[str]:
    """The dev questions, then headings of the index (half as typed, half in a question) up to ``n`` in all."""
    import random

    headings = [r[0] for r in catalog.execute("SELECT heading FROM sections WHERE length(heading) > 8")]
    picked = random.Random(seed).sample(headings, k=max(0, n - len(dev)))
    half = len(picked) // 2
    return dev + picked[:half] + [f"What did the newsletter say about {h}?" for h in picked[half:]]


def time_questions(embedder, retriever, questions: list[str]) -> tuple[list[float], list[float]]:
    """Milliseconds per question: one query encode, then one whole search; warmed up on the first ten."""
    import time

    for q in questions[:10]:
        retriever.search(q)
        embedder.encode_query(q)
    encode_ms, ask_ms = [], []
    for q in questions:
        t0 = time.perf_counter()
        embedder.encode_query(q)
        encode_ms.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        retriever.search(q)
        ask_ms.append((time.perf_counter() - t0) * 1000)
    return encode_ms, ask_ms


def study_options(doc: str | None) -> tuple[argparse.Namespace, list[dict]]:
    """The options every ranking study takes (--questions, --data-dir, --folds), and the questions read."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--questions", type=Path, nargs="+", default=[SHARED / "eval" / "dev.jsonl"],
                    help="JSONL files: dev.jsonl and benchmarks/questions/*.jsonl, say")
    ap.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "backissue-eval" / "data")
    ap.add_argument("--folds", type=int, default=5)
    args = ap.parse_args()
    require_shared()
    questions = [json.loads(line) for path in args.questions for line in path.read_text().splitlines() if line.strip()]
    return args, questions
