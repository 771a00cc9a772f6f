"""The embedding model's transformer run by ONNX Runtime: exported (and quantized) once, then reused.

Once exported, the graph runs without PyTorch in ``index.embedding.lean`` (tokenizer, graph, pooling in numpy)
for the models whose pipeline is that plain; for others sentence-transformers keeps the rest of the pipeline
and only the transformer's forward pass runs through an ``onnxruntime.InferenceSession`` (``install``). The graph is
exported from the loaded PyTorch model with ``torch.onnx.export`` into a cache folder (by default
in the data folder, as the packaged model's folder may be read-only), under a key made of the model
folder's files, the backend variant and the exporter's version: a changed model re-exports, an
unchanged one is reused. Nothing is downloaded.

sentence-transformers' own ``backend="onnx"`` loads through optimum-onnx, whose releases pin
transformers < 4.58 while sentence-transformers 6 needs transformers 5: the two cannot be installed
together, hence this thin equivalent of optimum's ``ORTModelForFeatureExtraction``.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import os
import re
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

from index.priority import lower_new_threads

log = logging.getLogger(__name__)

VARIANTS = ("fp32", "int8")
OPSET = 17
_EXPORT_FORMAT = 2  # bump when the exported graph changes (inputs, outputs, opset, quantization)
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
INSTALL_HINT = ("they are part of backissue's install (`scripts/install.sh VENV`, or `pip install onnx onnxruntime`"
                ' into its environment), or set [embedding] backend = "torch"')


class OnnxUnavailable(Exception):
    """A package the ONNX backend needs is missing; the message says how to install it."""


def _require(module: str, why: str) -> Any:
    try:
        return __import__(module)
    except ImportError as exc:
        raise OnnxUnavailable(f"the ONNX embedding backend needs the Python package {module!r} {why},"
                              f" and it is not installed ({exc}); {INSTALL_HINT}") from exc


def cache_key(model_dir: Path, variant: str, label: str = "") -> str:
    """A folder name that changes whenever the model's files, the variant or the export format do."""
    digest = hashlib.sha256(f"{_EXPORT_FORMAT}|{OPSET}|{variant}|torch {_torch_version()}".encode())
    digest.update(str(model_dir.resolve()).encode())
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file() and "onnx" not in p.parts):
        st = path.stat()
        digest.update(f"|{path.relative_to(model_dir)}:{st.st_size}:{st.st_mtime_ns}".encode())
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", label or model_dir.name).strip("-")[:60] or "model"
    return f"{slug}-{variant}-{digest.hexdigest()[:16]}"


def _torch_version() -> str:
    """The exporter's version, read without importing PyTorch (a run that finds its graph never loads it)."""
    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return "absent"


def cached_graph(model_dir: Path, variant: str, cache_dir: Path, *, label: str = "") -> Path | None:
    """The graph of ``variant`` of the model in ``model_dir`` when it was exported before, else None."""
    _require("onnxruntime", "to run the model")
    graph = cache_dir / cache_key(model_dir, variant, label) / "model.onnx"
    return graph if graph.exists() else None


def _publish(build: Path, final: Path) -> None:
    """Move a finished export into place; another process may have finished the same one first."""
    try:
        os.replace(build, final)
    except OSError:
        if not (final / "model.onnx").exists():
            raise
        shutil.rmtree(build, ignore_errors=True)


def _export(transformer: Any, path: Path) -> None:
    import torch

    _require("onnx", "to export the model")
    model = transformer.auto_model.eval()
    if hasattr(model, "set_attn_implementation"):  # the plain attention graph is the one ONNX Runtime fuses
        model.set_attn_implementation("eager")
    tok = transformer.tokenizer(["an example sentence", "another"], padding=True, return_tensors="pt")
    names = [n for n in _INPUTS if n in tok]

    class _Forward(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *args: torch.Tensor) -> torch.Tensor:
            return self.model(**dict(zip(names, args, strict=True)), return_dict=True).last_hidden_state

    axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(_Forward().eval(), tuple(tok[n] for n in names), str(path), input_names=names,
                          output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=OPSET, dynamo=False)
    if hasattr(model, "set_attn_implementation"):
        model.set_attn_implementation("sdpa")
    _fuse(path, model.config)


