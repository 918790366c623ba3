"""Domain exceptions: raised by the library, turned into clear messages at the edges (CLI, chat)."""

from __future__ import annotations


class QAError(Exception):
    """Base class of every error this library raises on purpose."""


class IndexNotFoundError(QAError):
    """No usable index at the given folder (never built, or deleted)."""


class ReadOnlyAssistantError(QAError):
    """Documents were to be added or removed through an assistant that knows no documents folder
    (`Assistant.from_index` without `seeds_dir`)."""


class IndexCorruptError(QAError):
    """The index folder exists but its files are unreadable or inconsistent."""


class IndexBusyError(QAError):
    """Another process kept writing the index folder for longer than this writer would wait."""


class ModelMismatchError(QAError):
    """The index was built with another embedding model than the one requested."""


class ModelLoadError(QAError):
    """The embedding model could not be loaded (unknown name, missing files, no network)."""


class DocumentError(QAError):
    """A source document could not be read or has no text."""


class NoDocumentsError(QAError):
    """The seeds folder holds no supported documents."""


class AccessError(QAError):
    """Serving is refused: no authentication beyond loopback, or the accounts cannot be read."""


class IndexingCancelled(QAError):
    """An index build was cancelled on request; the index on disk and in memory are unchanged."""


class IndexingTooSlowError(QAError):
    """Indexing would take longer than `Settings.max_index_seconds` on this machine; nothing was changed."""


class InvalidInputError(QAError, ValueError):
    """A question, history or argument that cannot be used as given (also a ValueError)."""


class MilvusUnavailableError(QAError):
    """The Milvus store was chosen, but pymilvus is not installed or its URI cannot be opened."""
