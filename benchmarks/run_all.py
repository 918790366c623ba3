"""Run every benchmark (each in its own process) and write benchmarks/results.md.

    python benchmarks/run_all.py [--quick] [--only NAME ...] [--data DIR] [--out FILE]
    python benchmarks/run_all.py --scale [--quick]     # `make bench-scale`: the scale tables only


Default mode: SciFact with all 809 train queries, SQuAD with 1,000 sampled questions (+200 asked
without their article), the article dev set, and the speed benchmark with both builds. --quick
runs small versions of each (for checking that everything works, not for numbers).
The first run builds and caches the SciFact and SQuAD indexes under benchmarks/.cache/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BENCH, CACHE, REPO, loadavg, log, md_table  # noqa: E402

BENCHMARKS: dict[str, tuple[list[str], list[str]]] = {
    # name: (default arguments, --quick arguments)
    "article_dev": ([], []),
    "manuals": ([], []),
    "retrieval_scifact": ([], ["--limit", "50"]),
    "answers_squad": ([], ["--n", "100", "--unanswerable", "40"]),
    "answers_squad2": ([], []),
    "speed": ([], ["--asks", "40", "--runs", "1", "--no-squad"]),
    "milvus_store": ([], ["--n", "100"]),
    "citations_llm": ([], ["--n", "100"]),
    "build_memory": ([], ["--sizes", "500,2000"]),
    "build_throughput": ([], ["--docs", "100"]),
    "splitter": ([], ["--sizes", "100000,400000", "--runs", "1"]),
}
# Benchmarks that read no benchmark data (no --data argument).
NO_DATA = {"article_dev", "manuals", "splitter"}
# --scale: the tables at scale (name: (script, default arguments, --quick arguments)), kept apart
# because they take long (about 15 min for 1M vectors on 2 cores; SQuAD train's first run embeds
# 106,204 texts, 45+ min, cached in benchmarks/.cache/squad-train/ for the next runs).
SCALE: dict[str, tuple[str, list[str], list[str]]] = {
    "ann_1m": ("ann", ["--sizes", "1000000"], ["--sizes", "50000", "--queries", "50"]),
    "ann_squad_train": ("ann", ["--squad", "--queries", "1000"], ["--squad", "--no-embed", "--queries", "50"]),
}
# results.md: what follows this line is the scale tables (`--scale` rewrites only them; a default
# run rewrites everything above it and keeps them).
SCALE_MARK = "<!-- scale tables: written by `python benchmarks/run_all.py --scale` (make bench-scale) -->"


def _unchanged(r: dict) -> float:
    """article_dev: the share of all its questions answered or declined alike beside unrelated documents."""
    sets = r["unchanged_with_unrelated"]
    n = {name: r["metrics"][name]["questions"] for name in sets}
    return sum(sets[name] * n[name] for name in sets) / sum(n.values())


# Issue 22's targets: (measure, benchmark, its value from that benchmark's JSON, ">=" or "<=", bound).
TARGETS: list[tuple[str, str, Callable[[dict], float], str, float]] = [
    ("SQuAD held-out: first citation holds the answer", "answers_squad", lambda r: r["product"]["evidence_hit@1"], ">=", 0.86),
    ("SQuAD held-out: answer accuracy", "answers_squad", lambda r: r["product"]["answer_accuracy"], ">=", 0.82),
    ("SQuAD held-out: `Answer.short` token F1", "answers_squad", lambda r: r["product"]["short_f1"], ">=", 0.70),
    ("SQuAD 2.0 kept-out article: unanswerable declined", "answers_squad2", lambda r: r["declined"], ">=", 0.50),
    ("SQuAD 2.0 kept-out article: answerable answered", "answers_squad2", lambda r: r["answered"], ">=", 0.90),
    ("article holdout: evidence hit@1", "article_dev", lambda r: r["metrics"]["holdout"]["evidence_hit@1"], ">=", 0.90),
    ("article holdout: answerable answered", "article_dev", lambda r: r["metrics"]["holdout"]["answered_rate"], ">=", 0.90),
    ("article holdout: unanswerable declined", "article_dev", lambda r: r["metrics"]["holdout"]["no_answer_rate"], ">=", 0.75),
    ("article: answer or decline unchanged beside unrelated documents", "article_dev", _unchanged, ">=", 0.95),
    ("article: ask() median latency (ms)", "speed", lambda r: r["ask_ms_median"], "<=", 60.0),
]


def targets_table(results: dict[str, dict]) -> str:
    """The targets as a Markdown table: each one's value in this run, and whether it holds."""
    rows = []
    for measure, name, value, op, bound in TARGETS:
        shown = (lambda x: f"{100 * x:.1f}%") if bound <= 1 else (lambda x: f"{x:.1f}")  # a rate, or milliseconds
        try:
            v = value(results[name])
        except (KeyError, TypeError, ZeroDivisionError):
            rows.append((measure, "not measured", f"{op} {shown(bound)}", "–"))
            continue
        holds = v >= bound if op == ">=" else v <= bound
        rows.append((measure, shown(v), f"{op} {shown(bound)}", "yes" if holds else "**no**"))
    return "\n".join(["## Targets (issue 22)", "", md_table(("measure", "this run", "target", "holds"), rows)])


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
        commit = out.stdout.strip() if out.returncode == 0 else "none (no commits yet)"
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "qa"], cwd=REPO, capture_output=True, text=True)
        if dirty.returncode == 0 and dirty.stdout.strip():
            commit += " (qa/ has uncommitted changes)"
        return commit
    except OSError:
        return "unknown (git not available)"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def ram_gb() -> str:
    try:
        return f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 1024 ** 3:.1f} GB"
    except (ValueError, OSError, AttributeError):
        return "unknown"


