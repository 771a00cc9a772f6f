"""The one install path chooses PyTorch's CPU build on Linux without being told (no multi-GB CUDA build)."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CPU_INDEX = "https://download.pytorch.org/whl/cpu"

pytestmark = pytest.mark.skipif(platform.system() != "Linux", reason="the CUDA-by-default problem is Linux's")


def _plan(tmp_path: Path, **env: str | None) -> str:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "TORCH_"))}
    full.update({k: v for k, v in env.items() if v is not None})
    full["INSTALL_PLAN"] = "1"
    r = subprocess.run(["bash", str(ROOT / "scripts" / "install.sh"), str(tmp_path / "venv")], capture_output=True,
                       text=True, env=full, timeout=120)
    assert r.returncode == 0, r.stderr
    assert not (tmp_path / "venv").exists()  # a plan installs nothing
    return r.stdout.strip()


def test_a_user_who_never_heard_of_torch_index_gets_the_cpu_build(tmp_path):
    # no pip configuration and no local wheels: what a fresh Linux machine has
    plan = _plan(tmp_path, PIP_CONFIG_FILE=os.devnull)
    assert plan == f"torch: torch==2.13.0 from {CPU_INDEX}"


def test_a_cpu_wheel_already_on_the_machine_is_used_offline(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    # an empty wheel named as PyTorch names its CPU builds is enough for pip to resolve it offline
    (wheels / "torch-2.13.0+cpu-py3-none-any.whl").write_bytes(_empty_wheel("torch", "2.13.0+cpu"))
    plan = _plan(tmp_path, PIP_CONFIG_FILE=os.devnull, PIP_FIND_LINKS=str(wheels))
    assert plan == "torch: torch==2.13.0 from a CPU wheel already on this machine"
    (wheels / "torch-2.13.0+cpu-py3-none-any.whl").unlink()
    (wheels / "torch-2.13.0-py3-none-any.whl").write_bytes(_empty_wheel("torch", "2.13.0"))
    plan = _plan(tmp_path, PIP_CONFIG_FILE=os.devnull, PIP_FIND_LINKS=str(wheels))
    assert plan == f"torch: torch==2.13.0 from {CPU_INDEX}"  # a local CUDA-or-unknown build is not taken


def test_torch_index_still_wins(tmp_path):
    plan = _plan(tmp_path, PIP_CONFIG_FILE=os.devnull, TORCH_INDEX="https://wheels.internal/torch")
    assert plan == "torch: torch==2.13.0 from https://wheels.internal/torch"


def _empty_wheel(name: str, version: str) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    info = f"{name}-{version}.dist-info"
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        z.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(f"{info}/RECORD", "")
    return buf.getvalue()
