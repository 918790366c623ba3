"""Shared fixtures for the test suite.

- Paths: the repository root, the bundled seeds folder and article, the dev question set.
- `FakeEncoder`: a deterministic, model-free stand-in for `qa.embedding.Encoder` for the
  index-mechanics tests. Its vectors are derived from a hash of (encoder name, text), so
  a test can recompute what any stored row must hold, and it counts every text it embeds
  so incremental-update tests can assert exactly how much was re-embedded.
- `article_bot`: the real MiniLM model over the bundled article, built ONCE per test
  module into a temporary folder (never into the repository's own `index/`).
- `check_citations`: the invariants every answer's citations must satisfy.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SEEDS_DIR = REPO_ROOT / "seeds"
ARTICLE_NAME = "iran-taliban-relations.txt"
ARTICLE_PATH = SEEDS_DIR / ARTICLE_NAME
DEV_SET_PATH = REPO_ROOT / "tests" / "data" / "article_dev.jsonl"

# Never let a developer's QA_* variables (or a model hub) leak into the tests.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# Gradio's upload cache, which the chat sweeps (qa.uploads.sweep_upload_cache): one of this run's
# own, never the machine's shared <temp>/gradio.
os.environ["GRADIO_TEMP_DIR"] = tempfile.mkdtemp(prefix="qa-tests-gradio-")


def clean_env(**extra: str) -> dict[str, str]:
    """os.environ without any QA_* variable, plus `extra` (for subprocesses)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
                "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def qa_command() -> list[str]:
    """The installed `qa` console script, or `python -m qa` if it is missing."""
    script = Path(sys.executable).parent / "qa"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "qa"]


# --------------------------------------------------------------------------- paths


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    return SEEDS_DIR


@pytest.fixture(scope="session")
def article_path() -> Path:
    assert ARTICLE_PATH.is_file(), f"the bundled article is missing: {ARTICLE_PATH}"
    return ARTICLE_PATH


@pytest.fixture(scope="session")
def article_text(article_path: Path) -> str:
    from qa.plaintext import decode_text

    return decode_text(article_path.read_bytes())


@pytest.fixture(scope="session")
def dev_set_path() -> Path:
    assert DEV_SET_PATH.is_file(), f"the dev question set is missing: {DEV_SET_PATH}"
    return DEV_SET_PATH


@pytest.fixture(scope="module")
def article_seeds(tmp_path_factory: pytest.TempPathFactory, article_path: Path) -> Path:
    """A private seeds folder holding only the bundled article (immune to files others drop in seeds/)."""
    folder = tmp_path_factory.mktemp("article-seeds")
    shutil.copyfile(article_path, folder / ARTICLE_NAME)
    return folder


# --------------------------------------------------------------------------- fake encoder


class FakeEncoder:
    """Deterministic stand-in for `qa.embedding.Encoder` (no model, no torch).

    - `count_tokens`: whitespace word counts.
    - `encode`: float32 unit vectors seeded by sha256(name + text): equal texts give equal
      vectors, different encoder names give unrelated vectors (so "never mixes" is checkable).
    - `encoded` counts every text passed to `encode`; `queries` counts `encode_query` calls.
    """

    def __init__(self, name: str = "fake-hash-encoder", dimension: int = 32, max_tokens: int = 40) -> None:
        self.name = name
        self.dimension = dimension
        self.max_tokens = max_tokens
        self.encoded = 0
        self.queries = 0
        self.calls: list[int] = []

    def reset(self) -> None:
        self.encoded = 0
        self.queries = 0
        self.calls = []

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(t.split()) for t in texts]

    def vector(self, text: str) -> np.ndarray:
        """The vector this encoder gives `text` (without counting it)."""
        digest = hashlib.sha256(f"{self.name}\x00{self.dimension}\x00{text}".encode("utf-8")).digest()
        rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
        v = rng.standard_normal(self.dimension).astype(np.float32)
        return (v / np.linalg.norm(v)).astype(np.float32)

    def encode(
        self,
        texts: Sequence[str],
        batch_size: int = 64,
        progress: Callable[[int, int, str], None] | None = None,
        show_progress_bar: bool = False,
        desc: str = "",
    ) -> np.ndarray:
        texts = list(texts)
        self.encoded += len(texts)
        self.calls.append(len(texts))
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        out = np.vstack([self.vector(t) for t in texts]).astype(np.float32)
        if progress is not None:
            progress(len(texts), len(texts), desc)
        return out

    def encode_query(self, text: str) -> np.ndarray:
        self.queries += 1
        return self.vector(text)


