"""Vectors kept in Milvus instead of FAISS files: Milvus Lite (an embedded database in a local
folder, such as `index/milvus.db`) on a laptop and in tests, a Milvus server
(`http://host:19530`) for a team. The code path is the same; only the URI differs.

The only module that imports pymilvus (installed with the package's `milvus` extra). Each
vector file of a FAISS index generation becomes one collection (`<prefix>_<kind>_<generation>`,
an int64 `id` = the row, a float `vector`, inner-product search: exact (Milvus FLAT) below
`qa.index.APPROX_THRESHOLD` rows, like `VectorIndex`, and Milvus's own approximate HNSW index from
it on; the manifest's `vector_indexes` records which, and `read` asks Milvus), so an index generation
is switched atomically by its manifest exactly as with FAISS files, and `MilvusVectors` reads
like `qa.index.VectorIndex`. Chunk records, documents, the manifest and BM25 stay in the index
folder, so citations and offsets are the same whichever store holds the vectors.

Integrity, as with FAISS files (whose sha256 the manifest records): each collection records the
sha256 of its vectors (float32, row order) in its properties when it is written (`HASH_PROPERTY`),
and `read` fetches every vector and checks it (about 1.5 s per 10,000 of 384 floats, 2 cores), so
vectors moved, changed or lost inside the store are IndexCorruptError, never other answers. So is
any failure to read a collection (a damaged Milvus Lite file: Milvus raises its own errors). A
build then rebuilds the index into new collections and drops the old ones of this index (named by
its prefix), damaged or not; no other collection in the store is touched. Collections written
before hashes load unverified (`MilvusVectors.verified` False); the next update rewrites them.

Kill points: `qa.index.save` writes the new collections, switches the manifest, then drops the
old collections, so a kill leaves the old index before the switch and the new one after it, as
long as `write` returns only once Milvus has written everything of the new collection. It did
not: created with its index, a collection is loaded while empty, so after `flush` Milvus Lite
wrote the index file of the flushed rows from a background thread (in place, not atomically) and
`load_collection` returned at once; at 20,000 vectors that file held 18.9 of its 30.7 MB when
`write` returned. A kill just after the switch left the manifest naming a collection whose index
file was cut short, which Milvus then failed to load with its own error, not IndexCorruptError:
an index that neither loaded nor rebuilt. Now the rows are flushed before the collection has an
index, and `create_index` + `load_collection` build and write its index files within the call.
Whatever Milvus might still write later (the index of segments Milvus Lite merges in the
background, from several hundred thousand vectors) is caught on read as damage: rebuilt.
"""

from __future__ import annotations

import hashlib
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
#: The collection property holding the sha256 of its vectors (see `vectors_sha256`).
HASH_PROPERTY = "qa.vectors_sha256"
#: Milvus's HNSW index, used for collections of at least `qa.index.APPROX_THRESHOLD` rows: graph
#: degree and build breadth, and the search breadth (at least the number of rows asked for).
HNSW_BUILD = {"M": 16, "efConstruction": 128}
HNSW_EF = 128

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
                # Likewise pymilvus and Milvus Lite log a damaged collection's error with a traceback
                # before raising it; `read` turns it into IndexCorruptError.
                logging.getLogger("pymilvus.decorators").setLevel(logging.CRITICAL)
                logging.getLogger("milvus_lite.adapter.grpc.servicer").setLevel(logging.CRITICAL)
            try:
                _clients[uri] = MilvusClient(uri)
            except Exception as exc:  # pymilvus raises its own and grpc errors
                raise MilvusUnavailableError(f"cannot open the Milvus store at {uri}: {exc}") from exc
        return _clients[uri]


