"""Should a folder source be followed by a filesystem watch instead of the refresh loop's scan?

Measures, on the shared archives, the two ways a running bot could notice an edit:
- the refresh loop: an in-process reindex with nothing changed (the no-change scan), wall and CPU
  time, and what it costs per hour at a few `refresh_seconds`;
- a watch (watchfiles, Rust `notify`, inotify on Linux) over a copy of the same files: the CPU it uses
  while nothing changes, and how long an edit takes to arrive as an event.

Indexes the archives first if needed (slow the first time; reuses --data-dir).

    python benchmarks/bench_watch.py [--data-dir DIR] [--edits 10]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import ALL_ARCHIVES, BENCH_DATA, CORPORA, open_index, require_shared


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def scan_cost(data_dir: Path, runs: int) -> tuple[float, float, int]:
    """Median wall and CPU seconds of a reindex with nothing changed, and the issue count."""
    settings, services, _ = open_index(data_dir, ALL_ARCHIVES, "bench")
    issues = services.catalog.count("issues")
    walls, cpus = [], []
    for _ in range(runs):
        w0, c0 = time.perf_counter(), cpu()
        s = services.indexer.reindex(settings.source_specs())
        walls.append(time.perf_counter() - w0)
        cpus.append(cpu() - c0)
        assert not (s.new or s.changed or s.removed), "the archives changed during the benchmark"
    services.close()
    return statistics.median(walls), statistics.median(cpus), issues


def watch_cost(folder: Path, idle: float, edits: int) -> tuple[float, list[float]]:
    """CPU seconds per idle hour of a watch over ``folder``, and the seconds from each edit to its event."""
    import watchfiles

    stop = threading.Event()
    seen: list[tuple[float, set[str]]] = []
    ready = threading.Event()

    def follow() -> None:
        ready.set()
        for changes in watchfiles.watch(folder, stop_event=stop, debounce=50, step=10,
                                        yield_on_timeout=False):
            seen.append((time.perf_counter(), {Path(p).name for _, p in changes}))

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    ready.wait()
    time.sleep(1.0)  # the watch is set up on every folder
    c0 = cpu()
    time.sleep(idle)
    idle_cpu = (cpu() - c0) / idle * 3600
    files = sorted(folder.rglob("*.md"))
    latencies = []
    for i in range(edits):
        target = files[(i * 97) % len(files)]
        before = len(seen)
        t0 = time.perf_counter()
        target.write_text(target.read_text(encoding="utf-8", errors="replace") + f"\n<!-- edit {i} -->\n",
                          encoding="utf-8")
        while len(seen) == before and time.perf_counter() - t0 < 10:
            time.sleep(0.002)
        latencies.append(seen[-1][0] - t0 if len(seen) > before else float("inf"))
        time.sleep(0.3)
    stop.set()
    thread.join(5)
    return idle_cpu, latencies


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", type=Path, default=BENCH_DATA)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--idle", type=float, default=30.0, help="seconds of an idle watch to measure its CPU")
    ap.add_argument("--edits", type=int, default=10)
    args = ap.parse_args()
    require_shared()
    wall, scan_cpu, issues = scan_cost(args.data_dir, args.runs)
    print(f"no-change scan of {issues} issues in the running process: {wall:.3f} s wall, {scan_cpu:.3f} s CPU")
    for every in (5, 15, 60, 300):
        print(f"  refresh_seconds = {every:>3}: {scan_cpu * 3600 / every:7.1f} CPU s per hour "
              f"({scan_cpu / every:.2%} of one core); an edit shows after at most {every} s + its embedding")
    with tempfile.TemporaryDirectory(prefix="backissue-watch-") as tmp:
        copy = Path(tmp) / "corpora"
        for name in ALL_ARCHIVES:
            shutil.copytree(CORPORA / name, copy / name)
        idle_cpu, latencies = watch_cost(copy, args.idle, args.edits)
    ok = [x for x in latencies if x != float("inf")]
    print(f"watch over the same {issues} issues: {idle_cpu:.2f} CPU s per idle hour; edit to event: "
          f"median {statistics.median(ok) * 1000:.0f} ms, max {max(ok) * 1000:.0f} ms; missed {len(latencies) - len(ok)}")
    print(f"scan_cpu_s={scan_cpu:.3f} scan_wall_s={wall:.3f} watch_idle_cpu_s_per_hour={idle_cpu:.2f}"
          f" watch_latency_ms={statistics.median(ok) * 1000:.0f}")


if __name__ == "__main__":
    main()
