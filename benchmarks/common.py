"""Shared helpers of the benchmarks: data location, cache keys, corpora, Markdown tables.

Benchmarks print their Markdown report on stdout and progress on stderr, so
`run_all.py` can collect the reports while progress stays visible.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "benchmarks"
CACHE = BENCH / ".cache"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

# -- data -------------------------------------------------------------------------------------


def add_data_arg(ap: Any) -> None:
    ap.add_argument(
        "--data",
        type=Path,
        default=None,
        help="folder with squad-v1.1-dev13/ and scifact/ (default: $QA_BENCH_DATA or <repo>/../shared/data)",
    )


def data_dir(arg: Path | None) -> Path:
    """The benchmark data folder: --data, else $QA_BENCH_DATA, else <repo>/../shared/data."""
    path = arg or (Path(os.environ["QA_BENCH_DATA"]) if os.environ.get("QA_BENCH_DATA") else REPO.parent / "shared" / "data")
    if not path.is_dir():
        sys.exit(f"benchmark data not found in {path}; pass --data DIR or set QA_BENCH_DATA")
    return path


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- hashing and the cache --------------------------------------------------------------------


def sha(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else p.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


def file_sha(path: Path) -> str:
    from qa.index import file_sha256

    return file_sha256(path)


def index_key(data_hash: str, settings: Any) -> str:
    """Cache key of an index folder: the data and the settings that shape the index.

    Code changes are caught elsewhere: the product rebuilds an index whose manifest (model,
    chunking settings, splitter version) differs, and `spot_check` compares a sample of the
    cached index with what the current code produces.
    """
    shaping = {"model": settings.model, "chunk_tokens": settings.chunk_tokens, "chunk_overlap": settings.chunk_overlap}
    if getattr(settings, "encoder", "torch") != "torch":  # torch-built caches keep their keys
        shaping["encoder"] = settings.encoder
    if getattr(settings, "sentence_vectors", "separate") != "separate":  # separately made ones keep their keys
        shaping["sentence_vectors"] = settings.sentence_vectors
    return sha(data_hash, json.dumps(shaping, sort_keys=True))[:16]


def spot_check(bot: Any, seeds: Path, sample: int = 150) -> str | None:
    """None if a sample of the cached index's documents chunk and embed exactly as the current
    code would, else the reason they do not (the caller then rebuilds)."""
    import random

    import numpy as np

    try:
        from qa.documents import read_document
        from qa.indexer import chunking_settings, prepare

        data = bot.data
        sources = sorted(data.documents)
        pick = random.Random(0).sample(sources, min(sample, len(sources)))
        chunking = chunking_settings(bot.settings, bot.encoder)
        spans: dict[str, list[tuple[int, int]]] = {}
        rows: dict[str, list[int]] = {}
        for i, c in enumerate(data.chunks):
            spans.setdefault(c.source, []).append((c.start, c.end))
            rows.setdefault(c.source, []).append(i)
        for src in pick:
            doc = read_document(seeds / src, source=src)
            indexed, chunks = prepare(doc, bot.encoder, chunking)
            if indexed.text != data.documents[src].text or list(indexed.sentences) != list(data.documents[src].sentences):
                return f"{src}: the current code splits its sentences differently"
            if [(c.start, c.end) for c in chunks] != spans.get(src, []):
                return f"{src}: the current code chunks it differently"
        check = [r for src in pick[:8] for r in rows.get(src, [])[:2]]
        if data.manifest.chunking.get("sentence_vectors") == "pooled":  # chunk vectors pooled: check sentences
            check = [data.sentence_rows(data.chunks[r].source, data.chunks[r].first_sentence,
                                        data.chunks[r].first_sentence + 1)[0] for r in check]
            fresh = bot.encoder.encode([data.documents[src].text[a:b] for src, _, a, b in map(data.sentence_at, check)])
            stored = data.sentence_vectors.vectors_at(check)
        else:
            fresh = bot.encoder.encode([data.chunks[r].text for r in check])
            stored = data.chunk_vectors.vectors_at(check)
        worst = float(np.min(np.sum(fresh * stored, axis=1))) if check else 1.0
        if worst < 0.999:
            return f"stored chunk vectors differ from fresh ones (cosine {worst:.4f})"
    except Exception as exc:  # internals may change under us; the manifest check still applies
        log(f"spot check of the cached index skipped ({type(exc).__name__}: {exc})")
    return None


def prune(parent: Path, prefix: str, keep: Path, keep_recent: int = 2) -> None:
    """Delete old cache folders `<prefix>-<hash>` in `parent`, keeping `keep` and the newest few."""
    if not parent.is_dir():
        return
    pattern = re.compile(re.escape(prefix) + r"-[0-9a-f]{12,16}$")
    old = [p for p in parent.iterdir() if p.is_dir() and pattern.match(p.name) and p.resolve() != keep.resolve()]
    old.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for p in old[keep_recent:]:
        shutil.rmtree(p, ignore_errors=True)


def write_seeds(folder: Path, docs: dict[str, str]) -> Path:
    """Write `docs` (file name -> text) into `folder` once; a hidden marker records completion."""
    marker = folder / ".complete"
    if marker.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in docs.items():
        (folder / name).write_text(text, encoding="utf-8")
    wanted = set(docs)
    for p in folder.iterdir():
        if p.is_file() and not p.name.startswith(".") and p.name not in wanted:
            p.unlink()
    marker.write_text(f"{len(docs)} documents\n", encoding="utf-8")
    return folder


def bench_settings() -> Any:
    """Settings from the environment; builds have no time limit unless QA_MAX_INDEX_SECONDS is set
    (SciFact's first build takes tens of minutes on 2 cores)."""
    import dataclasses
    import os

    from qa import Settings

    settings = Settings.from_env()
    if "QA_MAX_INDEX_SECONDS" not in os.environ:
        settings = dataclasses.replace(settings, max_index_seconds=0)
    return settings


def settings_line(settings: Any) -> str:
    return (
        f"model {settings.model} ({settings.encoder}), sentence vectors {getattr(settings, 'sentence_vectors', 'separate')}, "
        f"chunk_tokens {settings.chunk_tokens or 'model max'}, "
        f"chunk_overlap {settings.chunk_overlap} sentence(s), top_k {settings.top_k}, "
        f"max_answer_sentences {settings.max_answer_sentences}, min_confidence {settings.min_confidence}"
    )


def open_assistant(seeds: Path, index_dir: Path, settings: Any, label: str, check: bool = True) -> tuple[Any, float]:
    """Assistant.from_seeds on a cached index dir; returns it and the wall seconds it took."""
    from qa import Assistant

    t0 = time.perf_counter()
    tty = sys.stderr.isatty()
    last = [0.0]

    def progress(done: int, total: int, desc: str) -> None:
        # Without a terminal there is no progress bar: log a line at most every 30 seconds.
        now = time.perf_counter()
        if done >= total or now - last[0] >= 30:
            last[0] = now
            log(f"[{label}] {desc}: {done}/{total} texts embedded ({now - t0:.0f}s)")

    bot = Assistant.from_seeds(seeds, index_dir=index_dir, settings=settings, show_progress_bar=tty,
                               progress=None if tty else progress)
    dt = time.perf_counter() - t0
    rep = bot.last_update
    if rep is None:
        what = "loaded"
    else:  # counts, not UpdateReport.summary(): that lists every file name (5,183 for SciFact)
        what = (f"added {len(rep.added)}, changed {len(rep.changed)}, removed {len(rep.removed)}, "
                f"unchanged {len(rep.unchanged)}, failed {len(rep.failed)}; embedded {rep.chunks_embedded} chunks "
                f"and {rep.sentences_embedded} sentences")
        if rep.failed:
            what += " (failed: " + "; ".join(f"{k}: {v}" for k, v in list(rep.failed.items())[:5]) + ")"
    log(f"[{label}] {index_dir.name}: {what} ({dt:.1f}s wall)")
    if check and rep is not None and not rep.changed_anything:
        why = spot_check(bot, seeds)
        if why:
            log(f"[{label}] cached index is stale ({why}); rebuilding")
            shutil.rmtree(index_dir, ignore_errors=True)
            return open_assistant(seeds, index_dir, settings, label, check=False)
    return bot, dt


# -- SciFact ----------------------------------------------------------------------------------


def scifact_abstracts(data: Path) -> dict[str, str]:
    """SciFact's corpus as document id -> "title\n\ntext", in file order."""
    out = {}
    with (data / "scifact" / "corpus.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            out[d["_id"]] = f"{d['title']}\n\n{d['text']}"
    return out


# -- SQuAD as a corpus ------------------------------------------------------------------------


@dataclass(frozen=True)
class SquadQuestion:
    id: str
    question: str
    answers: list[str]
    source: str  # document file name
    start: int  # gold paragraph span in the document text
    end: int


@dataclass
class SquadArticle:
    title: str
    source: str
    text: str
    questions: list[SquadQuestion] = field(default_factory=list)


def squad_path(data: Path) -> Path:
    return data / "squad-v1.1-dev13" / "dev-v1.1-13-articles.json"


def slug(title: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", title).strip("_") + ".txt"


def load_squad(data: Path, path: Path | None = None) -> list[SquadArticle]:
    """One document per article (paragraphs joined by a blank line), questions with their paragraph
    span (SQuAD 2.0's unanswerable ones with no answers); from the dev file unless `path` is given."""
    raw = json.loads((path or squad_path(data)).read_text(encoding="utf-8"))
    articles = []
    for art in raw["data"]:
        source = slug(art["title"])
        parts: list[str] = []
        questions: list[SquadQuestion] = []
        pos = 0
        for p in art["paragraphs"]:
            ctx = p["context"]
            start, end = pos, pos + len(ctx)
            for qa in p["qas"]:
                answers = list(dict.fromkeys(a["text"] for a in qa["answers"] if a["text"].strip()))
                questions.append(SquadQuestion(qa["id"], qa["question"], answers, source, start, end))
            parts.append(ctx)
            pos = end + 2
        text = "\n\n".join(parts)
        for q in questions[:3]:
            assert text[q.start : q.end] in {p["context"] for p in art["paragraphs"]}
        articles.append(SquadArticle(art["title"], source, text, questions))
    return articles


def squad_seeds(data: Path, articles: list[SquadArticle], exclude: str | None = None) -> Path:
    """The cached seeds folder of the SQuAD corpus (optionally without one document)."""
    h = file_sha(squad_path(data))[:12]
    name = f"seeds-{h}" if exclude is None else f"seeds-{h}-without-{exclude.removesuffix('.txt')}"
    return write_seeds(CACHE / "squad" / name, {a.source: a.text for a in articles if a.source != exclude})


# -- numbers and tables -----------------------------------------------------------------------


def md_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join("---" for _ in headers) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def pct(x: float) -> str:
    return "n/a" if x != x else f"{100 * x:.1f}%"


def rate(flags: Iterable[bool]) -> float:
    flags = list(flags)
    return sum(flags) / len(flags) if flags else float("nan")


def median(xs: Sequence[float]) -> float:
    return float(statistics.median(xs)) if xs else float("nan")


def percentile(xs: Sequence[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(np.asarray(xs, dtype=float), q)) if len(xs) else float("nan")


def loadavg() -> str:
    try:
        return "/".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def write_json(path: Path | None, payload: dict[str, Any]) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=float), encoding="utf-8")
