"""The first ONNX export in a child process, so that the process which embeds never loads PyTorch.

Exporting needs PyTorch, transformers and sentence-transformers; once imported they stay in a process for its
whole life (their libraries mapped, their allocations fragmenting the heap), which kept a `bot run` that had just
exported its graph about three times as large as one that found it exported. In a child, they leave with it:
the parent then loads the graph through ``index.embedding.lean`` as it would on any later start.

The child is ``python -m index.embedding.export_main MODEL BACKEND EXPORT_DIR``; this module is the parent's side.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from index.errors import Unavailable

FAILED = "export failed: "  # the line of the child's stderr that carries its error for the parent


class ExportFailed(Unavailable):
    """The child could not export the graph; the message is the child's own reason."""


def export_in_child(model: str, backend: str, export_dir: Path) -> None:
    """Export ``model``'s graph for ``backend`` into ``export_dir`` in a child process; ExportFailed if it could not."""
    root = Path(__file__).resolve().parents[2]  # where the ``index`` package is importable from
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)
    proc = subprocess.run([sys.executable, "-m", "index.embedding.export_main", model, backend, str(export_dir)],
                          env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)
    if proc.returncode == 0:
        return
    reasons = [line[len(FAILED):] for line in proc.stderr.splitlines() if line.startswith(FAILED)]
    if reasons:
        raise ExportFailed(reasons[-1])
    tail = " ".join(proc.stderr.strip().splitlines()[-3:])[-600:] or "no message"
    raise ExportFailed(f"exporting the embedding model {model!r} to ONNX failed (exit {proc.returncode}): {tail}")