class MilvusVectors:
    """One collection of unit vectors, searched by inner product (exact), rows = ids 0..n-1."""

    def __init__(self, client: Any, name: str, dimension: int, rows: int, index: str = "FLAT") -> None:
        self.client = client
        self.name = name
        self.dimension = dimension
        self.rows = rows
        self.index = index  # Milvus's index type: "FLAT" (exact) or "HNSW"
        # False when read from a collection written before hashes (its vectors were not checked).
        self.verified = True

    def __len__(self) -> int:
        return self.rows

    @property
    def approximate(self) -> bool:
        return self.index != "FLAT"

    def params(self) -> dict[str, Any]:
        return {"kind": "milvus", "index": self.index, "metric": "IP", "rows": self.rows}

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, row ids) of the k nearest rows, best first (as `VectorIndex.search`)."""
        k = max(1, min(k, self.rows))
        if self.rows == 0:
            return np.zeros(0, np.float32), np.full(0, -1, np.int64)
        search_params: dict[str, Any] = {"metric_type": "IP"}
        if self.index == "HNSW":
            search_params["params"] = {"ef": max(HNSW_EF, k)}
        hits = self.client.search(self.name, data=[np.asarray(query, np.float32).reshape(-1).tolist()], limit=k,
                                  anns_field="vector", search_params=search_params, output_fields=["id"])[0]
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


def vectors_sha256(vectors: np.ndarray) -> str:
    """Hex sha256 of `vectors` as little-endian float32, row after row."""
    return hashlib.sha256(np.ascontiguousarray(vectors, dtype="<f4").tobytes()).hexdigest()


def write(client: Any, name: str, vectors: np.ndarray, threshold: int | None = None) -> MilvusVectors:
    """A new collection `name` holding `vectors` (row i as id i) and their sha256, flushed, indexed
    and loaded: complete on disk when this returns (see the module docstring's kill points).
    Indexed exactly (FLAT) below `threshold` rows (default `qa.index.APPROX_THRESHOLD`), by HNSW
    from it on."""
    from pymilvus import DataType

    from . import index as store

    threshold = store.APPROX_THRESHOLD if threshold is None else int(threshold)
    kind = "HNSW" if len(vectors) >= max(1, threshold) else "FLAT"
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    dimension = int(vectors.shape[1])
    if client.has_collection(name):  # left by a write interrupted before its manifest switched
        client.drop_collection(name)
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
    client.create_collection(name, schema=schema, properties={HASH_PROPERTY: vectors_sha256(vectors)})
    for start in range(0, len(vectors), BATCH):
        rows = vectors[start:start + BATCH]
        client.insert(name, [{"id": start + i, "vector": v.tolist()} for i, v in enumerate(rows)])
    client.flush(name)
    index = client.prepare_index_params()
    index.add_index(field_name="vector", index_type=kind, metric_type="IP",
                    **({"params": dict(HNSW_BUILD)} if kind == "HNSW" else {}))
    client.create_index(name, index)
    client.load_collection(name)
    return MilvusVectors(client, name, dimension, len(vectors), kind)


def read(client: Any, name: str, dimension: int, rows: int) -> MilvusVectors:
    """The collection `name`, its vectors checked against the sha256 recorded when it was written.

    IndexCorruptError if it is missing, does not hold `rows` rows, holds other vectors, or cannot
    be read at all (a damaged Milvus Lite file); MilvusUnavailableError if the server is down."""
    from pymilvus.exceptions import MilvusUnavailableException

    try:
        if not client.has_collection(name):
            raise IndexCorruptError(f"the Milvus collection {name} is missing; rebuild the index")
        client.load_collection(name)
        held = int(client.get_collection_stats(name).get("row_count", -1))
        if held != rows:
            raise IndexCorruptError(f"the Milvus collection {name} holds {held} vectors, the manifest says {rows}; "
                                    "rebuild the index")
        vectors = MilvusVectors(client, name, dimension, rows, _index_type(client, name))
        expected = (client.describe_collection(name).get("properties") or {}).get(HASH_PROPERTY)
        if expected is None:
            log.info("the Milvus collection %s has no hash (written by an older version): loaded unverified; "
                     "the next update records it", name)
            vectors.verified = False
        elif vectors_sha256(vectors.vectors()) != expected:
            raise IndexCorruptError(f"the vectors in the Milvus collection {name} are damaged (their sha256 differs "
                                    "from the one recorded when they were written); rebuild the index")
        return vectors
    except IndexCorruptError:
        raise
    except MilvusUnavailableException as exc:
        raise MilvusUnavailableError(f"the Milvus store is unavailable: {_message(exc)}") from exc
    except Exception as exc:  # pymilvus raises its own and grpc errors; Milvus Lite, whatever its files gave
        raise IndexCorruptError(f"the Milvus collection {name} cannot be read ({_message(exc)}); "
                                "rebuild the index") from exc


def _index_type(client: Any, name: str) -> str:
    """The index type Milvus holds for a collection's vectors ("FLAT", "HNSW")."""
    return str(client.describe_index(name, "vector").get("index_type") or "FLAT").upper()


def _message(exc: BaseException) -> str:
    """A pymilvus error's own message (its str() wraps it in a repr), on one line."""
    return " ".join(str(getattr(exc, "message", None) or exc).split())


def drop_except(client: Any, prefix: str, keep: Iterable[str]) -> None:
    """Drop this index's collections (named `prefix`_…) that the manifest no longer names."""
    keep = set(keep)
    for name in _collection_names(client):
        if name.startswith(prefix + "_") and name not in keep:
            log.info("dropping Milvus collection %s (an older generation)", name)
            try:
                client.drop_collection(name)
            except Exception as exc:  # one that cannot be dropped keeps no other from it; a later update retries
                log.warning("could not drop the Milvus collection %s: %s", name, _message(exc))


def _collection_names(client: Any) -> list[str]:
    """The store's collections. Milvus Lite lists them by opening each one, so one damaged
    collection fails the listing; then its folder's entries are read instead (Milvus Lite 3 keeps
    each collection in collections/<name>/ beside schema.json), so damaged ones can be dropped."""
    try:
        return list(client.list_collections())
    except Exception:
        lite = next((uri for uri, c in _clients.items() if c is client and "://" not in uri), None)
        if lite is None:
            raise
        folder = Path(lite) / "collections"
        return sorted(p.name for p in folder.iterdir() if (p / "schema.json").is_file()) if folder.is_dir() else []
