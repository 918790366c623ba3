"""The one facade: build or load an index, then ask questions and get cited answers."""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import threading
from pathlib import Path
from typing import Iterator, Sequence, Union

from . import index as store
from . import answering
from . import generate as generate_
from .followup import Turn, resolve
from .documents import discover
from .embedding import Encoder, ProgressFn, load_encoder
from .errors import DocumentError, IndexCorruptError, IndexNotFoundError, InvalidInputError, ReadOnlyAssistantError
from .indexer import IndexProgressFn, apply_documents, check_model, update_index
from .index import IndexData
from .retrieval import Retriever
from .reader import Reader, load_reader
from .schema import Answer, DocumentInfo, Passage, Trace, UpdateReport
from .settings import Settings
from .uploads import Upload, commit_uploads, discard_uploads, plan_uploads, read_uploads, write_uploads

log = logging.getLogger(__name__)

# Longer questions are answered from their first characters (the model reads ~256 tokens anyway).
MAX_QUESTION_CHARS = 2000
# A conversation's history is read back this many turns, each cut to this many characters.
MAX_HISTORY_TURNS = 20
MAX_HISTORY_CHARS = 2000
# A follow-up rewritten with the history (qa.followup.resolve) is cut to this many characters,
# so a question with history costs at most about twice one without.
MAX_QUERY_CHARS = 2 * MAX_QUESTION_CHARS

HistoryItem = Union[str, Answer]


# Control characters other than tab, line feed and carriage return (C0, DEL and C1).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Lone surrogates (from undecodable command-line bytes, or JSON "\ud800") cannot be written as UTF-8.
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """`text` without control characters (tab and line breaks kept), lone surrogates as U+FFFD, stripped."""
    return _SURROGATE.sub("\ufffd", _CONTROL.sub("", text)).strip()


def validate_question(question: object) -> str:
    """The question cleaned (`clean_text`); InvalidInputError with a clear message if it cannot be asked."""
    if not isinstance(question, str):
        raise InvalidInputError(f"the question must be a string, not {type(question).__name__}")
    cleaned = clean_text(question)
    if not cleaned:
        raise InvalidInputError("the question is empty; please type a question")
    return cleaned


def history_turns(history: Sequence[HistoryItem] | None) -> list[Turn]:
    """The last turns of a conversation: earlier questions (str) or earlier `Answer`s, oldest first.

    Only the last MAX_HISTORY_TURNS items are read, by index, so a huge (or lazy, like
    `range(10**9)`) sequence costs no more than a short one. Anything that is not a sequence
    (a generator, a set) is refused before any of it is consumed."""
    if history is None:
        return []
    if isinstance(history, (str, bytes)) or not isinstance(history, Sequence):
        raise InvalidInputError("history must be a list of earlier questions or answers")
    try:
        size = len(history)
    except OverflowError as exc:  # a length past sys.maxsize (range(10**20))
        raise InvalidInputError("history is too long; pass the last turns of the conversation") from exc
    turns = []
    for item in (history[i] for i in range(max(0, size - MAX_HISTORY_TURNS), size)):
        if isinstance(item, Answer):
            # The question as understood, so a follow-up of a follow-up reads the whole of it.
            turns.append(Turn((item.query or item.question)[:MAX_HISTORY_CHARS], item.short[:MAX_HISTORY_CHARS]))
        elif isinstance(item, str):
            text = _clean_prefix(item, MAX_HISTORY_CHARS)
            if text:
                turns.append(Turn(text))
        else:
            raise InvalidInputError(f"history items must be questions (str) or Answers, not {type(item).__name__}")
    return turns


def _clean_prefix(text: str, limit: int) -> str:
    """`clean_text(text)[:limit]`, reading only as much of `text` as that needs (a long
    history item costs no more than a short one)."""
    size = 2 * limit + 64
    while True:
        cleaned = clean_text(text[:size])
        if len(cleaned) >= limit or size >= len(text):
            return cleaned[:limit]
        size *= 4


