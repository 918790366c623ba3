"""The one facade: build or load an index, then ask questions and get cited answers."""

from __future__ import annotations

import logging
import re
import shutil
import threading
from pathlib import Path
from typing import Sequence

from . import index as store
from .answering import answer as compose
from .documents import SUPPORTED_SUFFIXES, discover, read_document
from .embedding import Encoder, ProgressFn, load_encoder
from .errors import DocumentError, IndexNotFoundError
from .indexer import apply_documents, check_model, update_index
from .index import IndexData
from .retrieval import Retriever
from .schema import Answer, DocumentInfo, Passage, UpdateReport
from .settings import Settings

log = logging.getLogger(__name__)

# Longer questions are answered from their first characters (the model reads ~256 tokens anyway).
MAX_QUESTION_CHARS = 2000
# Words that make a short question lean on the previous one ("Who is he?").
_FOLLOW_UP = re.compile(
    r"\b(he|him|his|she|her|hers|it|its|they|them|their|this|that|these|those|there|then|the same)\b", re.I
)


def validate_question(question: object) -> str:
    """The question stripped; ValueError with a clear message if it cannot be asked."""
    if not isinstance(question, str):
        raise ValueError(f"the question must be a string, not {type(question).__name__}")
    stripped = question.strip()
    if not stripped:
        raise ValueError("the question is empty; please type a question")
    return stripped


def contextual_query(question: str, history: Sequence[str] | None) -> str:
    """The retrieval query for a question, leaning on the last one when it is a follow-up."""
    if not history:
        return question
    previous = [h for h in history if isinstance(h, str) and h.strip()]
    if not previous:
        return question
    words = question.split()
    if _FOLLOW_UP.search(question) or len(words) <= 3:
        return f"{question} {previous[-1].strip()}"
    return question


