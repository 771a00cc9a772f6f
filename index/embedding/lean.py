"""The ONNX backends' encoder without PyTorch or sentence-transformers: the model's fast tokenizer, the exported
graph and the model's own pooling, in numpy.

Importing sentence-transformers costs about 410 MB of memory before it encodes a word (it brings PyTorch and
transformers); the tokenizer, ONNX Runtime and numpy cost about 50 MB. Once the graph is exported (which needs the
PyTorch model, once), this runs the same pipeline sentence-transformers runs — the same tokens, batches sorted by
length and padded to their longest text, mean pooling over the attention mask, normalisation — so its vectors
are sentence-transformers' to within float rounding, int8 included (``tests/test_backends.py`` checks both).

It serves the models whose sentence-transformers pipeline is exactly a Transformer with a ``tokenizer.json``,
mean pooling and optionally Normalize (all-MiniLM-L6-v2 and most sentence-transformers models);
``plain_pipeline`` says whether a model folder is one. Others keep sentence-transformers' pipeline.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

_TRANSFORMER = "sentence_transformers.models.Transformer"
_POOLING = "sentence_transformers.models.Pooling"
_NORMALIZE = "sentence_transformers.models.Normalize"


@dataclass(frozen=True)
class Pipeline:
    """What a plain model folder says about its pipeline."""

    folder: Path
    max_tokens: int
    lower_case: bool
    normalize: bool
    pad_token: str


def _read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def plain_pipeline(folder: Path) -> Pipeline | None:
    """The folder's pipeline when it is Transformer → mean pooling (→ Normalize) with a fast tokenizer, else None."""
    try:
        modules = _read(folder / "modules.json")
        types = [m["type"] for m in modules]
        if not (folder / "tokenizer.json").is_file() or types[:2] != [_TRANSFORMER, _POOLING]:
            return None
        if types[2:] not in ([], [_NORMALIZE]) or modules[0].get("path", "") != "":
            return None
        pooling = _read(folder / modules[1]["path"] / "config.json")
        modes = {k for k, v in pooling.items() if k.startswith("pooling_mode_") and v}
        if modes != {"pooling_mode_mean_tokens"} or pooling.get("include_prompt") is False:
            return None
        config = _read(folder / "sentence_bert_config.json")
        tokenizer_config = _read(folder / "tokenizer_config.json")
        max_tokens = config.get("max_seq_length")
        if not max_tokens:  # as sentence-transformers decides: what both the tokenizer and the positions allow
            positions = _read(folder / "config.json").get("max_position_embeddings") or 512
            max_tokens = min(int(tokenizer_config.get("model_max_length") or positions), int(positions))
        pad = tokenizer_config.get("pad_token") or "[PAD]"
        if isinstance(pad, dict):  # a serialised AddedToken
            pad = pad.get("content") or "[PAD]"
        return Pipeline(folder=folder, max_tokens=int(max_tokens), lower_case=bool(config.get("do_lower_case")),
                        normalize=types[2:] == [_NORMALIZE], pad_token=str(pad))
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


class TokenCounter:
    """The model's tokenizer for counting and cutting text (chunking), in the call style of a Hugging Face fast
    tokenizer: ``counter(texts, add_special_tokens=False, return_offsets_mapping=True)`` and ``decode``."""

    def __init__(self, folder: Path) -> None:
        from tokenizers import Tokenizer

        self._tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tok.no_truncation()
        self._tok.no_padding()

    def __call__(self, texts: str | Sequence[str], *, add_special_tokens: bool = True,
                 return_offsets_mapping: bool = False) -> dict[str, list[Any]]:
        """One list per text; for one text given as a string, that text's list (as transformers answers)."""
        one = isinstance(texts, str)
        encodings = self._tok.encode_batch([texts] if one else list(texts), add_special_tokens=add_special_tokens)
        out: dict[str, list[Any]] = {"input_ids": [e.ids for e in encodings]}
        if return_offsets_mapping:
            out["offset_mapping"] = [e.offsets for e in encodings]
        return {k: v[0] for k, v in out.items()} if one else out

    def decode(self, ids: Sequence[int]) -> str:
        return self._tok.decode(list(ids), skip_special_tokens=False)  # as transformers decodes: [UNK] kept


class LeanEncoder:
    """Texts to vectors through an exported graph. Thread-safe: the tokenizer's settings are fixed at start and
    ONNX Runtime sessions may run from several threads."""

    def __init__(self, pipeline: Pipeline, session: Any) -> None:
        from tokenizers import Tokenizer

        self.pipeline = pipeline
        self.max_tokens = pipeline.max_tokens
        self._session = session
        self._inputs = {i.name for i in session.get_inputs()}
        tok = Tokenizer.from_file(str(pipeline.folder / "tokenizer.json"))
        tok.enable_truncation(max_length=pipeline.max_tokens)
        pad_id = tok.token_to_id(pipeline.pad_token)
        tok.enable_padding(pad_id=0 if pad_id is None else pad_id, pad_token=pipeline.pad_token)
        self._tok = tok
        self._counter: TokenCounter | None = None
        self._lock = threading.Lock()

    def tokenizer(self) -> TokenCounter:
        with self._lock:
            if self._counter is None:
                self._counter = TokenCounter(self.pipeline.folder)
            return self._counter

    def encode(self, texts: Sequence[str], batch_size: int) -> np.ndarray:
        """Normalised vectors, one row per text, in the order given."""
        texts = [t.lower() for t in texts] if self.pipeline.lower_case else list(texts)
        order = np.argsort([-len(t) for t in texts])  # as sentence-transformers batches: longest first
        out: list[np.ndarray] = []
        for start in range(0, len(texts), batch_size):
            out.append(self._batch([texts[i] for i in order[start:start + batch_size]]))
        vectors = np.concatenate(out) if out else np.zeros((0, 0), dtype=np.float32)
        result = np.empty_like(vectors)
        result[order] = vectors
        return result

    def _batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tok.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask,
                 "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64)}
        (hidden,) = self._session.run(["last_hidden_state"], {k: v for k, v in feeds.items() if k in self._inputs})
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        # always unit length, as Embedder.encode asks of sentence-transformers (normalize_embeddings=True), with or
        # without a Normalize module: the index's similarities are dot products
        pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return pooled.astype(np.float32)
