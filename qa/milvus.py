"""Vectors kept in Milvus instead of FAISS files: Milvus Lite (an embedded database in a local
folder, such as `index/milvus.db`) on a laptop and in tests, a Milvus server
(`http://host:19530`) for a team. The code path is the same; only the URI differs.

The only module that imports pymilvus (installed with the package's `milvus` extra). Each
vector file of a FAISS index generation becomes one collection (`<prefix>_<kind>_<generation>`,
an int64 `id` = the row, a float `vector`, exact inner-product search), so an index generation
is switched atomically by its manifest exactly as with FAISS files, and `MilvusVectors` reads
like `qa.index.VectorIndex`. Chunk records, documents, the manifest and BM25 stay in the index
folder, so citations and offsets are the same whichever store holds the vectors.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from .errors import IndexCorruptError, MilvusUnavailableError

log = logging.getLogger(__name__)

#: The Milvus Lite folder used when no `milvus_uri` is set (inside the index folder).
DEFAULT_LITE_NAME = "milvus.db"
#: Rows sent per insert or get call (Milvus caps one request's size).
BATCH = 2000

_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


def resolve_uri(uri: str, index_dir: Path) -> str:
    """A server URI as is; a Milvus Lite path relative to the index folder made absolute."""
    if "://" in uri:
        return uri
    path = Path(uri or DEFAULT_LITE_NAME).expanduser()
    return str(path if path.is_absolute() else Path(index_dir).resolve() / path)


def client_for(vector_store: dict[str, Any], index_dir: Path) -> Any:
    """The client of an index's Milvus store (the manifest's `vector_store`: its "uri", "" = Lite in the folder)."""
    return connect(resolve_uri(vector_store.get("uri", ""), index_dir))


def connect(uri: str) -> Any:
    """The client of `uri` (one per URI in this process: Milvus Lite opens its folder once)."""
    with _clients_lock:
        if uri not in _clients:
            try:
                from pymilvus import MilvusClient
            except ImportError as exc:
                raise MilvusUnavailableError(
                    "the Milvus store needs pymilvus and milvus-lite: pip install -e '.[milvus]' in the qa checkout "
                    "(or pip install pymilvus milvus-lite)") from exc
            if "://" not in uri:
                Path(uri).parent.mkdir(parents=True, exist_ok=True)
                # Milvus Lite serves pymilvus from a gRPC server in this process; pymilvus probes it for
                # calls Lite does not implement (AllocTimestamp) and falls back, and grpc logs each probe
                # as an error with a traceback. The real failures reach us as exceptions.
                logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
            try:
                _clients[uri] = MilvusClient(uri)
            except Exception as exc:  # pymilvus raises its own and grpc errors
                raise MilvusUnavailableError(f"cannot open the Milvus store at {uri}: {exc}") from exc
        return _clients[uri]


class MilvusVectors:
    """One collection of unit vectors, searched by inner product (exact), rows = ids 0..n-1."""

    def __init__(self, client: Any, name: str, dimension: int, rows: int) -> None:
        self.client = client
        self.name = name
        self.dimension = dimension
        self.rows = rows

    def __len__(self) -> int:
        return self.rows

    @property
    def approximate(self) -> bool:
        return False

    def params(self) -> dict[str, Any]:
        return {"kind": "milvus", "index": "FLAT", "metric": "IP", "rows": self.rows}

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, row ids) of the k nearest rows, best first (as `VectorIndex.search`)."""
        k = max(1, min(k, self.rows))
        if self.rows == 0:
            return np.zeros(0, np.float32), np.full(0, -1, np.int64)
        hits = self.client.search(self.name, data=[np.asarray(query, np.float32).reshape(-1).tolist()], limit=k,
                                  anns_field="vector", search_params={"metric_type": "IP"}, output_fields=["id"])[0]
        scores = np.array([h["distance"] for h in hits], dtype=np.float32)
        ids = np.array([h["id"] for h in hits], dtype=np.int64)
        return scores, ids

    def vectors_at(self, rows: list[int]) -> np.ndarray:
        out = np.zeros((len(rows), self.dimension), dtype=np.float32)
        where = {row: i for i, row in enumerate(rows)}
        for start in range(0, len(rows), BATCH):
            batch = [int(r) for r in rows[start:start + BATCH]]
            for rec in self.client.get(self.name, ids=batch, output_fields=["vector"]):
                out[where[int(rec["id"])]] = rec["vector"]
        return out

    def vectors(self) -> np.ndarray:
        return self.vectors_at(list(range(self.rows)))


def write(client: Any, name: str, vectors: np.ndarray) -> MilvusVectors:
    """A new collection `name` holding `vectors` (row i as id i), flushed and loaded."""
    from pymilvus import DataType

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    dimension = int(vectors.shape[1])
    if client.has_collection(name):  # left by a write interrupted before its manifest switched
        client.drop_collection(name)
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
    index = client.prepare_index_params()
    index.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
    client.create_collection(name, schema=schema, index_params=index)
    for start in range(0, len(vectors), BATCH):
        rows = vectors[start:start + BATCH]
        client.insert(name, [{"id": start + i, "vector": v.tolist()} for i, v in enumerate(rows)])
    client.flush(name)
    client.load_collection(name)
    return MilvusVectors(client, name, dimension, len(vectors))


def read(client: Any, name: str, dimension: int, rows: int) -> MilvusVectors:
    """The collection `name`; IndexCorruptError if it is missing or does not hold `rows` rows."""
    if not client.has_collection(name):
        raise IndexCorruptError(f"the Milvus collection {name} is missing; rebuild the index")
    client.load_collection(name)
    held = int(client.get_collection_stats(name).get("row_count", -1))
    if held != rows:
        raise IndexCorruptError(f"the Milvus collection {name} holds {held} vectors, the manifest says {rows}; "
                                "rebuild the index")
    return MilvusVectors(client, name, dimension, rows)


def drop_except(client: Any, prefix: str, keep: Iterable[str]) -> None:
    """Drop this index's collections (named `prefix`_…) that the manifest no longer names."""
    keep = set(keep)
    for name in client.list_collections():
        if name.startswith(prefix + "_") and name not in keep:
            log.info("dropping Milvus collection %s (an older generation)", name)
            client.drop_collection(name)
