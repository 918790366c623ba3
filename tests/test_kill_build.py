"""`kill -9` at random moments of a real `qa index` build never breaks the index.

A module fixture builds an index of a tiny folder with the real CLI in a subprocess (the real
MiniLM model; the corpus is small, so a build takes a few seconds, mostly start-up) and
measures how long that takes. Each trial then adds a batch of new small files, starts
`qa index` on the enlarged folder and SIGKILLs it after a random delay (seeded, so every run
kills at the same moments; trial k draws from the k-th slice of [MIN_DELAY, typical build
time], so the late, writing part of a build is always covered). Afterwards:

1. the folder still loads (`qa.index.load`: no IndexCorruptError) and holds exactly the
   previous or the new set of documents, never a mix;
2. every file the manifest names exists and its sha256 verifies (load checks that);
3. a following `qa index` (the CLI's `main`, in this process) exits 0 and the index then holds every document of the folder;
4. after that run no temporary or orphaned generation file is left (`.lock` may remain).

Trials run in order and build on each other's index (one initial build for the module).
Never asserts on wall time; the timeouts only guard against a hang.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import qa.index as store
from conftest import REPO_ROOT, clean_env
from qa.cli import main as cli_main

pytestmark = pytest.mark.reliability

TRIALS = 5
SEED = 20261126
FILES_PER_TRIAL = 40
MIN_DELAY = 0.2
# Only guards against a hang; never a timing claim.
HANG_GUARD = 300

SEEDS = {
    "alpha.txt": "Alpha station opened in 1901 on the northern bank of the river. It closed in 1999.",
    "beta.txt": "Beta is a small village in the hills. About 300 people live there.",
    "gamma.txt": "Gamma rays are the most energetic form of light. Satellites detect them.",
}


def add_files(folder: Path, tag: str, count: int) -> set[str]:
    names = set()
    for i in range(count):
        name = f"{tag}-{i:02d}.txt"
        (folder / name).write_text(
            f"Document {i} of batch {tag} describes lake number {i}. Fishermen visit it in spring. "
            f"The water of lake {i} is cold all year.",
            encoding="utf-8",
        )
        names.add(name)
    return names


def folder_sources(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")}


def index_cmd(seeds: Path, index_dir: Path) -> list[str]:
    return [sys.executable, "-m", "qa.cli", "index", str(seeds), "--index-dir", str(index_dir)]


def run_index(seeds: Path, index_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(index_cmd(seeds, index_dir), cwd=REPO_ROOT, env=clean_env(), capture_output=True,
                          text=True, timeout=HANG_GUARD)


def check_loads(index_dir: Path) -> set[str]:
    """(1) + (2): the index loads (load verifies every named file's sha256), every file the
    manifest names exists, and the manifest's sources are the loaded documents."""
    data = store.load(index_dir)  # IndexCorruptError / IndexNotFoundError fail the test
    manifest = json.loads((index_dir / store.MANIFEST).read_text(encoding="utf-8"))
    assert manifest["checksums"], "the manifest has no checksums"
    for key, name in manifest["files"].items():
        assert (index_dir / name).is_file(), f"the manifest names a missing file: {name}"
        assert store.file_sha256(index_dir / name) == manifest["checksums"][key], f"{name} does not verify"
    assert set(data.documents) == set(manifest["sources"])
    return set(data.documents)


def leftovers(index_dir: Path) -> set[str]:
    manifest = json.loads((index_dir / store.MANIFEST).read_text(encoding="utf-8"))
    allowed = set(manifest["files"].values()) | {store.MANIFEST, store.LOCK, store.EXCLUDED}
    return {p.name for p in index_dir.iterdir()} - allowed


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The initial index (seeds + one batch), the typical build time, and the trials' delays."""
    root = tmp_path_factory.mktemp("kill-build")
    seeds, index_dir = root / "seeds", root / "index"
    seeds.mkdir()
    for name, text in SEEDS.items():
        (seeds / name).write_text(text, encoding="utf-8")
    add_files(seeds, "batch-0", FILES_PER_TRIAL)
    t0 = time.monotonic()
    proc = run_index(seeds, index_dir)
    typical = time.monotonic() - t0
    assert proc.returncode == 0, proc.stderr
    assert check_loads(index_dir) == folder_sources(seeds)
    # Trial k kills in the k-th slice of [MIN_DELAY, typical]: random but spread over the build.
    rng = random.Random(SEED)
    top = max(typical, MIN_DELAY + 0.5)
    width = (top - MIN_DELAY) / TRIALS
    delays = [MIN_DELAY + k * width + rng.random() * width for k in range(TRIALS)]
    return {"seeds": seeds, "index": index_dir, "typical": typical, "delays": delays}


@pytest.mark.parametrize("trial", range(1, TRIALS + 1), ids=[f"trial-{k}" for k in range(1, TRIALS + 1)])
def test_kill_9_during_a_build_leaves_a_usable_index(built: dict, trial: int, monkeypatch) -> None:
    seeds, index_dir = built["seeds"], built["index"]
    delay = built["delays"][trial - 1]
    # Start from a complete index of the current folder (the earlier trials leave one).
    before = check_loads(index_dir)
    assert before == folder_sources(seeds)
    new = add_files(seeds, f"trial-{trial}", FILES_PER_TRIAL)
    after = before | new

    log = index_dir.parent / f"trial-{trial}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(index_cmd(seeds, index_dir), cwd=REPO_ROOT, env=clean_env(), stdout=out,
                                stderr=subprocess.STDOUT)
        try:
            proc.wait(timeout=delay)
            finished = True  # the build ended before the kill: still a valid trial
        except subprocess.TimeoutExpired:
            finished = False
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=HANG_GUARD)
    note = (f"trial {trial}: delay {delay:.2f}s of typical {built['typical']:.2f}s, "
            f"{'finished first' if finished else 'killed'} (exit {proc.returncode})")
    print(note)
    if finished:
        assert proc.returncode == 0, f"{note}\n{log.read_text(errors='replace')}"
    else:
        assert proc.returncode == -signal.SIGKILL, note

    # (1) + (2): the previous or the new generation, never a mix.
    sources = check_loads(index_dir)
    assert sources in (before, after), (
        f"{note}: the index holds a mix: {len(sources & new)} of {len(new)} new documents, "
        f"{len(before - sources)} old ones missing"
    )

    print(f"  after the kill: {'new' if sources == after and new else 'previous'} generation loads; "
          f"files outside it: {sorted(leftovers(index_dir)) or 'none'}")

    # (3) the next build succeeds and holds every document. It runs the CLI's `main` in this
    # process (the model loads once for the module, not once per trial); the kill is what
    # needs a separate process.
    for key in [k for k in os.environ if k.startswith("QA_")]:
        monkeypatch.delenv(key)
    code = cli_main(["index", str(seeds), "--index-dir", str(index_dir), "--quiet"])
    assert code == 0, f"{note}: the next qa index exited with {code}"
    assert check_loads(index_dir) == after == folder_sources(seeds)

    # (4) no temporary or orphaned generation files after a successful run.
    extra = leftovers(index_dir)
    assert not extra, f"{note}: files left behind after the next successful build: {sorted(extra)}"
