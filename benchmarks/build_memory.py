"""Memory of an index build as the corpus grows: does the build's own working memory stay flat?

For each corpus size, one fresh process builds the index of that many documents (SciFact
abstracts, repeated with a copy number once all 5,183 are used) with `qa.indexer.update_index`,
and a second fresh process loads the finished index (`qa.index.load`). Reported per size: the
build's peak RSS, the loaded index's RSS, and their difference, the build's working memory. The
index itself must grow with the corpus (it holds every text and vector); the working memory
should not.

The model is replaced by a stand-in that tokenises with the real MiniLM tokenizer (so chunking
is the product's) and returns hashed unit vectors of the real width (384): the model's own
memory is a constant, and embedding 20k documents for real would take hours on 2 cores.

    python benchmarks/build_memory.py [--sizes 1000,4000,16000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import add_data_arg, data_dir, log, md_table, scifact_abstracts, write_json  # noqa: E402

DIMENSION = 384


class HashEncoder:
    """The `Encoder` interface without a network: MiniLM token counts, hashed unit vectors."""

    name = "hash-384"
    dimension = DIMENSION
    max_tokens = 254

    def __init__(self) -> None:
        from qa.loading import load_tokenizer

        self._tokenizer = load_tokenizer()

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(e.ids) for e in self._tokenizer.encode_batch(list(texts), add_special_tokens=False)]

    def encode(self, texts: list[str], batch_size: int = 64, progress=None, show_progress_bar: bool = False,  # type: ignore[no-untyped-def]
               desc: str = "") -> np.ndarray:
        out = np.empty((len(texts), DIMENSION), dtype=np.float32)
        for i, t in enumerate(texts):
            v = np.random.default_rng(abs(hash(t))).standard_normal(DIMENSION).astype(np.float32)
            out[i] = v / np.linalg.norm(v)
        if progress is not None:
            progress(len(texts), len(texts), desc)
        return out


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def write_corpus(data: Path, folder: Path, n: int) -> int:
    """`n` documents as .txt files; their total size in bytes."""
    abstracts = list(scifact_abstracts(data).values())
    folder.mkdir(parents=True, exist_ok=True)
    total = 0
    for i in range(n):
        copy, k = divmod(i, len(abstracts))
        text = abstracts[k] if copy == 0 else f"Copy {copy}. {abstracts[k]}"
        (folder / f"{i:06d}.txt").write_text(text, encoding="utf-8")
        total += len(text.encode("utf-8"))
    return total


def child_build(seeds: str, index_dir: str) -> None:
    from qa.indexer import update_index
    from qa.settings import Settings

    encoder = HashEncoder()
    before = current_rss_mb()
    t0 = time.perf_counter()
    data, report = update_index(Path(seeds), Path(index_dir), encoder, Settings.from_env(env={}), show_progress_bar=False)
    print(json.dumps({"seconds": time.perf_counter() - t0, "before_mb": before, "peak_mb": rss_mb(),
                      "chunks": len(data.chunks), "sentences": len(data.sentence_vectors)}))


def child_load(index_dir: str) -> None:
    from qa import index as store
    from qa.loading import load_tokenizer

    load_tokenizer()  # what the build process had loaded before building
    before = current_rss_mb()
    data = store.load(Path(index_dir))
    _ = data.stats  # what a loaded assistant computes at once
    print(json.dumps({"before_mb": before, "peak_mb": rss_mb(), "held_mb": current_rss_mb(), "chunks": len(data.chunks)}))


def run_child(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_data_arg(ap)
    ap.add_argument("--sizes", default="1000,4000,16000", help="corpus sizes in documents, comma-separated")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    ap.add_argument("--child-build", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--child-load", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_build:
        return child_build(*args.child_build)
    if args.child_load:
        return child_load(args.child_load)
    data = data_dir(args.data)
    rows, figures = [], []
    for n in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="qa-build-memory-") as tmp:
            size = write_corpus(data, Path(tmp) / "seeds", n)
            log(f"[memory] {n} documents ({size / 1e6:.1f} MB): building ...")
            b = run_child("--child-build", str(Path(tmp) / "seeds"), str(Path(tmp) / "index"))
            l = run_child("--child-load", str(Path(tmp) / "index"))
            disk = sum(p.stat().st_size for p in (Path(tmp) / "index").iterdir() if p.is_file())
        build = b["peak_mb"] - b["before_mb"]
        held = l["held_mb"] - l["before_mb"]
        rows.append((f"{n:,}", f"{size / 1e6:.1f}", f"{b['chunks']:,} / {b['sentences']:,}", f"{disk / 1e6:.0f}",
                     f"{held:.0f}", f"{build:.0f}", f"{build - held:.0f}", f"{b['seconds']:.0f}"))
        figures.append({"documents": n, "text_mb": size / 1e6, "loaded_mb": held, "build_peak_mb": build,
                        "working_mb": build - held, "seconds": b["seconds"]})
        log(f"[memory] {n}: build peak +{build:.0f} MB, loaded index +{held:.0f} MB")
    print("## Build memory as the corpus grows\n")
    print("Each build and each load in its own fresh process; MiniLM replaced by a hashing stand-in (real tokenizer, "
          "384-d vectors) so the numbers are the indexer's own. RSS in MB above the process's RSS just before the "
          "build / load.\n")
    print(md_table(("documents", "text (MB)", "chunks / sentences", "index on disk (MB)", "loaded index (MB)",
                    "build peak (MB)", "build working memory = peak - loaded (MB)", "build (s)"), rows))
    print(f"\n_Command: `python benchmarks/build_memory.py --sizes {args.sizes}`_")
    write_json(args.json, {"sizes": figures})


if __name__ == "__main__":
    main()