def _fuse(path: Path, config: Any) -> None:
    """Fuse attention, layer norms and GELU (ONNX Runtime's transformer optimizer): about 1.5x faster, less memory."""
    from onnxruntime.transformers.optimizer import optimize_model

    heads, hidden = getattr(config, "num_attention_heads", 0), getattr(config, "hidden_size", 0)
    try:
        fused = optimize_model(str(path), model_type="bert", num_heads=heads, hidden_size=hidden, opt_level=1,
                               use_gpu=False)
    except Exception as exc:  # another architecture: the plain graph runs, only slower
        log.warning("kept the ONNX graph unfused: %s", exc)
        return
    fused.save_model_to_file(str(path))


def _quantize(source: Path, target: Path) -> None:
    onnx = _require("onnx", "to quantize the model")
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger("root").setLevel(logging.ERROR)  # onnxruntime's "consider pre-processing" advice
    # the fused operators (com.microsoft domain) have no shape inference: their outputs are float tensors
    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})


def exported_graph(transformer: Any, model_dir: Path, variant: str, cache_dir: Path, *, label: str = "") -> Path:
    """The ONNX file for ``variant`` of the model in ``model_dir``, exported into ``cache_dir`` if not there yet."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown ONNX variant {variant!r} (one of {', '.join(VARIANTS)})")
    _require("onnxruntime", "to run the model")
    final = cache_dir / cache_key(model_dir, variant, label)
    graph = final / "model.onnx"
    if graph.exists():
        return graph
    cache_dir.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=".export-", dir=cache_dir))
    try:
        if variant == "fp32":
            log.info("exporting the embedding model to ONNX into %s (once)", final)
            _export(transformer, build / "model.onnx")
        else:
            fp32 = exported_graph(transformer, model_dir, "fp32", cache_dir, label=label)
            log.info("quantizing the ONNX embedding model to int8 into %s (once)", final)
            _quantize(fp32, build / "model.onnx")
        build.chmod(0o755)  # mkdtemp's 0700 would hide a shared cache from other users
        _publish(build, final)
    finally:
        shutil.rmtree(build, ignore_errors=True)
    return graph


def session(graph: Path, threads: int | None, *, worker_nice: int = 0) -> Any:
    """An ONNX Runtime session of ``graph``; its worker threads get niceness ``worker_nice`` (``index.priority``)."""
    ort = _require("onnxruntime", "to run the model")
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # no busy-waiting between operators: on a small server the cores are shared with Chroma and the bot itself
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    with lower_new_threads(worker_nice):  # the session starts its intra-op workers now
        return ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])


def install(transformer: Any, graph: Path, threads: int | None, *, worker_nice: int = 0) -> None:
    """Make ``transformer`` (a sentence-transformers Transformer module) run its forward pass through ``graph``."""
    import torch

    sess = session(graph, threads, worker_nice=worker_nice)
    inputs = {i.name for i in sess.get_inputs()}
    config = transformer.auto_model.config

    class OnnxModel(torch.nn.Module):
        """Stands in for the Hugging Face model: same inputs, ``last_hidden_state`` out, no PyTorch weights."""

        def __init__(self) -> None:
            super().__init__()
            self.config = config
            self.device = torch.device("cpu")

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                    token_type_ids: torch.Tensor | None = None, **_: Any) -> dict[str, torch.Tensor]:
            feeds = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
            if feeds["token_type_ids"] is None:
                feeds["token_type_ids"] = torch.zeros_like(input_ids)
            arrays = {k: v.cpu().numpy() for k, v in feeds.items() if k in inputs}
            (hidden,) = sess.run(["last_hidden_state"], arrays)
            return {"last_hidden_state": torch.from_numpy(hidden)}

    transformer.model = OnnxModel()
