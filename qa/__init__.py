"""Question answering over your documents, with every claim cited to its passage and sentence."""

from __future__ import annotations

__version__ = "0.1.0"

from .assistant import Assistant
from .errors import (
    DocumentError,
    IndexCorruptError,
    IndexNotFoundError,
    ModelLoadError,
    ModelMismatchError,
    NoDocumentsError,
    QAError,
)
from .schema import Answer, Citation, DocumentInfo, Passage, UpdateReport
from .settings import Settings

__all__ = [
    "Answer",
    "Assistant",
    "Citation",
    "DocumentError",
    "DocumentInfo",
    "IndexCorruptError",
    "IndexNotFoundError",
    "ModelLoadError",
    "ModelMismatchError",
    "NoDocumentsError",
    "Passage",
    "QAError",
    "Settings",
    "UpdateReport",
    "__version__",
]