def versions() -> str:
    code = ("import importlib.metadata as m; print(', '.join(f'{p} {m.version(p)}' for p in "
            "('torch', 'sentence-transformers', 'faiss-cpu', 'bm25s')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


def plot(results: dict[str, dict], path: Path) -> str:
    """Quality vs latency PNG (only when matplotlib is installed)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "(no plot: matplotlib is not installed)"
    points = []  # (panel, label, latency ms, quality)
    sf = results.get("retrieval_scifact")
    if sf:
        for m, v in sf["metrics"].items():
            points.append(("SciFact nDCG@10", m, v["median_ms"], v["ndcg@10"]))
    sq = results.get("answers_squad")
    if sq:
        for name in ("product", "recipe"):
            points.append(("SQuAD evidence hit@1", name, sq[name]["median_ms"], sq[name]["evidence_hit@1"]))
    if not points:
        return "(no plot: no results)"
    panels = list(dict.fromkeys(p[0] for p in points))
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4), squeeze=False)
    for ax, panel in zip(axes[0], panels):
        for _, label, ms, q in (p for p in points if p[0] == panel):
            ax.scatter([ms], [q])
            ax.annotate(label, (ms, q), textcoords="offset points", xytext=(5, 5))
        ax.set_xlabel("median latency per query (ms)")
        ax.set_ylabel(panel)
        ax.set_title(panel)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return f"![quality vs latency]({path.name})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small runs, to check that everything works")
    ap.add_argument("--only", nargs="+", choices=list(BENCHMARKS) + list(SCALE), help="run only these")
    ap.add_argument("--scale", action="store_true",
                    help="the scale tables instead (1M vectors, SQuAD train); rewrites only their part of --out")
    ap.add_argument("--data", type=Path, default=None, help="benchmark data folder (default: $QA_BENCH_DATA or ../shared/data)")
    ap.add_argument("--out", type=Path, default=BENCH / "results.md")
    args = ap.parse_args()

    table = SCALE if args.scale else {name: (name, *runs) for name, runs in BENCHMARKS.items()}
    names = [n for n in (args.only or list(table)) if n in table]
    json_dir = CACHE / "results"
    json_dir.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now().astimezone()
    load_start = loadavg()
    sections: list[str] = []
    timings: list[tuple[str, float, int]] = []
    results: dict[str, dict] = {}
    t_all = time.perf_counter()
    for name in names:
        script, default_args, quick_args = table[name]
        json_path = json_dir / f"{name}.json"
        json_path.unlink(missing_ok=True)
        cmd = [sys.executable, str(BENCH / f"{script}.py"), *(quick_args if args.quick else default_args),
               "--json", str(json_path)]
        if args.data and name not in NO_DATA:
            cmd += ["--data", str(args.data)]
        log(f"=== {name}: {' '.join(cmd[1:])}")
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, cwd=REPO)
        seconds = time.perf_counter() - t0
        timings.append((name, seconds, proc.returncode))
        body = proc.stdout.strip()
        if proc.returncode != 0:
            body = f"## {name}\n\n**FAILED** (exit code {proc.returncode}; see stderr of the run)\n\n{body}"
        elif json_path.exists():
            results[name] = json.loads(json_path.read_text(encoding="utf-8"))
        shown = " ".join([f"python benchmarks/{script}.py", *(quick_args if args.quick else default_args)])
        sections.append(f"{body}\n\n_Command: `{shown}` — ran in {seconds:.0f} s._")
        print(body + "\n", flush=True)
    total = time.perf_counter() - t_all

    plot_line = plot(results, BENCH / "quality_vs_latency.png")
    header = [
        "# Benchmark results",
        "",
        f"- Date: {started.strftime('%Y-%m-%d %H:%M %Z')}",
        f"- Commit: {git_commit()}",
        f"- Mode: {'quick (small runs; not for quoting)' if args.quick else 'default'}",
        f"- Machine: {platform.platform()}; {cpu_model()}; {os.cpu_count()} CPUs; RAM {ram_gb()}; "
        f"Python {platform.python_version()}",
        f"- Libraries: {versions()}",
        f"- Load average (1/5/15 min) at start: {load_start}; at end: {loadavg()} "
        "(other work on the machine inflates the timings)",
        f"- Total run time: {total / 60:.1f} min ("
        + ", ".join(f"{n} {s:.0f} s{'' if rc == 0 else ' FAILED'}" for n, s, rc in timings) + ")",
        "",
        "Regenerate with `python benchmarks/run_all.py`; see benchmarks/README.md for what each number means.",
        "",
    ]
    old = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
    above, marked, scale_part = old.partition(SCALE_MARK)
    if args.scale:
        header = [
            "## Scale: 1M vectors, and SQuAD train as a real corpus",
            "",
            f"- Date: {started.strftime('%Y-%m-%d %H:%M %Z')}; commit {git_commit()}; "
            f"mode {'quick (not for quoting)' if args.quick else 'default'}; {os.cpu_count()} CPUs, RAM {ram_gb()}",
            f"- Load average (1/5/15 min) at start: {load_start}; at end: {loadavg()} (other work on the machine "
            "inflates the timings; peak RSS does not depend on it)",
            f"- Run time: {total / 60:.1f} min; regenerate with `python benchmarks/run_all.py --scale` (`make bench-scale`)",
            "",
        ]
        text = (above.rstrip() + "\n\n" if above.strip() else "# Benchmark results\n\n") + SCALE_MARK + "\n\n"
        text += "\n".join(header) + "\n" + "\n\n".join(re.sub(r"(?m)^## ", "### ", s) for s in sections) + "\n"
    else:
        text = "\n".join(header) + "\n" + "\n\n".join([targets_table(results), *sections]) + "\n\n" + plot_line + "\n"
        if marked:  # the scale tables of the last --scale run stay
            text += "\n" + SCALE_MARK + scale_part
    args.out.write_text(text, encoding="utf-8")
    log(f"wrote {args.out} in {total / 60:.1f} min")
    if any(rc != 0 for _, _, rc in timings):
        sys.exit(1)


if __name__ == "__main__":
    main()