class Assistant:
    """Question answering with citations over one index.

    Build with `from_seeds` (builds or updates the index first) or `from_index` (loads only).
    Thread-safe for concurrent `ask` calls; updates swap the loaded index atomically.
    """

    def __init__(self, data: IndexData, encoder: Encoder, settings: Settings, index_dir: Path,
                 seeds_dir: Path | None = None, last_update: UpdateReport | None = None) -> None:
        self.settings = settings
        self.index_dir = Path(index_dir)
        self.seeds_dir = Path(seeds_dir) if seeds_dir is not None else None
        self.encoder = encoder
        self.last_update = last_update
        self._write_lock = threading.Lock()
        self._set_data(data)

    def _set_data(self, data: IndexData) -> None:
        retriever = Retriever(data, self.encoder)
        self._state = (data, retriever)

    # -- construction ---------------------------------------------------------------------

    @classmethod
    def from_seeds(
        cls,
        seeds_dir: str | Path = "seeds",
        index_dir: str | Path | None = None,
        *,
        settings: Settings | None = None,
        model: str | None = None,
        progress: ProgressFn | None = None,
        show_progress_bar: bool = True,
    ) -> "Assistant":
        """Build the index for `seeds_dir` (or update it, embedding only what changed), then load it."""
        settings = (settings or Settings.from_env()).with_(model=model, seeds_dir=Path(seeds_dir),
                                                           index_dir=Path(index_dir) if index_dir else None)
        discover(settings.seeds_dir)  # a missing folder fails before the model loads
        encoder = load_encoder(settings.model, settings.device)
        data, report = update_index(settings.seeds_dir, settings.index_dir, encoder, settings,
                                    progress=progress, show_progress_bar=show_progress_bar)
        return cls(data, encoder, settings, settings.index_dir, settings.seeds_dir, report)

    @classmethod
    def from_index(
        cls,
        index_dir: str | Path = "index",
        *,
        settings: Settings | None = None,
        model: str | None = None,
    ) -> "Assistant":
        """Load an existing index without touching it; IndexNotFoundError if there is none.

        The model is the one the index was built with; naming another raises ModelMismatchError.
        """
        settings = settings or Settings.from_env()
        index_dir = Path(index_dir)
        built_with = check_model(index_dir, model)
        settings = settings.with_(model=built_with, index_dir=index_dir)
        data = store.load(index_dir)
        encoder = load_encoder(built_with, settings.device)
        if encoder.dimension != data.manifest.dimension:
            from .errors import ModelMismatchError

            raise ModelMismatchError(
                f"model {built_with!r} makes {encoder.dimension}-d vectors; the index holds {data.manifest.dimension}-d"
            )
        return cls(data, encoder, settings, index_dir)

    # -- questions ------------------------------------------------------------------------

    def ask(self, question: str, top_k: int | None = None, history: Sequence[str] | None = None) -> Answer:
        """A short answer to `question` whose every sentence is cited, or a plain 'don't say'.

        `history` holds the earlier questions of a conversation, for follow-ups.
        """
        question = validate_question(question)
        top_k = self._top_k(top_k)
        query = contextual_query(question[:MAX_QUESTION_CHARS], history)
        data, retriever = self._state
        vector, words = retriever.embed_query(query)
        hits = retriever.search(query, top_k, query_vector=vector)
        return compose(question, query, vector, hits, data, retriever,
                       self.settings.max_answer_sentences, self.settings.min_confidence, words)

    def search(self, query: str, top_k: int = 10) -> list[Passage]:
        """The ranked passages answers are built from, best first (one per chunk)."""
        query = validate_question(query)[:MAX_QUESTION_CHARS]
        top_k = self._top_k(top_k)
        data, retriever = self._state
        hits = retriever.search(query, top_k)
        return [
            Passage(source=c.source, text=c.text, start=c.start, end=c.end, score=round(h.score, 4), chunk_id=c.id)
            for h in hits
            for c in (data.chunks[h.row],)
        ]

    def _top_k(self, top_k: int | None) -> int:
        if top_k is None:
            return self.settings.top_k
        if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= 100:
            raise ValueError("top_k must be a whole number between 1 and 100")
        return top_k

    # -- documents ------------------------------------------------------------------------

    def documents(self) -> list[DocumentInfo]:
        """The indexed documents, by name."""
        data = self._state[0]
        counts: dict[str, int] = {}
        for c in data.chunks:
            counts[c.source] = counts.get(c.source, 0) + 1
        return [
            DocumentInfo(source=d.source, size=d.size, chunks=counts.get(d.source, 0), sentences=len(d.sentences),
                         sha256=d.sha256, indexed_at=d.indexed_at)
            for d in sorted(data.documents.values(), key=lambda d: d.source)
        ]

    def document_text(self, source: str) -> str:
        """The text that citation offsets of `source` point into."""
        data = self._state[0]
        if source not in data.documents:
            raise DocumentError(f"no document named {source!r} in the index")
        return data.documents[source].text

    def add_files(self, paths: Sequence[str | Path], progress: ProgressFn | None = None) -> UpdateReport:
        """Copy files into the seeds folder and index them; nothing changes if any file fails."""
        seeds_dir = self._require_seeds()
        paths = [Path(p) for p in paths]
        if not paths:
            raise DocumentError("no files given")
        docs = []
        for path in paths:
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                raise DocumentError(
                    f"{path.name}: unsupported file type {path.suffix or '(none)'}; "
                    "upload .txt, .md, .html or .pdf files"
                )
            docs.append(read_document(path, source=path.name))
        with self._write_lock:
            data, report = apply_documents(self.index_dir, docs, self.encoder, self.settings, progress=progress,
                                           show_progress_bar=False)
            seeds_dir.mkdir(parents=True, exist_ok=True)
            for path in paths:
                target = seeds_dir / path.name
                if path.resolve() != target.resolve():
                    shutil.copyfile(path, target)
            self._set_data(data)
            self.last_update = report
        return report

    def remove_document(self, source: str) -> UpdateReport:
        """Drop a document's chunks from the index and its file from the seeds folder."""
        seeds_dir = self._require_seeds()
        with self._write_lock:
            if source not in self._state[0].documents:
                raise DocumentError(f"no document named {source!r} in the index")
            data, report = apply_documents(self.index_dir, [], self.encoder, self.settings, remove=[source],
                                           show_progress_bar=False)
            path = (seeds_dir / source).resolve()
            if seeds_dir.resolve() in path.parents and path.is_file():
                path.unlink()
            self._set_data(data)
            self.last_update = report
        return report

    def _require_seeds(self) -> Path:
        if self.seeds_dir is None:
            raise IndexNotFoundError("this assistant was loaded with from_index; open it with from_seeds to change documents")
        return self.seeds_dir
