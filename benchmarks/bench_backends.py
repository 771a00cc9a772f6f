"""The embedding backends side by side: PyTorch, ONNX fp32 and ONNX int8, in one run.

Each backend gets its own index of the three archives of ../shared/eval/dev.jsonl, in a data folder
under the system's temporary directory. With --seed DIR (default: the eval benchmark's folder, when
it holds a PyTorch index) the folders start as copies of that index: `bot reindex` then leaves it as
it is for torch and ONNX fp32 (same vectors, same identity) and rebuilds it for int8 (other vectors),
which is what a user switching backends sees. --full rebuilds every backend's index instead.

Per backend:
- export: first model load into an empty export folder (the ONNX export, or int8 quantization, once);
- reindex: `bot reindex` (or `--full`) in a child process: seconds, chunks/s when it embedded, peak RSS;
- throughput: a bare `Embedder.encode` of a fixed sample of the index's chunks (--sample, every n-th
  chunk by rowid), the backends one after the other in this process, so under the same load;
- vectors: the largest difference from PyTorch's vectors over that sample;
- query encode p50/p95 and `/ask` (Retriever.search end to end) p50/p95, warm, over the dev questions
  and questions made from headings;
- cold start: `bot ask QUESTION` in a child process, from exec to exit with the answer;
- `bot ask --json -` over the same questions in a child: its peak RSS;
- quality: recall@3 and MRR of benchmarks/eval_retrieval.py on dev.jsonl.

    python benchmarks/bench_backends.py [--backends torch,onnx,onnx-int8] [--full] [--sample N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import (
    EVAL_ARCHIVES,
    ROOT,
    SHARED,
    bench_questions,
    default_batch_size,
    percentile,
    require_shared,
    time_questions,
    write_config,
)

WORK = Path(tempfile.gettempdir()) / "backissue-backends"


def run_child(args: list[str], env: dict[str, str], stdin: str | None = None) -> tuple[float, float, str]:
    """Run ``python -m bot ARGS``: wall seconds, the child's own peak RSS in MB, stdout."""
    # VmHWM, not getrusage: ru_maxrss carries over the forking parent's peak through exec
    wrapper = ("import runpy, sys\n"
               "sys.argv = ['bot'] + sys.argv[1:]\n"
               "try:\n    runpy.run_module('bot', run_name='__main__')\n"
               "finally:\n    hwm = [x for x in open('/proc/self/status') if x.startswith('VmHWM')][0].split()[1]\n"
               "    sys.stderr.write('\\nRSS_MB=%d\\n' % (int(hwm) // 1024))\n")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", wrapper, *args], env=env, cwd=ROOT, text=True, input=stdin,
                          capture_output=True)
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"bot {' '.join(args)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    rss = float(proc.stderr.rsplit("RSS_MB=", 1)[1].split()[0])
    return wall, rss, proc.stdout


