"""Peak memory of `bot run` over the four shared archives: the real bot, connected to the Discord test server,
answering /ask.

Uses the index of benchmarks/bench_query.py (built there, or here when missing), so the bot starts with nothing to
index. Per backend: `bot run` in a child process, connected, then --questions `/ask` one after the other; the
child's peak (VmHWM) and current (VmRSS) resident memory are read from /proc before it is stopped, with the time
from exec to the first cited answer.

    python benchmarks/bench_run_rss.py [--backends onnx,onnx-int8,torch] [--questions N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import ALL_ARCHIVES, BENCH_DATA, ROOT, SHARED, require_shared, write_config

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.bench.rss-token"


def _memory(pid: int) -> tuple[int, int]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmHWM"].split()[0]) // 1024, int(fields["VmRSS"].split()[0]) // 1024


async def _one(backend: str, data_dir: Path, archives: list[str], questions: list[str]) -> dict[str, float | str]:
    from tests.discord_api import DiscordTestServer

    server = await DiscordTestServer(token=TOKEN).start()
    cfg = write_config(data_dir.parent / f"run-rss-{backend}.toml", data_dir, archives)
    cfg.write_text(cfg.read_text(encoding="utf-8") + "\n" + server.discord_toml, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKISSUE_")}
    env.update(DISCORD_TOKEN=TOKEN, BACKISSUE_EMBEDDING__BACKEND=backend, HF_HUB_OFFLINE="1")
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "--config", str(cfg), "run", env=env,
                                                cwd=str(ROOT), stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.PIPE)
    first = float("nan")
    try:
        await asyncio.wait_for(server.identified.wait(), 300)
        await asyncio.wait_for(server.synced.wait(), 120)
        for n, q in enumerate(questions):
            rec = await (await server.interact("ask", {"question": q[:300]})).answered(120)
            for _ in range(600):
                if rec.messages and (rec.messages[-1].get("embeds") or rec.messages[-1].get("content")):
                    break
                await asyncio.sleep(0.05)
            if n == 0:
                first = time.perf_counter() - started
        peak, now = _memory(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 120)
        await server.stop()
    if proc.returncode != 0:
        raise SystemExit(f"bot run ({backend}) failed: {err.decode()[-2000:]}")
    return {"backend": backend, "peak_mb": peak, "rss_mb": now, "first_answer_s": first}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backends", default="onnx,onnx-int8,torch")
    ap.add_argument("--questions", type=int, default=60)
    ap.add_argument("--data-dir", type=Path, default=BENCH_DATA)
    ap.add_argument("--archives", default=",".join(ALL_ARCHIVES), help="the archives of that index")
    args = ap.parse_args()
    require_shared()
    if not (args.data_dir / "catalog.sqlite3").exists():
        raise SystemExit(f"no index at {args.data_dir}: run benchmarks/bench_query.py first (it builds it)")
    dev = [json.loads(line)["question"] for line in (SHARED / "eval" / "dev.jsonl").read_text().splitlines() if line]
    questions = (dev * (args.questions // max(len(dev), 1) + 1))[: args.questions]
    print(f"load {os.getloadavg()[0]:.1f}; {len(questions)} questions per backend over {args.data_dir}")
    for backend in args.backends.split(","):
        r = asyncio.run(_one(backend, args.data_dir, args.archives.split(","), questions))
        print(f"{r['backend']:<10} peak {r['peak_mb']:>5} MB  at the end {r['rss_mb']:>5} MB"
              f"  first answer {r['first_answer_s']:.1f} s after exec  (load {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
