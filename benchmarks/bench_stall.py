"""The longest event-loop stall of the running bot while a full index of the shared archives runs.

The real bot (discord.py over HTTP and WebSocket) connects to the Discord API test server, which
runs on its own thread and event loop, on a fresh data folder: its reindex at start is a full
index of the shared archives. A probe on the bot's event loop sleeps 5 ms again and again and
records how late it wakes; every ``--every`` seconds, ``--asks`` readers send `/ask` at once.
The window ends when the index is complete or after ``--seconds``. The last line is
``max_stall_ms=… p99_stall_ms=… ask_p95_ms=…``; the goal is a longest stall of at most 100 ms.

    python benchmarks/bench_stall.py [--archives A B] [--seconds 240] [--asks 20] [--every 20]
                                     [--debug] [--slow-callbacks]

``--debug`` names what holds the loop (a sampler thread) without asyncio's debug mode, which slows
every callback and so inflates the figure; ``--slow-callbacks`` turns that mode on when wanted.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import logging
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import ALL_ARCHIVES, SHARED, require_shared, write_config
from benchmarks.bench_query import percentile

QUESTIONS = ["what is layer skip", "how do I write a bootloader in rust", "async traits stabilised",
             "mixture of experts routing", "which paper improved retrieval augmented generation",
             "memory safety in the linux kernel", "new release of the compiler", "tokenizer free language models"]


class ServerThread:
    """The Discord test server on a thread and event loop of its own, so its work is not the bot's."""

    def __init__(self) -> None:
        from tests.discord_api import DiscordTestServer

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="discord-test-server", daemon=True)
        self.thread.start()
        self.server = self.call(DiscordTestServer().start())

    def call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    async def on_server(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    def stop(self) -> None:
        self.call(self.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


WOKE = [time.perf_counter()]


async def probe(stalls: list[float], stop: asyncio.Event, step: float = 0.005) -> None:
    while not stop.is_set():
        t0 = time.perf_counter()
        await asyncio.sleep(step)
        WOKE[0] = time.perf_counter()
        stalls.append(WOKE[0] - t0 - step)


IDLE = {"wait", "_worker", "select", "poll"}  # a thread waiting there holds nothing


def stall_watch(loop_thread: int, limit: float = 0.08) -> None:
    """--debug: when the loop is late by over ``limit`` (below the goal), print where the loop and every busy
    thread are (once per stall)."""
    reported = 0.0
    while True:
        time.sleep(0.02)
        late = time.perf_counter() - WOKE[0]
        if late > limit and WOKE[0] != reported:
            reported = WOKE[0]
            for ident, frame in sys._current_frames().items():
                if ident == threading.get_ident() or (ident != loop_thread and frame.f_code.co_name in IDLE):
                    continue
                where = " < ".join([f"{Path(f.f_code.co_filename).name}:{f.f_lineno} {f.f_code.co_name}"
                                   for f in _frames(frame) if "importlib" not in f.f_code.co_filename][:8])
                name = "loop" if ident == loop_thread else next(
                    (t.name for t in threading.enumerate() if t.ident == ident), str(ident))
                print(f"  stall {late * 1000:.0f} ms; {name}: {where}", flush=True)


def gc_watch(limit: float = 0.01) -> None:
    """--debug: print each garbage collection that holds the interpreter over ``limit`` seconds."""
    started: dict[str, float] = {}

    def timed(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started["t"] = time.perf_counter()
        elif "t" in started and (took := time.perf_counter() - started.pop("t")) > limit:
            print(f"  gc generation {info['generation']}: {took * 1000:.0f} ms, {info['collected']} collected",
                  flush=True)

    gc.callbacks.append(timed)


def _frames(frame: Any) -> list[Any]:
    out = []
    while frame is not None:
        out.append(frame)
        frame = frame.f_back
    return out


async def one_ask(st: ServerThread, n: int, question: str) -> tuple[float, bool]:
    """Seconds until the reader sees the answer, and whether it cites a section."""
    server = st.server
    t0 = time.perf_counter()

    async def ask() -> bool:
        rec = await server.interact("ask", {"question": question}, user=server.user(f"bench{n}"))
        await rec.answered(120)
        while not (rec.original or {}).get("embeds") and not ((rec.original or {}).get("content") or ""):
            await asyncio.sleep(0.01)  # the deferred reply is edited into the answer, "nothing matches" or an error
        return bool((rec.original or {}).get("embeds"))

    cited = await st.on_server(ask())
    return time.perf_counter() - t0, cited


async def scenario(args: argparse.Namespace, data: Path) -> None:
    from bot.progress import describe
    from bot.run import bot_services, point_at, wired_bot
    from bot.settings import load_settings

    if args.debug or args.slow_callbacks:
        logging.basicConfig(level=logging.WARNING)
    if args.debug:  # name what holds the loop (a sampler thread) and each long garbage collection
        threading.Thread(target=stall_watch, args=(threading.get_ident(),), daemon=True).start()
        gc_watch()
    if args.slow_callbacks:  # asyncio's debug mode slows every callback: its figures are not the bot's
        loop = asyncio.get_running_loop()
        loop.set_debug(True)
        loop.slow_callback_duration = 0.05
    st = ServerThread()
    cfg = write_config(data.parent / f"{data.name}-stall.toml", data, args.archives)
    with cfg.open("a", encoding="utf-8") as f:  # refresh off: only the reindex at start runs
        f.write(f'\n[index]\nrefresh_seconds = 0\n\n[discord]\napi_base = "{st.server.api_base}"\n'
                f'gateway_url = "{st.server.gateway_url}"\n')
    settings = load_settings(cfg)
    point_at(settings)
    services = bot_services(settings, "bench stall")
    stalls: list[float] = []
    asks: list[float] = []
    stop = asyncio.Event()
    try:
        with wired_bot(settings, services) as bot:
            bot_started = dt.datetime.now(dt.timezone.utc)
            task = asyncio.create_task(bot.start(st.server.token))
            await asyncio.wait_for(bot.wait_until_ready(), 300)
            started = time.perf_counter()
            print(f"connected; model and keyword index loaded; indexing {', '.join(args.archives)}", flush=True)
            watcher = asyncio.create_task(probe(stalls, stop))
            n = 0
            first_cited: float | None = None
            while time.perf_counter() - started < args.seconds and bot.runner.running is not None:
                burst = [one_ask(st, n + i, QUESTIONS[(n + i) % len(QUESTIONS)]) for i in range(args.asks)]
                n += args.asks
                answers = await asyncio.gather(*burst)
                asks += [seconds for seconds, _ in answers]
                if first_cited is None and any(cited for _, cited in answers):
                    first_cited = time.perf_counter() - started
                step = bot.runner.progress
                print(f"{time.perf_counter() - started:6.0f} s: {describe(step) if step else 'no reindex running'}; "
                      f"{args.asks} asks answered, slowest {max(asks[-args.asks:]) * 1000:.0f} ms; "
                      f"longest stall so far {max(stalls, default=0) * 1000:.0f} ms", flush=True)
                await asyncio.sleep(args.every)
            stop.set()
            await watcher
            step = bot.runner.progress
            report(stalls, asks, args.asks, None if bot.runner.running is None or step is None else describe(step))
            print(f"connected to first cited answer: {first_cited:.1f} s" if first_cited is not None
                  else "no answer cited a section within the window")
            if bot.runner.last is not None:
                print(f"full index complete {(bot.runner.last[0] - bot_started).total_seconds():.0f} s after start")
            if bot.runner.running is not None:  # the reindex thread cannot be interrupted: leave without it
                if args.data_dir is None:
                    shutil.rmtree(data.parent, ignore_errors=True)
                os._exit(0)
            await bot.close()
            await asyncio.wait_for(task, 30)
    finally:
        services.close()
        st.stop()


def report(stalls: list[float], asks: list[float], burst: int, unfinished: str | None) -> None:
    if unfinished is not None:
        print(f"the window ended with the index incomplete: {unfinished}")
    ms = sorted(s * 1000 for s in stalls)
    print(f"probe wake-ups: {len(ms)}; stall p50 {statistics.median(ms):.1f} ms, p99 {percentile(ms, 99):.1f} ms,"
          f" max {ms[-1]:.1f} ms; over 100 ms: {sum(s > 100 for s in ms)}")
    ask_ms = [a * 1000 for a in asks]
    print(f"/ask ({len(ask_ms)} in bursts of {burst}): p50 {statistics.median(ask_ms):.0f} ms,"
          f" p95 {percentile(ask_ms, 95):.0f} ms, max {max(ask_ms):.0f} ms")
    print(f"max_stall_ms={ms[-1]:.1f} p99_stall_ms={percentile(ms, 99):.1f} ask_p95_ms={percentile(ask_ms, 95):.0f}",
          flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--archives", nargs="+", default=ALL_ARCHIVES)
    ap.add_argument("--seconds", type=float, default=240.0, help="longest measuring window")
    ap.add_argument("--asks", type=int, default=20, help="questions sent at once in each burst")
    ap.add_argument("--every", type=float, default=20.0, help="seconds between bursts")
    ap.add_argument("--debug", action="store_true",
                    help="print where the loop and each busy thread are when the loop is late over 80 ms, and "
                         "each garbage collection over 10 ms (asyncio's debug mode stays off: it slows every callback)")
    ap.add_argument("--slow-callbacks", action="store_true",
                    help="asyncio debug mode: log each event-loop callback over 50 ms (distorts the figures)")
    ap.add_argument("--data-dir", type=Path, help="a new folder to index into and keep (default: a temporary one)")
    args = ap.parse_args()
    require_shared()
    print(f"shared archives: {SHARED}")
    os.environ.pop("DISCORD_TOKEN", None)
    if args.data_dir is not None:
        if args.data_dir.exists() and any(args.data_dir.iterdir()):
            raise SystemExit(f"{args.data_dir} is not empty: the benchmark needs a first, full index")
        args.data_dir.parent.mkdir(parents=True, exist_ok=True)
        asyncio.run(scenario(args, args.data_dir))
        return
    with tempfile.TemporaryDirectory(prefix="backissue-stall-") as tmp:
        asyncio.run(scenario(args, Path(tmp) / "data"))


if __name__ == "__main__":
    main()