def pooled_chunk_vector(encoder: Any, sentence_texts: Sequence[str]) -> np.ndarray:
    """What sentence_vectors="pooled" (the default) stores for a chunk of these sentences: their
    vectors (`encoder.vector`) weighted by their token counts (`count_tokens`, at most the model's
    maximum, +2 for [CLS] and [SEP]), summed and normalised. Computed here, independently of
    qa.indexer._embed_pooled."""
    weights = [min(n, encoder.max_tokens) + 2 for n in encoder.count_tokens(list(sentence_texts))]
    v = sum(w * encoder.vector(t).astype(np.float64) for w, t in zip(weights, sentence_texts))
    return (v / np.linalg.norm(v)).astype(np.float32)


def expected_chunk_vector(encoder: Any, data: Any, row: int) -> np.ndarray:
    """The vector chunk row `row` of index `data` must hold, by how the manifest says it was made:
    "pooled" from its sentences' vectors, "separate" the chunk text's own vector."""
    c = data.chunks[row]
    made = data.manifest.chunking.get("sentence_vectors", "separate")
    if made == "separate":
        return encoder.vector(c.text)
    assert made == "pooled", f"no expected chunk vector for sentence_vectors={made!r}"
    doc = data.documents[c.source]
    return pooled_chunk_vector(encoder, [doc.text[a:b] for a, b in doc.sentences[c.first_sentence:c.last_sentence]])


def texts_embedded(data: Any, source: str | None = None) -> int:
    """How many texts a build passes the encoder for `source` (every document if None): its
    sentences when pooled (the default), its chunks and sentences when separate."""
    sources = list(data.documents) if source is None else [source]
    sentences = sum(len(data.documents[s].sentences) for s in sources)
    if data.manifest.chunking.get("sentence_vectors", "separate") == "pooled":
        return sentences
    return sentences + sum(1 for c in data.chunks if c.source in sources)


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    return FakeEncoder()


@pytest.fixture
def make_fake_encoder() -> Callable[..., FakeEncoder]:
    return FakeEncoder


# --------------------------------------------------------------------------- real model


@pytest.fixture(scope="module")
def article_index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("article-index")


@pytest.fixture(scope="module")
def article_bot(article_seeds: Path, article_index_dir: Path):
    """The real assistant (MiniLM + FAISS) over the bundled article, built once per module."""
    from qa import Assistant, Settings

    settings = Settings.from_env(env={})
    return Assistant.from_seeds(article_seeds, article_index_dir, settings=settings, show_progress_bar=False)


# --------------------------------------------------------------------------- invariants

_MARKER = re.compile(r"\[(\d+)\]")


def assert_citations_consistent(document_text: Callable[[str], str], answer) -> None:  # type: ignore[no-untyped-def]
    """Every citation points exactly into its document, and [n] markers match the citations."""
    numbers = [c.number for c in answer.citations]
    assert numbers == list(range(1, len(numbers) + 1)), f"citation numbers are not 1..n: {numbers}"
    markers = {int(m) for m in _MARKER.findall(answer.text)}
    assert markers == set(numbers), f"markers {sorted(markers)} in {answer.text!r} != citations {numbers}"
    if answer.answered:
        assert answer.citations, "an answered answer must cite something"
    else:
        assert not answer.citations, "an unanswered answer must not cite anything"
    for c in answer.citations:
        doc = document_text(c.source)
        assert 0 <= c.start < c.end <= len(doc), (c.start, c.end, len(doc))
        assert doc[c.start : c.end] == c.text, f"[{c.number}] passage offsets do not match the document"
        assert c.start <= c.quote_start < c.quote_end <= c.end, (c.start, c.quote_start, c.quote_end, c.end)
        assert doc[c.quote_start : c.quote_end] == c.quote, f"[{c.number}] quote offsets do not match the document"
        assert c.quote in c.text, f"[{c.number}] quote is not inside its passage"
        assert c.quote.strip() == c.quote and c.quote, f"[{c.number}] quote is empty or padded: {c.quote!r}"
        if c.answer_start >= 0:
            assert c.quote_start <= c.answer_start < c.answer_end <= c.quote_end, f"[{c.number}] answer words outside the quote"
    if answer.answered and answer.short:
        first = answer.citations[0]
        # Answer.short is the answer words on one line (a line break in the document becomes a space).
        assert " ".join(document_text(first.source)[first.answer_start : first.answer_end].split()) == answer.short
    if not answer.answered:
        assert not answer.short


