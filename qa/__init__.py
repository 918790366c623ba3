"""Question answering over your documents, with every claim cited to its passage and sentence."""

from __future__ import annotations

__version__ = "0.1.0"

from .assistant import Assistant
from .errors import (
    AccessError,
    DocumentError,
    IndexBusyError,
    IndexCorruptError,
    IndexNotFoundError,
    IndexingCancelled,
    IndexingTooSlowError,
    InvalidInputError,
    ModelLoadError,
    MilvusUnavailableError,
    ModelMismatchError,
    NoDocumentsError,
    QAError,
    ReadOnlyAssistantError,
)
from .llm import LLMError
from .schema import (Answer, Candidate, Citation, DocumentInfo, IndexProgress, Passage, Trace, UpdateReport,
                     WrittenSentence)
from .settings import Settings

__all__ = [
    "AccessError",
    "Answer",
    "Assistant",
    "Candidate",
    "Citation",
    "DocumentError",
    "DocumentInfo",
    "IndexBusyError",
    "IndexCorruptError",
    "IndexNotFoundError",
    "IndexProgress",
    "IndexingCancelled",
    "IndexingTooSlowError",
    "InvalidInputError",
    "LLMError",
    "MilvusUnavailableError",
    "ModelLoadError",
    "ModelMismatchError",
    "NoDocumentsError",
    "Passage",
    "QAError",
    "ReadOnlyAssistantError",
    "Settings",
    "Trace",
    "UpdateReport",
    "WrittenSentence",
    "__version__",
]
