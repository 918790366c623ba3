"""Speed and memory, in one process: ask() latency, index build time, peak RSS, CLI cold start.

* ask() latency: median and p95 over the dev-set questions (tests/data/article_dev.jsonl),
  cycled to --asks calls after one warm-up pass, against the bundled article; compared with one
  `encode_query` of the same questions (the floor any embedding-based answer pays) and with
  `Assistant.search(q, top_k=5)` (encode + retrieval, i.e. ask() without answer composition).
* index build: `Assistant.from_seeds` into a fresh index folder (model already loaded and warm),
  for the bundled article and for the 13-article SQuAD corpus, compared with the same encoder
  alone (`encode`) on exactly the texts the build embeds (the index's chunk texts and sentence
  texts), and for SQuAD on the chunks alone and the sentences alone.
* peak RSS of this process (resource.getrusage ru_maxrss), after the article phase and at the end.
* cold start: wall time of `qa ask "<question>" --index-dir <built index>` in a fresh process
  vs `python -c "import sentence_transformers"` (median of --runs).

The machine may be shared: the load average is printed with the results.

    python benchmarks/speed.py [--asks 200] [--runs 3] [--no-squad] [--data DIR] [--json out.json]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    CACHE,
    REPO,
    add_data_arg,
    bench_settings,
    data_dir,
    load_squad,
    loadavg,
    log,
    md_table,
    median,
    percentile,
    settings_line,
    squad_seeds,
)


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # KiB on Linux


def embedded_texts(bot: Any) -> list[str]:
    """Exactly what a build embeds: every chunk's text and every sentence's text."""
    data = bot.data
    chunks = [c.text for c in data.chunks]
    sentences = [d.text[a:b] for d in data.documents.values() for a, b in d.sentences]
    return chunks + sentences


def build(seeds: Path, index_dir: Path, settings: Any, enc: Any, label: str, breakdown: bool = False
          ) -> dict[str, float]:
    from qa import Assistant

    shutil.rmtree(index_dir, ignore_errors=True)
    log(f"[speed] building the {label} index from scratch ...")
    t0 = time.perf_counter()
    bot = Assistant.from_seeds(seeds, index_dir=index_dir, settings=settings, show_progress_bar=False)
    build_s = time.perf_counter() - t0
    rep = bot.last_update
    assert rep is not None and rep.chunks_embedded > 0, "the build must embed from scratch"
    rss_build = peak_rss_mb()
    texts = embedded_texts(bot)
    assert len(texts) == rep.chunks_embedded + rep.sentences_embedded
    log(f"[speed] {label}: built in {build_s:.1f}s; model alone on the same {len(texts)} texts ...")
    t0 = time.perf_counter()
    enc.encode(texts, batch_size=settings.batch_size)
    model_s = time.perf_counter() - t0
    log(f"[speed] {label}: model alone {model_s:.1f}s")
    split: dict[str, float] = {}
    if breakdown:  # where the embedding time goes: the chunks vs the per-sentence vectors
        n = rep.chunks_embedded
        for part, subset in (("model_chunks_s", texts[:n]), ("model_sentences_s", texts[n:])):
            t0 = time.perf_counter()
            enc.encode(subset, batch_size=settings.batch_size)
            split[part] = time.perf_counter() - t0
        log(f"[speed] {label}: chunks alone {split['model_chunks_s']:.1f}s, sentences alone {split['model_sentences_s']:.1f}s")
    return {
        **split,
        "rss_after_build_mb": rss_build,
        "build_s": build_s,
        "update_s": rep.seconds,
        "model_s": model_s,
        "chunks": rep.chunks_embedded,
        "sentences": rep.sentences_embedded,
        "chunks_per_s": rep.chunks_embedded / build_s,
        "bot": bot,  # type: ignore[dict-item]
    }


# ru_maxrss of a child inherits this process's high-water mark through fork/exec, so the peak RSS
# of a fresh `qa ask` is read from /proc/self/status (VmHWM belongs to the exec'd image only).
_CHILD_RSS = """
import contextlib, io, sys
from qa.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    rc = main(["ask", sys.argv[1], "--index-dir", sys.argv[2]])
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0].split()[1]
print(rc, hwm)
"""


def child_peak_rss_mb(question: str, index_dir: Path) -> float:
    proc = subprocess.run([sys.executable, "-c", _CHILD_RSS, question, str(index_dir)], capture_output=True,
                          text=True, cwd=REPO)
    try:
        rc, kib = proc.stdout.split()[-2:]
        return float(kib) / 1024 if rc == "0" else float("nan")
    except ValueError:
        return float("nan")


def cold_start(cmd: list[str], runs: int) -> tuple[float, list[float]]:
    times = []
    env = dict(os.environ)
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO)
        times.append(time.perf_counter() - t0)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    return median(times), times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_arg(ap)
    ap.add_argument("--asks", type=int, default=200, help="timed ask() calls (default 200)")
    ap.add_argument("--runs", type=int, default=3, help="cold-start repetitions (default 3)")
    ap.add_argument("--no-squad", action="store_true", help="skip the SQuAD build (quick run)")
    ap.add_argument("--questions", type=Path, default=REPO / "tests" / "data" / "article_dev.jsonl")
    ap.add_argument("--json", type=Path, default=None, help="also write the metrics here")
    args = ap.parse_args()
    data = None if args.no_squad else data_dir(args.data)
    t_start = time.perf_counter()
    load_before = loadavg()

    from qa.embedding import load_encoder
    from qa.evaluation import load_questions

    settings = bench_settings()
    questions = [q.question for q in load_questions(args.questions)]
    t0 = time.perf_counter()
    enc = load_encoder(settings.model, settings.device, settings.encoder)
    load_s = time.perf_counter() - t0
    enc.encode(["warm-up sentence"] * 16)
    enc.encode_query("warm-up question")

    work = CACHE / "speed" / f"run-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        art = build(REPO / "seeds", work / "article", settings, enc, "article")
        bot = art.pop("bot")

        log(f"[speed] ask() x {args.asks} ...")
        for q in questions:  # warm-up pass
            bot.ask(q)
        cycle = [questions[i % len(questions)] for i in range(args.asks)]
        ask_ms, enc_ms, search_ms = [], [], []
        answered = 0
        # Interleaved per question, so a busy spell on a shared machine hits all three alike.
        for q in cycle:
            t0 = time.perf_counter()
            a = bot.ask(q)
            t1 = time.perf_counter()
            enc.encode_query(q)
            t2 = time.perf_counter()
            bot.search(q, top_k=settings.top_k)
            t3 = time.perf_counter()
            ask_ms.append(1000 * (t1 - t0))
            enc_ms.append(1000 * (t2 - t1))
            search_ms.append(1000 * (t3 - t2))
            answered += a.answered
        rss_article = peak_rss_mb()

        sq: dict[str, float] | None = None
        if data is not None:
            articles = load_squad(data)
            sq = build(squad_seeds(data, articles), work / "squad", settings, enc, "SQuAD", breakdown=True)
            sq.pop("bot")
        rss_end = peak_rss_mb()

        log(f"[speed] cold starts x {args.runs} ...")
        qa_bin = Path(sys.executable).parent / "qa"
        question = questions[0]
        if qa_bin.exists():
            qa_cmd, qa_label = [str(qa_bin), "ask", question, "--index-dir", str(work / "article")], "`qa ask ...`"
        else:
            qa_cmd = [sys.executable, "-m", "qa.cli", "ask", question, "--index-dir", str(work / "article")]
            qa_label = "`python -m qa.cli ask ...` (no `qa` script installed)"
        st_cmd = [sys.executable, "-c", "import sentence_transformers"]
        st_s, st_all = cold_start(st_cmd, args.runs)
        qa_s, qa_all = cold_start(qa_cmd, args.runs)
        rss_child = child_peak_rss_mb(question, work / "article")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    ask_med, ask_p95, enc_med, search_med = median(ask_ms), percentile(ask_ms, 95), median(enc_ms), median(search_ms)

    def build_rows(label: str, b: dict[str, float]) -> list[tuple[str, str, str, str]]:
        return [
            (f"{label}: index build, fresh folder (s)", f"{b['build_s']:.1f}",
             f"model alone on the same {int(b['chunks'] + b['sentences'])} texts: {b['model_s']:.1f} s",
             f"{b['build_s'] / b['model_s']:.2f}x"),
            (f"{label}: texts embedded",
             f"{int(b['chunks'])} chunks + {int(b['sentences'])} sentences", "texts per chunk",
             f"{(b['chunks'] + b['sentences']) / b['chunks']:.1f}"),
            (f"{label}: chunks/s (chunks embedded / build wall time)", f"{b['chunks_per_s']:.1f}", "", ""),
        ] + ([
            (f"{label}: model alone, chunks only / sentences only (s)",
             f"{b['model_chunks_s']:.1f} / {b['model_sentences_s']:.1f}",
             "share of the model time spent on sentence vectors",
             f"{b['model_sentences_s'] / (b['model_chunks_s'] + b['model_sentences_s']):.0%}"),
        ] if "model_chunks_s" in b else []) + [
            (f"{label}: peak RSS right after the build (MB)", f"{b['rss_after_build_mb']:.0f}", "", ""),
        ]

    rows: list[tuple[str, str, str, str]] = [
        ("ask() latency, median (ms)", f"{ask_med:.1f}", f"encode_query median: {enc_med:.1f} ms",
         f"{ask_med / enc_med:.1f}x"),
        ("ask() latency, p95 (ms)", f"{ask_p95:.1f}", f"encode_query p95: {percentile(enc_ms, 95):.1f} ms",
         f"{ask_p95 / percentile(enc_ms, 95):.1f}x"),
        ("search(top_k=5) latency, median (ms)", f"{search_med:.1f}", "ask() median", f"{search_med / ask_med:.2f}x"),
    ]
    rows += build_rows("article", art)
    if sq is not None:
        rows += build_rows("SQuAD 13 articles", sq)
    rows += [
        ("peak RSS after the article phase (ask loop included) (MB)", f"{rss_article:.0f}", "", ""),
        ("peak RSS at the end (MB)" + (", incl. SQuAD build" if sq else ""), f"{rss_end:.0f}", "", ""),
        (f"cold start: {qa_label}, median of {args.runs} (s)", f"{qa_s:.2f}",
         f"`python -c \"import sentence_transformers\"`: {st_s:.2f} s", f"{qa_s / st_s:.2f}x"),
        ("peak RSS of a fresh `qa ask` process (MB, VmHWM)", f"{rss_child:.0f}", "", ""),
        ("model load in this process, incl. importing sentence-transformers (s)", f"{load_s:.1f}", "", ""),
    ]
    out = [
        "## Speed and memory",
        "",
        f"One process; {len(questions)} dev-set questions cycled to {args.asks} timed ask() calls after a warm-up pass "
        f"({answered}/{args.asks} answered); {settings_line(settings)}. Load average (1/5/15 min) before: {load_before}, "
        f"after: {loadavg()}. Cold-start runs: qa {', '.join(f'{t:.2f}' for t in qa_all)} s; "
        f"import {', '.join(f'{t:.2f}' for t in st_all)} s.",
        "",
        md_table(("measure", "value", "compared with", "ratio"), rows),
    ]
    print("\n".join(out))
    from common import write_json

    write_json(args.json, {
        "benchmark": "speed",
        "ask_ms_median": ask_med, "ask_ms_p95": ask_p95, "encode_query_ms_median": enc_med,
        "search_ms_median": search_med, "article": art, "squad": sq, "peak_rss_mb": rss_end,
        "cold_start_qa_s": qa_s, "cold_start_import_st_s": st_s, "seconds": time.perf_counter() - t_start,
    })
    log(f"[speed] done in {time.perf_counter() - t_start:.0f}s")


if __name__ == "__main__":
    main()