def quality(data_dir: Path, env: dict[str, str]) -> dict[str, float]:
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "eval_retrieval.py"), "--data-dir", str(data_dir)],
                          env=env, cwd=ROOT, text=True, capture_output=True)
    if proc.returncode:
        raise SystemExit(f"eval_retrieval failed: {proc.stderr[-2000:]}")
    last = proc.stdout.strip().splitlines()[-1]
    return {k: float(v) for k, v in (part.split("=") for part in last.split())}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backends", default="torch,onnx,onnx-int8")
    ap.add_argument("--questions", type=int, default=240)
    ap.add_argument("--sample", type=int, default=1500, help="chunks encoded for throughput and compared with PyTorch")
    ap.add_argument("--batch-size", type=int, default=default_batch_size())
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--seed", type=Path, default=Path(tempfile.gettempdir()) / "backissue-eval" / "data")
    ap.add_argument("--full", action="store_true", help="rebuild every backend's index (reindex --full)")
    args = ap.parse_args()
    require_shared()
    from bot.services import build_services
    from bot.settings import load_settings
    from index.embedding.model import Embedder

    backends = args.backends.split(",")
    print(f"load at start: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} CPUs; archives: {', '.join(EVAL_ARCHIVES)}")
    dev = [json.loads(x)["question"] for x in (SHARED / "eval" / "dev.jsonl").read_text().splitlines() if x.strip()]
    rows: dict[str, dict] = {}
    for backend in backends:
        data_dir = WORK / backend / "data"
        export_dir = WORK / backend / "onnx"
        (WORK / backend).mkdir(parents=True, exist_ok=True)
        cfg = write_config(WORK / backend / "bench.toml", data_dir, EVAL_ARCHIVES, batch_size=args.batch_size)
        env = {**os.environ, "BACKISSUE_EMBEDDING__BACKEND": backend, "BACKISSUE_EMBEDDING__THREADS": str(args.threads),
               "BACKISSUE_EMBEDDING__EXPORT_DIR": str(export_dir)}
        if not data_dir.exists() and (args.seed / "catalog.sqlite3").exists():
            shutil.copytree(args.seed, data_dir, ignore=shutil.ignore_patterns("*.lock"))
        shutil.rmtree(export_dir, ignore_errors=True)  # the first load exports (or quantizes), once
        t0 = time.perf_counter()
        Embedder(backend=backend, export_dir=export_dir).load()
        first_load = time.perf_counter() - t0
        load = os.getloadavg()[0]
        reindex_s, reindex_rss, out = run_child(["--config", str(cfg), "reindex", *(["--full"] if args.full else [])], env)
        rows[backend] = {"backend": backend, "export_s": first_load, "reindex_s": reindex_s, "reindex_rss": reindex_rss,
                         "reindex_load": f"{load:.1f}", "reindex_said": " ".join(out.split())[:160]}

    # throughput and vectors: the same sample, each backend in turn in this process
    settings = load_settings(WORK / backends[0] / "bench.toml")
    services = build_services(settings, purpose="bench", reader=True)
    texts = [r[0] for r in services.catalog.execute("SELECT text FROM chunks ORDER BY rowid")]
    services.close()
    sample = texts[:: max(1, len(texts) // args.sample)][: args.sample]
    reference = None
    for backend in ["torch", *[b for b in backends if b != "torch"]]:
        embedder = Embedder(backend=backend, export_dir=WORK / backend / "onnx", batch_size=args.batch_size,
                            threads=args.threads or None)
        embedder.encode(sample[:32])
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        vectors = embedder.encode(sample)
        seconds = time.perf_counter() - t0
        reference = vectors if reference is None else reference
        if backend in rows:
            rows[backend].update(chunks_per_s=len(sample) / seconds, encode_load=f"{load:.1f}-{os.getloadavg()[0]:.1f}",
                                 max_diff=float(abs(vectors - reference).max()),
                                 min_cos=float((vectors * reference).sum(axis=1).min()))
        del embedder

    for backend in backends:
        os.environ.update({"BACKISSUE_EMBEDDING__BACKEND": backend, "BACKISSUE_EMBEDDING__THREADS": str(args.threads),
                           "BACKISSUE_EMBEDDING__EXPORT_DIR": str(WORK / backend / "onnx")})
        env = dict(os.environ)
        cfg = WORK / backend / "bench.toml"
        settings = load_settings(cfg)
        services = build_services(settings, purpose="bench", reader=True)
        questions = bench_questions(services.catalog, dev, args.questions)
        retriever = services.retriever()
        load = os.getloadavg()[0]
        encode_ms, ask_ms = time_questions(services.embedder, retriever, questions)
        services.close()
        cold_s, _, _ = run_child(["--config", str(cfg), "ask", dev[0]], env)
        _, ask_rss, out = run_child(["--config", str(cfg), "ask", "--json", "-"], env, "\n".join(questions) + "\n")
        q = quality(WORK / backend / "data", env)
        rows[backend].update(enc_p50=statistics.median(encode_ms), enc_p95=percentile(encode_ms, 95),
                             ask_p50=statistics.median(ask_ms), ask_p95=percentile(ask_ms, 95), cold_s=cold_s,
                             ask_rss=ask_rss, r3=q["recall@3"], mrr=q["mrr"], query_load=f"{load:.1f}")
        print(json.dumps(rows[backend]), flush=True)

    print(f"\nthroughput: {len(sample)} chunks (every {max(1, len(texts) // args.sample)}th of {len(texts)}), batch"
          f" {args.batch_size}, threads {args.threads or 'default'}; {len(questions)} questions; load: 1-min load average")
    print(f"{'backend':<10} {'export':>6} {'reindex':>8} {'RSS':>6} {'chunks/s':>8} {'load':>7} {'max|dv|':>8} {'min cos':>7}"
          f" {'enc p50':>7} {'enc p95':>7} {'ask p50':>7} {'ask p95':>7} {'load':>4} {'cold':>5} {'ask RSS':>7}"
          f" {'r@3':>5} {'MRR':>5}")
    for r in rows.values():
        print(f"{r['backend']:<10} {r['export_s']:>5.1f}s {r['reindex_s']:>7.1f}s {r['reindex_rss']:>4.0f}MB"
              f" {r['chunks_per_s']:>8.1f} {r['encode_load']:>7} {r['max_diff']:>8.1e} {r['min_cos']:>7.4f}"
              f" {r['enc_p50']:>5.1f}ms {r['enc_p95']:>5.1f}ms {r['ask_p50']:>5.1f}ms {r['ask_p95']:>5.1f}ms"
              f" {r['query_load']:>4} {r['cold_s']:>4.1f}s {r['ask_rss']:>5.0f}MB {r['r3']:>5.3f} {r['mrr']:>5.3f}")
    for r in rows.values():
        print(f"{r['backend']} reindex (load {r['reindex_load']}): {r['reindex_said']}")


if __name__ == "__main__":
    main()
