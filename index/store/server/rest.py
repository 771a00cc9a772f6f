"""Collections of a Chroma server over its HTTP API, without importing chromadb.

Importing chromadb costs a short-lived process 1.5-3.5 s (measured under load on 2 cores: its client pulls in
OpenTelemetry, gRPC, jsonschema, its embedding functions...), more than a quick command such as ``bot gaps``
needs in all. :class:`RestClient` speaks to the server's ``/api/v2`` itself, with the standard library, for the
part of chromadb's client API that the small records beside the index use (``ServerRecords``, the question
record): ``list_collections``, ``get_or_create_collection`` of a collection that exists, and a collection's
``get``, ``add``, ``upsert``, ``update`` and ``delete``. It makes no collection (a missing one is a
``LookupError``: the caller opens chromadb's client instead, which makes it as chromadb does) and it embeds
nothing (records carry their own vectors, or none).
"""

from __future__ import annotations

import http.client
import json
import logging
import ssl
import threading
import urllib.parse
from collections.abc import Sequence
from typing import Any

import numpy as np

from index.errors import Unavailable

log = logging.getLogger(__name__)
TENANT = "default_tenant"
DATABASE = "default_database"
TIMEOUT = 60.0

try:  # chromadb's own dependency: parses the vectors of 10,000 questions several times faster than json
    import orjson

    def _loads(data: bytes) -> Any:
        return orjson.loads(data)
except ImportError:  # pragma: no cover - chromadb always brings it
    def _loads(data: bytes) -> Any:
        return json.loads(data)


def _tls_context() -> ssl.SSLContext:
    """The certificates chromadb's client (httpx) trusts: certifi's when installed, else the system's."""
    try:
        import certifi
    except ImportError:  # pragma: no cover - httpx, chromadb's, brings it
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


class RestError(Unavailable):
    """The Chroma server refused or failed a request; the message says which and why."""


class RestClient:
    """One Chroma server; safe to use from several threads (each keeps its own connection)."""

    def __init__(self, url: str, token: str | None = None, *, timeout: float = TIMEOUT) -> None:
        parsed = urllib.parse.urlparse(url)
        self._https = parsed.scheme == "https"
        self._host = parsed.hostname or "localhost"
        self._port = parsed.port or (443 if self._https else 8000)
        self._prefix = (parsed.path or "").rstrip("/") + "/api/v2"
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._timeout = timeout
        self._local = threading.local()
        self.url = url

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._https:
                conn = http.client.HTTPSConnection(self._host, self._port, timeout=self._timeout,
                                                   context=_tls_context())
            else:
                conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
            self._local.conn = conn
        return conn

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """``path`` under ``/api/v2``; the decoded JSON answer. A connection the server closed is opened again
        once (requests here are reads, or writes that may be repeated: upsert, delete, add of a fixed id)."""
        data = None if body is None else json.dumps(body).encode()
        url = self._prefix + urllib.parse.quote(path, safe="/")
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(method, url, body=data, headers=self._headers)
                response = conn.getresponse()
                payload = response.read()
            except ConnectionRefusedError as exc:
                conn.close()
                self._local.conn = None
                raise RestError(f"cannot reach the Chroma server at {self.url}: {exc}") from exc
            except (http.client.HTTPException, ConnectionError) as exc:
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise RestError(f"the Chroma server at {self.url} did not answer {method} {path}: {exc}") from exc
                continue
            except OSError as exc:
                conn.close()
                self._local.conn = None
                raise RestError(f"cannot reach the Chroma server at {self.url}: {exc}") from exc
            if response.status == 404:
                raise LookupError(f"{path}: not found on the Chroma server at {self.url}")
            if response.status >= 300:
                raise RestError(f"the Chroma server at {self.url} answered {method} {path} with {response.status}:"
                                f" {payload[:300].decode(errors='replace')}")
            return _loads(payload) if payload else None
        raise AssertionError("unreachable")

    def _collections(self) -> str:
        return f"/tenants/{TENANT}/databases/{DATABASE}/collections"

    def list_collections(self) -> list[str]:
        return [str(c["name"]) for c in self.request("GET", self._collections())]

    def get_collection(self, name: str) -> RestCollection:
        """The collection named so; LookupError when there is none."""
        got = self.request("GET", f"{self._collections()}/{name}")
        return RestCollection(self, f"{self._collections()}/{got['id']}", name)

    def get_or_create_collection(self, name: str, embedding_function: Any = None, **_: Any) -> RestCollection:
        """As chromadb's, for a collection that exists (this client makes none: LookupError)."""
        if embedding_function is not None:
            raise ValueError("the REST client embeds nothing: pass embedding_function=None")
        return self.get_collection(name)


def _vectors(embeddings: Any) -> list[list[float]] | None:
    if embeddings is None:
        return None
    return [[float(x) for x in np.asarray(v, dtype=np.float32)] for v in embeddings]


class RestCollection:
    def __init__(self, client: RestClient, path: str, name: str) -> None:
        self._client, self._path, self.name = client, path, name

    def get(self, ids: Sequence[str] | None = None, where: dict[str, Any] | None = None, limit: int | None = None,
            offset: int | None = None, include: Sequence[str] = ("metadatas", "documents")) -> dict[str, Any]:
        got = self._client.request("POST", f"{self._path}/get", {
            "ids": None if ids is None else list(ids), "where": where or None, "limit": limit, "offset": offset,
            "include": list(include)})
        out = {"ids": got["ids"], "metadatas": got.get("metadatas"), "documents": got.get("documents")}
        embeddings = got.get("embeddings")
        out["embeddings"] = None if embeddings is None else [np.asarray(v, dtype=np.float32) for v in embeddings]
        return out

    def _write(self, op: str, ids: Sequence[str], embeddings: Any, metadatas: Sequence[dict[str, Any]] | None,
               documents: Sequence[str] | None) -> None:
        self._client.request("POST", f"{self._path}/{op}", {
            "ids": list(ids), "embeddings": _vectors(embeddings), "metadatas": None if metadatas is None
            else [dict(m) for m in metadatas], "documents": None if documents is None else list(documents),
            "uris": None})

    def add(self, ids: Sequence[str], embeddings: Any, metadatas: Sequence[dict[str, Any]] | None = None,
            documents: Sequence[str] | None = None) -> None:
        self._write("add", ids, embeddings, metadatas, documents)

    def upsert(self, ids: Sequence[str], embeddings: Any, metadatas: Sequence[dict[str, Any]] | None = None,
               documents: Sequence[str] | None = None) -> None:
        self._write("upsert", ids, embeddings, metadatas, documents)

    def update(self, ids: Sequence[str], embeddings: Any = None, metadatas: Sequence[dict[str, Any]] | None = None,
               documents: Sequence[str] | None = None) -> None:
        self._write("update", ids, embeddings, metadatas, documents)

    def delete(self, ids: Sequence[str] | None = None, where: dict[str, Any] | None = None) -> None:
        if not ids and not where:
            return
        self._client.request("POST", f"{self._path}/delete", {"ids": None if ids is None else list(ids),
                                                               "where": where or None})
