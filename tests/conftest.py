from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as bot.cli.main does
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Every test makes fresh data folders, and the default ONNX backend would export its graph into each one
# (~5 s): the whole run, its workers and the bots it starts share one export cache instead. Its folders are
# keyed by the model's files, so a cache left from an earlier run is reused only for the same model.
EXPORT_CACHE = Path(tempfile.gettempdir()) / f"backissue-tests-onnx-{os.getuid()}"
os.environ.setdefault("BACKISSUE_EMBEDDING__EXPORT_DIR", str(EXPORT_CACHE))

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SHARED = Path(os.environ.get("BACKISSUE_SHARED", ROOT.parent / "shared"))
CORPORA = SHARED / "corpora"

needs_shared = pytest.mark.skipif(not CORPORA.is_dir(), reason=f"shared archives not found at {CORPORA}")


@pytest.fixture(scope="session")
def embedder():
    """The real default model on the default backend, loaded once for the whole run."""
    from bot.settings import EmbeddingSettings
    from index.embedding.model import Embedder

    backend = os.environ.get("BACKISSUE_EMBEDDING__BACKEND", EmbeddingSettings().backend)  # as the bots it starts
    e = Embedder(backend=backend, export_dir=Path(os.environ["BACKISSUE_EMBEDDING__EXPORT_DIR"]))
    e.load()
    return e


@pytest.fixture
def chroma(tmp_path: Path) -> Iterator[object]:
    """A real Chroma server on loopback for one test (server mode), with its own folder; stopped afterwards."""
    from tests.chroma_server import ChromaServer

    s = ChromaServer(tmp_path / "chroma-server")
    yield s
    s.stop()


@pytest.fixture
def samples(tmp_path: Path) -> Path:
    """A private copy of the bundled sample issues, free to change."""
    dest = tmp_path / "issues"
    shutil.copytree(EXAMPLES, dest)
    return dest


@pytest.fixture
def spec_for() -> Callable[..., object]:
    from index.reading.issue import SourceSpec

    def make(path: Path, name: str = "examples", **kw: object) -> SourceSpec:
        kw.setdefault("base_url", "https://newsletter.example.org/issues/")
        kw.setdefault("exclude", ("README.md",))
        return SourceSpec(name=name, path=path, **kw)  # type: ignore[arg-type]

    return make


class IndexEnv:
    """A catalog, an embedded Chroma store and an indexer in one data folder."""

    def __init__(self, data_dir: Path, embedder: object) -> None:
        from index.indexing.indexer import Indexer
        from index.store.catalog import Catalog
        from index.store.vectors import VectorStore

        self.data_dir = data_dir
        self.catalog = Catalog(data_dir / "catalog.sqlite3")
        self._store: VectorStore | None = None
        self.embedder = embedder
        self.indexer = Indexer(self.catalog, self.store, embedder)  # type: ignore[arg-type]

    def store(self):
        from index.store.vectors import VectorStore

        if self._store is None:
            self._store = VectorStore(path=self.data_dir / "chroma")
        return self._store

    def retriever(self):
        from index.search.retriever import Retriever

        return Retriever(self.catalog, self.store(), self.embedder, self.data_dir / "keyword-index")  # type: ignore[arg-type]

    def close(self) -> None:
        self.catalog.close()


@pytest.fixture
def index_env(tmp_path: Path, embedder) -> Iterator[IndexEnv]:
    env = IndexEnv(tmp_path / "data", embedder)
    yield env
    env.close()


def write_config(path: Path, data_dir: Path, sources: list[tuple[str, Path]], extra: str = "",
                 source_extra: dict[str, str] | None = None) -> Path:
    lines = [f'data_dir = "{data_dir}"', extra, ""]
    for name, folder in sources:
        where = f'git = "{folder}"' if str(folder).startswith(("file://", "http://", "https://")) else f'path = "{folder}"'
        if str(folder).startswith("feed+"):  # a feed source: "feed+http://…"
            where = f'feed = "{str(folder).removeprefix("feed+")}"'
        if str(folder).startswith("export+"):  # an export source: "export+PATH"
            where = f'export = "{str(folder).removeprefix("export+")}"'
        lines += ["[[sources]]", f'name = "{name}"', where,
                  'base_url = "https://newsletter.example.org/issues/"', 'exclude = ["README.md"]',
                  (source_extra or {}).get(name, ""), ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def child_keeps(name: str) -> bool:
    """Whether a child process the tests start inherits the variable ``name``: none of the caller's
    BACKISSUE_ settings, except the suite's shared ONNX export cache."""
    return not name.startswith("BACKISSUE_") or name == "BACKISSUE_EMBEDDING__EXPORT_DIR"