def validate_source(source: object) -> str:
    """A document name as given to `document_text` / `remove_document`; InvalidInputError unless a string."""
    if not isinstance(source, str):
        raise InvalidInputError(f"the document name must be a string, not {type(source).__name__}")
    return source


def validate_paths(paths: object) -> list[str | os.PathLike[str]]:
    """The files given to `add_files`; InvalidInputError unless a list of paths (str or Path)."""
    if isinstance(paths, (str, bytes, os.PathLike)) or not isinstance(paths, Sequence):
        raise InvalidInputError(f"files must be given as a list of paths (str or Path), not {type(paths).__name__}")
    for path in paths:
        try:
            is_text_path = isinstance(os.fspath(path), str)
        except TypeError:  # neither str, bytes nor os.PathLike (None, a number, a list)
            is_text_path = False
        if not is_text_path:
            raise InvalidInputError(f"each file must be a path (str or Path), not {type(path).__name__}")
    return list(paths)


def _with_confidence(answer: Answer, trace: Trace) -> Answer:
    """A written answer with the decision's confidence (`Answer.confidence`), as the extractive one has."""
    return dataclasses.replace(answer, confidence=trace.confidence)


# One line in `Answer.notice` while documents are being indexed (`with_indexing_notice`).
STILL_INDEXING = "Still indexing: {names} \u2014 answered from the documents indexed before."
_STILL_INDEXING = re.compile(r" ?Still indexing: .*? \u2014 answered from the documents indexed before\.")


def with_indexing_notice(answer: Answer, sources: Sequence[str]) -> Answer:
    """`answer` with one line in `Answer.notice` naming `sources`, the documents still being
    indexed (the answer comes from the index as it was before them), in place of any such line
    it had; `answer` itself when `sources` is empty."""
    if not sources:
        return answer
    names = list(dict.fromkeys(sources))
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    kept = _STILL_INDEXING.sub("", answer.notice).strip()
    line = STILL_INDEXING.format(names=shown)
    return dataclasses.replace(answer, notice=f"{kept} {line}" if kept else line)


def _path_or_none(value: str | Path | None) -> Path | None:
    """An explicit folder argument as a Path; None (or "") means "from the settings"."""
    return None if value is None or str(value) == "" else Path(value)


