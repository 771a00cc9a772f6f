"""What the lean encoder reads from a model folder: the token limit and padding sentence-transformers would use."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from index.embedding.lean import plain_pipeline
from index.embedding.model import resolve_model


def _model_copy(tmp_path: Path) -> Path:
    """The packaged model's configuration files (not its weights: the pipeline is read from the JSON alone)."""
    source = Path(resolve_model("all-MiniLM-L6-v2"))
    folder = tmp_path / "model"
    folder.mkdir()
    for path in source.rglob("*.json"):
        if "onnx" not in path.parts:
            (folder / path.relative_to(source)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, folder / path.relative_to(source))
    return folder


def _edit(path: Path, **changes: object) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(changes)
    for key in [k for k, v in changes.items() if v is None]:
        del data[key]
    path.write_text(json.dumps(data), encoding="utf-8")


def test_the_packaged_model_reads_256_tokens(tmp_path):
    pipeline = plain_pipeline(_model_copy(tmp_path))
    assert pipeline is not None and pipeline.max_tokens == 256 and pipeline.pad_token == "[PAD]"


def test_without_a_sequence_length_the_model_reads_no_more_than_its_positions(tmp_path):
    """A tokenizer saying 'no limit' (1e30) must not let texts past the model's 512 positions, or the graph fails."""
    folder = _model_copy(tmp_path)
    _edit(folder / "sentence_bert_config.json", max_seq_length=None)
    _edit(folder / "tokenizer_config.json", model_max_length=int(1e30))
    pipeline = plain_pipeline(folder)
    assert pipeline is not None
    positions = json.loads((folder / "config.json").read_text(encoding="utf-8"))["max_position_embeddings"]
    assert pipeline.max_tokens == positions == 512


def test_a_pad_token_saved_as_an_added_token_is_read_by_its_content(tmp_path):
    folder = _model_copy(tmp_path)
    _edit(folder / "tokenizer_config.json", pad_token={"content": "[PAD]", "lstrip": False, "normalized": False,
                                                       "rstrip": False, "single_word": False, "special": True})
    pipeline = plain_pipeline(folder)
    assert pipeline is not None and pipeline.pad_token == "[PAD]"
