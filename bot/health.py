"""A heartbeat file the running bot refreshes, and `bot health`, which reads it (the container's HEALTHCHECK)."""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path

STALE_AFTER = 120.0  # seconds: the bot writes every 30 s


def write_health(path: Path, *, connected: bool, latency: float | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    lat = None if latency is None or not math.isfinite(latency) else round(latency * 1000)
    tmp.write_text(json.dumps({"at": time.time(), "connected": connected, "pid": os.getpid(), "latency_ms": lat}))
    tmp.replace(path)


def check_health(path: Path, now: float | None = None) -> int:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        print("unhealthy: the bot has not reported yet", file=sys.stderr)
        return 1
    age = (now or time.time()) - float(data.get("at", 0))
    if not data.get("connected"):
        print("unhealthy: not connected to Discord", file=sys.stderr)
        return 1
    if age > STALE_AFTER:
        print(f"unhealthy: no report for {age:.0f} s", file=sys.stderr)
        return 1
    print(f"healthy: connected, gateway latency {data.get('latency_ms')} ms")
    return 0