class Assistant:
    """Question answering with citations over one index.

    Build with `from_seeds` (builds or updates the index first) or `from_index` (loads only).
    Thread-safe for concurrent `ask` calls; updates swap the loaded index atomically, and
    questions asked meanwhile are answered from the version loaded before (they never wait),
    with a one-line `Answer.notice` naming the documents still being indexed (`indexing`).
    Updates hold the index folder's writer lock (one writer per folder, across processes):
    another writer's update is waited for up to `lock_timeout` seconds (default
    `qa.index.WRITE_LOCK_TIMEOUT`), then IndexBusyError.
    """

    def __init__(self, data: IndexData, encoder: Encoder, settings: Settings, index_dir: Path,
                 seeds_dir: Path | None = None, last_update: UpdateReport | None = None, *,
                 lock_timeout: float | None = None) -> None:
        self.settings = settings
        self.index_dir = Path(index_dir)
        self.seeds_dir = Path(seeds_dir) if seeds_dir is not None else None
        self.encoder = encoder
        self.last_update = last_update
        self.lock_timeout = lock_timeout
        self._write_lock = threading.Lock()
        # Guards only the swap of (`_state`, `_indexing`), so a question reads a matching pair;
        # held for two assignments, never while a build runs.
        self._state_lock = threading.Lock()
        self._indexing: tuple[str, ...] = ()
        self._set_data(data)

    def _set_data(self, data: IndexData) -> None:
        """Publish a new index version: its retriever is made first, then both are swapped in at
        once (with the end of `indexing`); questions already running keep the version they took."""
        retriever = Retriever(data, self.encoder)
        with self._state_lock:
            self._state = (data, retriever)
            self._indexing = ()

    def _set_indexing(self, sources: Sequence[str]) -> None:
        with self._state_lock:
            self._indexing = tuple(sources)

    def _snapshot(self) -> tuple[tuple[IndexData, Retriever], tuple[str, ...]]:
        """The loaded index version and the documents being indexed into its successor, together."""
        with self._state_lock:
            return self._state, self._indexing

    @property
    def indexing(self) -> list[str]:
        """The documents an `add_files` is indexing right now ([] when none); questions asked
        meanwhile are answered from the index as it was, with `Answer.notice` naming them."""
        return list(self._indexing)

    # -- construction ---------------------------------------------------------------------

    @classmethod
    def from_seeds(
        cls,
        seeds_dir: str | Path | None = None,
        index_dir: str | Path | None = None,
        *,
        settings: Settings | None = None,
        model: str | None = None,
        progress: ProgressFn | None = None,
        show_progress_bar: bool = True,
        lock_timeout: float | None = None,
        on_progress: IndexProgressFn | None = None,
        cancel: threading.Event | None = None,
    ) -> "Assistant":
        """Build the index for `seeds_dir` (or update it, embedding only what changed), then load it.

        A folder left out (None) comes from `settings` (`Settings.from_env()` when none are
        given: QA_SEEDS_DIR / QA_INDEX_DIR, else "seeds" / "index"); an explicit one wins.
        While another process writes the same index folder this waits up to `lock_timeout`
        seconds (default `qa.index.WRITE_LOCK_TIMEOUT`), then raises IndexBusyError.
        `on_progress` gets an `IndexProgress` per stage and batch (with the time left); setting
        `cancel` stops the build within a batch (IndexingCancelled), and one estimated to take
        longer than `settings.max_index_seconds` stops after its first batch
        (IndexingTooSlowError); either way the index on disk is left as it was.
        """
        settings = (settings or Settings.from_env()).with_(model=model, seeds_dir=_path_or_none(seeds_dir),
                                                           index_dir=_path_or_none(index_dir))
        discover(settings.seeds_dir)  # a missing folder fails before the model loads
        encoder = load_encoder(settings.model, settings.device, settings.encoder)
        data, report = update_index(settings.seeds_dir, settings.index_dir, encoder, settings,
                                    progress=progress, show_progress_bar=show_progress_bar, lock_timeout=lock_timeout,
                                    on_progress=on_progress, cancel=cancel)
        return cls(data, encoder, settings, settings.index_dir, settings.seeds_dir, report, lock_timeout=lock_timeout)

    @classmethod
    def from_index(
        cls,
        index_dir: str | Path | None = None,
        *,
        settings: Settings | None = None,
        model: str | None = None,
        seeds_dir: str | Path | None = None,
    ) -> "Assistant":
        """Load an existing index without touching it; IndexNotFoundError if there is none.

        `index_dir` left out (None) comes from `settings` (`Settings.from_env()` when none are
        given: QA_INDEX_DIR, else "index"); an explicit one wins. The model is the one the
        index was built with; naming another raises ModelMismatchError. With `seeds_dir` (the
        documents folder; the index does not record it, so it is never guessed), `add_files`
        and `remove_document` work as after `from_seeds`; without it they raise
        ReadOnlyAssistantError.
        """
        settings = settings or Settings.from_env()
        index_dir = _path_or_none(index_dir) or settings.index_dir
        seeds = _path_or_none(seeds_dir)
        built_with = check_model(index_dir, model)
        settings = settings.with_(model=built_with, index_dir=index_dir, seeds_dir=seeds)
        data = store.load(index_dir)
        # The encoder that made the index's vectors (onnx or torch), whatever the settings say now.
        encoder = load_encoder(built_with, settings.device, data.manifest.encoder_backend)
        if encoder.dimension != data.manifest.dimension:
            from .errors import ModelMismatchError

            raise ModelMismatchError(
                f"model {built_with!r} makes {encoder.dimension}-d vectors; the index holds {data.manifest.dimension}-d"
            )
        return cls(data, encoder, settings, index_dir, seeds)

    # -- questions ------------------------------------------------------------------------

    def ask(self, question: str, top_k: int | None = None, history: Sequence[HistoryItem] | None = None, *,
            generate: bool = False) -> Answer:
        """A short answer to `question` whose every sentence is cited, or a plain 'don't say'
        with the closest passages.

        `history` holds the earlier turns of a conversation (questions, or better the earlier
        `Answer`s), for follow-ups such as "Who is he?"; `Answer.query` shows how it was read.
        `generate`: written by the language model set in `llm_url`, every sentence checked
        against what it cites (`Answer.written`); the extractive answer, with `Answer.notice`,
        when that cannot be had.
        """
        state, pending = self._snapshot()  # one version throughout, even if an update swaps in another meanwhile
        trace = self._explain(question, top_k, history, state)
        if generate:
            answer = _with_confidence(generate_.answer(trace, state[0], self.settings, history_turns(history)), trace)
        else:
            answer = answering.compose(trace, state[0])
        return with_indexing_notice(answer, pending)

    def stream(self, question: str, top_k: int | None = None,
               history: Sequence[HistoryItem] | None = None) -> Iterator[str | Answer]:
        """`ask(..., generate=True)` as it is written: the model's text piece by piece (str),
        then the checked `Answer` last."""
        state, pending = self._snapshot()
        trace = self._explain(question, top_k, history, state)
        for piece in generate_.stream(trace, state[0], self.settings, history_turns(history)):
            yield with_indexing_notice(_with_confidence(piece, trace), pending) if isinstance(piece, Answer) else piece

    def explain(self, question: str, top_k: int | None = None, history: Sequence[HistoryItem] | None = None) -> Trace:
        """What each stage produced for `question`: the query, passages, scored candidates, decision."""
        return self._explain(question, top_k, history, self._state)

    def _explain(self, question: str, top_k: int | None, history: Sequence[HistoryItem] | None,
                 state: tuple[IndexData, Retriever]) -> Trace:
        question = validate_question(question)
        top_k = self._top_k(top_k)
        query = resolve(question[:MAX_QUESTION_CHARS], history_turns(history))[:MAX_QUERY_CHARS]
        data, retriever = state
        vector = self.encoder.encode_query(query)
        hits = retriever.search(query, top_k, query_vector=vector)
        passages = self._passages(data, hits)
        pool = answering.candidates(query, vector, [h.row for h in hits], data)
        pool = answering.read(self.reader, query, pool, data, self.settings.reader_candidates)
        decision = answering.decide(pool, self.settings.max_answer_sentences, self.settings.min_confidence, query)
        log.debug("%s: %s", query, decision.reason)
        return Trace(question=question, query=query, passages=passages, candidates=pool, chosen=decision.chosen,
                     answered=decision.answered, reason=decision.reason, confidence=decision.confidence)

    @property
    def data(self) -> IndexData:
        """The loaded index generation (documents, chunks, vectors), read-only by convention."""
        return self._state[0]

    @property
    def reader(self) -> Reader:
        """The trained reader (loaded on first use, once per process)."""
        return load_reader(self.settings.reader or None)

    def search(self, query: str, top_k: int = 10) -> list[Passage]:
        """The ranked passages answers are built from, best first (one per chunk)."""
        query = validate_question(query)[:MAX_QUESTION_CHARS]
        top_k = self._top_k(top_k)
        data, retriever = self._state
        return self._passages(data, retriever.search(query, top_k))

    @staticmethod
    def _passages(data: IndexData, hits: list) -> list[Passage]:
        return [
            Passage(source=c.source, text=c.text, start=c.start, end=c.end, score=round(h.score, 4), chunk_id=c.id)
            for h in hits
            for c in (data.chunks[h.row],)
        ]

    def _top_k(self, top_k: int | None) -> int:
        if top_k is None:
            return self.settings.top_k
        if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= 100:
            raise InvalidInputError("top_k must be a whole number between 1 and 100")
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
        source = validate_source(source)
        data = self._state[0]
        if source not in data.documents:
            raise DocumentError(f"no document named {source!r} in the index")
        return data.documents[source].text

    def add_files(self, paths: Sequence[str | Path], progress: ProgressFn | None = None, *,
                  replace: bool = False, on_progress: IndexProgressFn | None = None,
                  cancel: threading.Event | None = None) -> UpdateReport:
        """Copy files into the seeds folder and index them; nothing changes if any file fails.

        A file never silently replaces another: a different file of the same name already in
        the folder is a DocumentError unless `replace=True`; the same content is a no-op.
        Adding a file that was removed from the index puts it back. `on_progress` and `cancel`
        work as in `from_seeds`: a cancelled or refused (too slow) add changes nothing.
        Questions asked meanwhile (other threads) are answered at once from the index as it
        was, their `Answer.notice` naming these files (`indexing`); the new version replaces it
        in one step when it is saved.
        """
        paths = validate_paths(paths)
        seeds_dir = self._require_seeds()
        uploads = read_uploads(paths)
        with self._write_lock, store.writer_lock(self.index_dir, self.lock_timeout):
            excluded = store.read_excluded(self.index_dir)
            seeds_dir.mkdir(parents=True, exist_ok=True)
            plan_uploads(seeds_dir, uploads, replace)
            self._set_indexing([u.doc.source for u in uploads])
            try:
                data, report = self._index_uploads(seeds_dir, uploads, progress, on_progress, cancel)
            except BaseException:
                self._set_indexing([])
                raise
            self._set_data(data)  # ends `indexing` in the same step
            self.last_update = report
            self._set_excluded(excluded - {u.doc.source for u in uploads}, excluded)
        return report

    def _index_uploads(self, seeds_dir: Path, uploads: list[Upload], progress: ProgressFn | None,
                       on_progress: IndexProgressFn | None,
                       cancel: threading.Event | None) -> tuple[IndexData, UpdateReport]:
        """Write the uploads, index them, then put replacements in place; undo the writes on failure."""
        write_uploads(uploads)
        try:
            data, report = apply_documents(self.index_dir, [u.doc for u in uploads], self.encoder, self.settings,
                                           seeds_dir=seeds_dir, progress=progress, show_progress_bar=False,
                                           on_progress=on_progress, cancel=cancel)
        except BaseException:
            discard_uploads(uploads)
            raise
        commit_uploads(uploads)
        return data, report

    def remove_document(self, source: str, *, on_progress: IndexProgressFn | None = None,
                        cancel: threading.Event | None = None) -> UpdateReport:
        """Drop a document from the index; its file stays in the seeds folder.

        Later `from_seeds` / `qa index` runs skip it (reported as excluded) until it is added
        again with `add_files`. `on_progress` and `cancel` matter only when the index must be
        rebuilt (it was unreadable or built differently); they work as in `from_seeds`.
        """
        source = validate_source(source)
        seeds_dir = self._require_seeds()
        with self._write_lock, store.writer_lock(self.index_dir, self.lock_timeout):
            if source not in self._state[0].documents and source not in self._sources_on_disk():
                raise DocumentError(f"no document named {source!r} in the index")
            before = store.read_excluded(self.index_dir)
            self._set_excluded(before | {source}, before)
            try:
                data, report = apply_documents(self.index_dir, [], self.encoder, self.settings, remove=[source],
                                               seeds_dir=seeds_dir, show_progress_bar=False,
                                               on_progress=on_progress, cancel=cancel)
            except BaseException:
                self._set_excluded(before, before | {source})
                raise
            self._set_data(data)
            self.last_update = report
        return report

    def _sources_on_disk(self) -> set[str]:
        """The sources of the index version on disk (another process may have written a newer one)."""
        try:
            return set(store.read_manifest(self.index_dir).sources)
        except (IndexNotFoundError, IndexCorruptError):
            return set()

    def _set_excluded(self, sources: set[str], current: set[str]) -> None:
        """Save the sources kept out of the index, if they differ from `current`."""
        if sources != current:
            store.write_excluded(self.index_dir, sources)

    def _require_seeds(self) -> Path:
        if self.seeds_dir is None:
            raise ReadOnlyAssistantError(
                "this assistant was loaded with Assistant.from_index without a documents folder, so it cannot add "
                f"or remove documents; open it with Assistant.from_index({str(self.index_dir)!r}, seeds_dir=...) "
                f"or Assistant.from_seeds(..., index_dir={str(self.index_dir)!r})")
        return self.seeds_dir
