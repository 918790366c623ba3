"""The public result types: plain typed dataclasses with a `to_dict()` for JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Passage:
    """One retrieved chunk: `text == document_text[start:end]`."""

    source: str
    text: str
    start: int
    end: int
    score: float
    chunk_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Citation:
    """Where one claim of an answer comes from: a passage and the quoted sentence(s) in it.

    Offsets are character offsets into the source document's text:
    `doc[start:end] == text`, `doc[quote_start:quote_end] == quote`, and the exact answer
    words the reader marked are `doc[answer_start:answer_end]` (-1 when none were marked).
    `verified` is None for an extractive answer (the quote is the answer); for a model-written
    one, True when the support check found the cited sentence supports what cites it.
    `section` is the title of the document's section the quote is in ("" when it has no headings);
    `columns` the header row of the table the quote is a row of ("" when it is no table row), so
    that "Saturn | 120,536 | 146" can be read as "Planet | Diameter (km) | Moons".
    """

    number: int
    source: str
    text: str
    start: int
    end: int
    quote: str
    quote_start: int
    quote_end: int
    score: float
    answer_start: int = -1
    answer_end: int = -1
    verified: bool | None = None
    section: str = ""
    columns: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class WrittenSentence:
    """One sentence a language model wrote, as checked against the sentences it may cite.

    `citations` are the numbers (into `Answer.citations`) it carries after the check;
    `cited` the numbers the model put on it (into the candidates it was shown, 1-based);
    `supported` whether a cited sentence supports it (`support`: the check's probability);
    `recited` when the check moved its citation to another sentence.
    """

    text: str
    citations: list[int]
    cited: list[int]
    supported: bool
    support: float
    recited: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Answer:
    """A short extractive answer with inline `[n]` markers that point into `citations`.

    `short` is the exact answer words (inside the first citation's quote), `query` the query
    actually used (a follow-up question resolved against the conversation), and `closest`
    the nearest passages when the documents do not answer, so a person can check.

    `confidence` is the estimated probability that the documents answer the question (the
    decision's, `qa.answering.decide`): at least `min_confidence` when answered, below it when
    declined. The chat's High/Medium/Low come from it (`qa.ui.render.confidence_level`).

    A model-written answer (`Assistant.ask(..., generate=True)`) has `written` set: each of its
    sentences with the outcome of the support check. `notice` says, in one line, why an answer
    that was to be written is extractive instead (the model server failed).
    """

    question: str
    text: str
    answered: bool
    citations: list[Citation] = field(default_factory=list)
    short: str = ""
    query: str = ""
    closest: list[Passage] = field(default_factory=list)
    written: list[WrittenSentence] = field(default_factory=list)
    notice: str = ""
    confidence: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Candidate:
    """One sentence considered for an answer, with every score that ranked it.

    `prefilter` is the cheap score (similarity and term overlap) that chose which sentences the
    reader sees; `probability` is the reader's calibrated estimate that the sentence answers
    (None for sentences the reader did not see). Offsets are into the document's text.
    `section` is the title of the section it is in ("" when there is none above it); `columns` the
    header row of its table and `context` what the reader read after it (`qa.answering.context_before`),
    once the reader has read it ("" when it is no table row, or was not read).
    """

    source: str
    sentence: int
    start: int
    end: int
    text: str
    chunk_id: str
    prefilter: float
    probability: float | None = None
    answer_start: int = -1
    answer_end: int = -1
    section: str = ""
    columns: str = ""
    context: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Trace:
    """What each stage of answering one question produced (`Assistant.explain`).

    `chosen` indexes into `candidates`: the sentences the answer quotes, best first;
    `confidence` the estimated probability that the documents answer (`Answer.confidence`).
    """

    question: str
    query: str
    passages: list[Passage]
    candidates: list[Candidate]
    chosen: list[int]
    answered: bool
    reason: str
    confidence: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DocumentInfo:
    """What the index knows about one source document."""

    source: str
    size: int
    chunks: int
    sentences: int
    sha256: str
    indexed_at: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class UpdateReport:
    """What one build or update of the index changed."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    # In the documents folder but removed from the index on purpose (see `Assistant.remove_document`).
    excluded: list[str] = field(default_factory=list)
    # Files whose vectors came from a build that was killed before it saved (see qa.partial).
    resumed: list[str] = field(default_factory=list)
    # Files in the documents folder of types that are not read, by type ({".ppt": 2}).
    other_files: dict[str, int] = field(default_factory=dict)
    chunks_embedded: int = 0
    sentences_embedded: int = 0
    rebuilt: bool = False
    reason: str = ""
    seconds: float = 0.0

    @property
    def changed_anything(self) -> bool:
        return bool(self.added or self.changed or self.removed or self.rebuilt)

    def summary(self) -> str:
        """One human line, e.g. for the CLI: what changed and how much was embedded."""
        parts = []
        if self.rebuilt:
            parts.append(f"rebuilt ({self.reason})" if self.reason else "rebuilt")
        for label, items in (("added", self.added), ("changed", self.changed), ("removed", self.removed)):
            if items:
                parts.append(f"{label} {len(items)}: {_some(items)}")
        if self.failed:
            failed = [f"{s} ({why})" for s, why in self.failed.items()]
            parts.append(f"failed {len(failed)}: {_some(failed, limit=10, sep='; ')}")
        if not parts:
            parts.append("up to date")
        parts.append(f"{len(self.unchanged)} unchanged")
        if self.resumed:
            parts.append(f"resumed {len(self.resumed)} file(s) an interrupted build had embedded")
        if self.excluded:
            parts.append(f"excluded {len(self.excluded)} (removed from the index, files kept): {_some(self.excluded)}")
        if self.other_files:
            parts.append("not read, not a supported type: "
                         + _some([f"{n} {kind}" for kind, n in sorted(self.other_files.items(), key=lambda kv: -kv[1])]))
        parts.append(f"embedded {self.chunks_embedded} chunks and {self.sentences_embedded} sentences "
                     f"in {self.seconds:.1f}s")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# The stages an index build goes through, in order ("cancelled" replaces the rest when it stops early).
STAGES = ("reading", "embedding", "saving", "done", "cancelled")


@dataclass(frozen=True)
class IndexProgress:
    """Where an index build stands, for a progress line (`describe()`) or a progress bar (`fraction`).

    `chunks_*` count every text embedded, in `unit`s: sentences where sentence vectors are pooled
    (the default: each sentence is one pass), passages under late chunking, "texts" (passages and
    sentences) where both are embedded; `files_done` counts files whose texts are all embedded.
    `eta_s` is the time left at the embedding rate measured so far (None until one batch is done);
    `stage` is one of `STAGES`.
    """

    files_done: int
    files_total: int
    chunks_done: int
    chunks_total: int
    elapsed_s: float
    eta_s: float | None
    stage: str
    unit: str = "passages"

    @property
    def fraction(self) -> float:
        """Share of the texts embedded so far, from 0.0 to 1.0 (1.0 when there is nothing to embed)."""
        return min(1.0, self.chunks_done / self.chunks_total) if self.chunks_total else 1.0

    def describe(self) -> str:
        """One line in plain words, e.g. "Indexing 5 files (2 done): 340 of 1,200 sentences, about 40 s left"."""
        files = _files(self.files_total)
        if self.stage == "reading":
            return f"Reading {files}"
        if self.stage == "saving":
            return f"Saving the index of {files}"
        if self.stage == "done":
            return f"Indexed {files}: {self.chunks_total:,} {self.unit} in {duration(self.elapsed_s)}"
        if self.stage == "cancelled":
            return f"Indexing cancelled after {duration(self.elapsed_s)}; the previous index is unchanged"
        done = f" ({self.files_done} done)" if 0 < self.files_done < self.files_total else ""
        if self.eta_s is None:
            left = "estimating the time left"
        else:
            left = f"about {duration(self.eta_s)} left" if self.eta_s >= 1 else "almost done"
        return f"Indexing {files}{done}: {self.chunks_done:,} of {self.chunks_total:,} {self.unit}, {left}"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "message": self.describe()}


def _files(n: int) -> str:
    return "1 file" if n == 1 else f"{n:,} files"


def duration(seconds: float) -> str:
    """A rounded duration in plain words: "40 s", "3 min", "1 h 5 min"."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{max(s, 1)} s"
    minutes = round(s / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def _some(items: list[str], limit: int = 5, sep: str = ", ") -> str:
    """The first `limit` items joined, then how many more there are (a summary stays one line)."""
    shown = sep.join(items[:limit])
    return shown if len(items) <= limit else f"{shown}{sep}and {len(items) - limit} more"
