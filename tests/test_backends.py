"""The embedding backends: torch and ONNX fp32 give the same vectors, int8 rebuilds, the export is made once."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index.embedding.model import Embedder, resolve_model
from index.indexing.indexer import Indexer

from .conftest import ROOT, write_config

# benchmarks/bench_backends.py measured at most 1.7e-7 between PyTorch's and ONNX fp32's vectors (unit
# length, 384 floats) over 800 chunks of the shared archives; int8 moved them by up to 0.08 (cosine 0.92)
FP32_TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def torch_embedder() -> Embedder:
    e = Embedder(backend="torch")
    e.load()
    return e


def _texts(samples: Path) -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted(samples.glob("*.md")) if p.name != "README.md"]


def test_onnx_fp32_vectors_match_torch_within_the_measured_tolerance(embedder, torch_embedder, samples):
    texts = [*_texts(samples), "what is layer skip", "a", "ünïcödé ✓ and some code: fn main() {}"]
    onnx = Embedder(backend="onnx", export_dir=embedder.export_dir or Path(os.environ["BACKISSUE_EMBEDDING__EXPORT_DIR"]))
    a, b = torch_embedder.encode(texts), onnx.encode(texts)
    assert a.shape == b.shape == (len(texts), 384)
    assert float(np.abs(a - b).max()) < FP32_TOLERANCE
    assert onnx.identity == torch_embedder.identity  # so switching between them keeps the index


def test_the_default_backend_agrees_with_torch(embedder, torch_embedder, samples):
    texts = _texts(samples)
    assert float(np.abs(embedder.encode(texts) - torch_embedder.encode(texts)).max()) < FP32_TOLERANCE


def _reindex(env, embedder: Embedder, spec):
    return Indexer(env.catalog, env.store, embedder).reindex([spec])


def test_switching_torch_and_onnx_keeps_the_index_and_int8_rebuilds_it(index_env, samples, spec_for, tmp_path,
                                                                       torch_embedder):
    spec = spec_for(samples)
    first = _reindex(index_env, torch_embedder, spec)
    assert first.new == 3
    cache = Path(os.environ["BACKISSUE_EMBEDDING__EXPORT_DIR"])
    same = _reindex(index_env, Embedder(backend="onnx", export_dir=cache), spec)
    assert same.new == 0 and same.unchanged == 3  # nothing embedded again

    int8 = Embedder(backend="onnx-int8", export_dir=cache)
    rebuilt = _reindex(index_env, int8, spec)
    assert rebuilt.new == 3 and rebuilt.unchanged == 0
    assert index_env.catalog.get_meta("model") == int8.identity != torch_embedder.identity
    back = _reindex(index_env, torch_embedder, spec)
    assert back.new == 3  # leaving int8 rebuilds too


def test_the_export_goes_to_its_folder_once_and_a_changed_model_exports_again(tmp_path):
    model = tmp_path / "model"
    shutil.copytree(resolve_model("all-MiniLM-L6-v2"), model)
    before = sorted(p.relative_to(model) for p in model.rglob("*"))
    exports = tmp_path / "data" / "onnx"

    # the first export runs in a child process: the one that embeds never loads PyTorch, even that first time
    code = ("import json, sys; from pathlib import Path; from index.embedding.model import Embedder;"
            f" e = Embedder({str(model)!r}, backend='onnx', export_dir=Path({str(exports)!r}));"
            " v = e.encode_query('what is layer skip').tolist();"
            " print(json.dumps([v, [m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules]]))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 0, r.stderr
    vector, imported = json.loads(r.stdout)
    assert imported == []
    graphs = list(exports.rglob("*.onnx"))
    assert len(graphs) == 1
    stamp = graphs[0].stat().st_mtime_ns
    assert sorted(p.relative_to(model) for p in model.rglob("*")) == before  # the model's folder is left alone

    again = Embedder(str(model), backend="onnx", export_dir=exports)
    assert np.allclose(again.encode_query("what is layer skip"), vector)
    assert list(exports.rglob("*.onnx")) == graphs and graphs[0].stat().st_mtime_ns == stamp  # reused

    config = model / "config.json"
    config.write_text(config.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # the model changed
    Embedder(str(model), backend="onnx", export_dir=exports).load()
    assert len(list(exports.rglob("*.onnx"))) == 2


@pytest.mark.slow
@pytest.mark.parametrize("package", ["onnx", "onnxruntime"])
def test_a_missing_onnx_package_says_how_to_install_it(tmp_path, samples, package):
    cfg = write_config(tmp_path / "config.toml", tmp_path / "data", [("examples", samples)],
                       extra='[embedding]\nbackend = "onnx"\n')
    # the package cannot be imported by the bot nor by the process it exports the graph in, as if never installed
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(f"import sys\nsys.modules[{package!r}] = None\n", encoding="utf-8")
    code = f"import sys; sys.argv = ['bot', '--config', {str(cfg)!r}, 'reindex']; from bot.cli import main; sys.exit(main())"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKISSUE_")}  # a fresh export folder
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(ROOT)])
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert r.returncode == 4, r.stderr
    assert f"needs the Python package {package!r}" in r.stderr and "pip install onnx onnxruntime" in r.stderr
    assert 'backend = "torch"' in r.stderr
    assert "Traceback" not in r.stderr


def test_int8_vectors_are_those_of_the_sentence_transformers_pipeline(samples):
    """The exported graph runs without sentence-transformers (index.embedding.lean); int8's vectors depend on how
    texts are batched and padded, so the same batches must give the same vectors, or existing int8 indexes would
    hold vectors a question is no longer encoded like."""
    from index.embedding import onnx

    cache = Path(os.environ["BACKISSUE_EMBEDDING__EXPORT_DIR"])
    lean = Embedder(backend="onnx-int8", export_dir=cache, batch_size=4)
    texts = [*_texts(samples), "what is layer skip", "a", "  spaced out  ", "word " * 400]
    ours = lean.encode(texts)
    reference = Embedder(backend="onnx-int8", export_dir=cache)
    model = reference._sentence_transformer(resolve_model("all-MiniLM-L6-v2"))
    graph, transformer = reference._export(model, resolve_model("all-MiniLM-L6-v2"), "int8")
    onnx.install(transformer, graph, None)
    theirs = model.encode(texts, batch_size=4, normalize_embeddings=True, convert_to_numpy=True)
    assert float(np.abs(ours - theirs).max()) < FP32_TOLERANCE


def test_an_exported_model_answers_without_loading_pytorch(tmp_path, embedder):
    """What keeps `bot run` small: with the graph exported, neither PyTorch nor sentence-transformers is imported."""
    code = ("import sys; from pathlib import Path; from index.embedding.model import Embedder;"
            f" e = Embedder(backend={embedder.backend!r}, export_dir=Path({str(embedder.export_dir)!r}));"
            " v = e.encode_query('what is layer skip'); c = e.tokenizer()(['layer skip'], add_special_tokens=False);"
            " print(len(v), e.max_tokens, c['input_ids'][0], sorted(m for m in ('torch', 'sentence_transformers',"
            " 'transformers') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("[", 1)[0].split() == ["384", "256"]
    assert r.stdout.strip().endswith("[]"), r.stdout  # none of the three