@pytest.fixture(scope="session")
def check_citations() -> Callable[..., None]:
    return assert_citations_consistent


def terminate(proc: "subprocess.Popen[Any]", timeout: float = 20) -> None:
    """Stop a server process: terminate, then kill if it does not exit within `timeout`."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)


def http_request(url: str, method: str = "POST", body: bytes | None = None,
                 headers: dict[str, str] | None = None, timeout: float = 30) -> tuple[int, bytes]:
    """One HTTP request (no retries): (status, body), error statuses included."""
    import urllib.error
    import urllib.request

    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def upload_request(base_url: str, name: str, data: bytes, origin: str | None = None,
                   timeout: float = 30) -> tuple[int, bytes]:
    """POST one file to Gradio's upload route (what the chat's file box does), optionally with Origin."""
    boundary = "qa-test-boundary-7f3a"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
            f"Content-Type: text/plain\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    if origin is not None:
        headers["Origin"] = origin
    return http_request(base_url.rstrip("/") + "/gradio_api/upload", "POST", body, headers, timeout)


def files_under(folder: Path) -> set[Path]:
    """Every file below `folder` (relative paths)."""
    return {p.relative_to(folder) for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


def zip_bytes(members: dict[str, str]) -> bytes:
    """A zip archive holding `members` (name -> text), as bytes."""
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


def assistant_over(folder: Path, files: dict[str, bytes]):  # type: ignore[no-untyped-def]
    """An Assistant (the real model) over a new seeds folder in `folder` holding `files` (name -> bytes)."""
    from qa import Assistant

    seeds = folder / "seeds"
    seeds.mkdir()
    for name, data in files.items():
        (seeds / name).write_bytes(data)
    return Assistant.from_seeds(seeds, folder / "index", show_progress_bar=False)


def make_pdf(lines: list[str]) -> bytes:
    """A minimal one-page PDF with real text (Helvetica), with a correct xref table."""
    return make_pages_pdf([lines])


def _pdf_string(s: str) -> str:
    return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pages_pdf(pages: list[list[str]]) -> bytes:
    """A PDF of several pages, each with its lines top to bottom (Helvetica, 14 pt apart), with a correct xref table."""
    contents = [("BT /F1 12 Tf 72 720 Td 14 TL " + " ".join(f"({_pdf_string(ln)}) Tj T*" for ln in lines) + " ET")
                for lines in pages]
    return _pdf_file(contents)


def make_drawn_pdf(runs: list[tuple], encoding: str = "") -> bytes:
    """A one-page PDF of text runs (x, y, font size, text[, bold]) drawn where they say, in
    Helvetica (with `encoding` as its /Encoding entry when given, e.g. a /Differences array) or
    Helvetica-Bold."""
    content = " ".join(f"BT /F{2 if bold else 1} {size:g} Tf {x:g} {y:g} Td ({_pdf_string(text)}) Tj ET"
                       for x, y, size, text, bold in [(*run, False)[:5] for run in runs])
    return _pdf_file([content], encoding)


def _pdf_file(contents: list[str], encoding: str = "") -> bytes:
    """A PDF whose pages have these content streams (fonts /F1: Helvetica, /F2: Helvetica-Bold),
    with a correct xref table."""
    n = len(contents)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [%s] /Count %d >>" % (" ".join(f"{3 + 2 * i} 0 R" for i in range(n)).encode(), n)]
    font = 3 + 2 * n
    for i, text in enumerate(contents):
        content = text.encode("latin-1")
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                       b"/Resources << /Font << /F1 %d 0 R /F2 %d 0 R >> >> >>" % (4 + 2 * i, font, font + 1))
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica %s>>" % (f"/Encoding {encoding} " if encoding else "").encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold >>")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


@pytest.fixture(scope="module")
def llm():  # type: ignore[no-untyped-def]
    """A scripted OpenAI-compatible server on a free loopback port (tests/llm_server.py), one per module."""
    from llm_server import ScriptedLLM

    server = ScriptedLLM()
    yield server
    server.close()
