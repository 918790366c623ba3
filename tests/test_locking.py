"""One writer per index folder (`qa.index.writer_lock`, a file lock on `index/.lock`).

- Two processes writing the same index folder at once, round after round (the CLI's
  `qa index` over different folders, two uploaders, `qa index` beside an uploader): every
  round leaves a complete, loadable index, no write interleaves with another, no update is
  lost (each starts from the index on disk), and a reader loading meanwhile never fails.
- A writer that finds the folder locked by another process waits, says so once, and gives
  up with IndexBusyError after its timeout, changing nothing; the CLI prints `qa: error:`.
- Questions never wait for an update: through the UI controller and the library itself they
  are answered from the loaded version while `add_files` / `remove_document` run.

The deterministic FakeEncoder (conftest) stands in for the model, in this process and in
the spawned writer processes.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

import pytest

import qa
import qa.index as store
from conftest import REPO_ROOT, FakeEncoder, clean_env
from qa import Assistant, IndexBusyError, QAError, Settings
from qa.indexer import update_index
from qa.schema import Answer, DocumentInfo, UpdateReport

pytestmark = pytest.mark.reliability

ROUNDS = 10
# Only guards against a hang (a broken test must not block the suite); never a timing claim.
HANG_GUARD = 300

FOLDER_A = {
    "alpha.txt": "Alpha station opened in 1901 on the northern bank of the river. It closed in 1999.",
    "beta.md": "# Beta\n\nBeta is a small village in the hills. About 300 people live there.",
}
FOLDER_B = {
    "gamma.txt": "Gamma rays are the most energetic form of light. Satellites detect them.",
    "delta.txt": "Delta is the fourth letter of the Greek alphabet. The Nile delta is large.",
    "epsilon.md": "Epsilon is a small quantity. Mathematicians use it in proofs about limits.",
}
DELTA_UPLOAD = "The Nile delta is one of the largest in the world. Farmers have used its soil for ages."


def write_folder(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def settings_for(seeds: Path, index_dir: Path) -> Settings:
    return Settings.from_env(env={}, batch_size=8).with_(seeds_dir=seeds, index_dir=index_dir)


def folder_sources(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")}


def check_complete(index_dir: Path) -> set[str]:
    """The index loads, every file its manifest names exists, and no other generation's files
    are left behind; returns the indexed sources."""
    data = store.load(index_dir)
    manifest = json.loads((index_dir / store.MANIFEST).read_text(encoding="utf-8"))
    named = set(manifest["files"].values())
    missing = {name for name in named if not (index_dir / name).is_file()}
    assert not missing, f"the manifest names missing files: {sorted(missing)}"
    extra = {p.name for p in index_dir.iterdir()} - named - {store.MANIFEST, store.LOCK, store.EXCLUDED}
    assert not extra, f"files of another generation were left behind: {sorted(extra)}"
    assert set(data.documents) == set(manifest["sources"])
    return set(data.documents)


# --------------------------------------------------------------------------- racing writers


class SlowEncoder(FakeEncoder):
    """The fake encoder, a little slow, so that two writers' updates really overlap in time."""

    def encode(self, texts, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        time.sleep(0.05)
        return super().encode(texts, *args, **kwargs)


def _count_saves(active: Any, peak: Any) -> None:
    """Make `qa.index.save` count how many processes are inside it at once (in `peak`)."""
    original = store.save

    def save(index_dir: Path, data: Any) -> None:
        with active.get_lock():
            active.value += 1
            peak.value = max(peak.value, active.value)
        try:
            time.sleep(0.02)
            original(index_dir, data)
        finally:
            with active.get_lock():
                active.value -= 1

    store.save = save  # type: ignore[assignment]


def _writer(kind: str, worker: int, index_dir: str, seeds: str, uploads: str, rounds: int,
            barrier: Any, active: Any, peak: Any, errors: Any) -> None:
    """One writer process: `rounds` times, wait for the start signal, write, report done."""
    import qa.assistant
    from qa.cli import main

    try:
        encoder = SlowEncoder()
        qa.assistant.load_encoder = lambda *args, **kwargs: encoder  # type: ignore[assignment]
        _count_saves(active, peak)
        index, folder = Path(index_dir), Path(seeds)
        bot = None
        if kind == "upload":
            bot = Assistant.from_seeds(folder, index, settings=settings_for(folder, index), show_progress_bar=False)
        for n in range(rounds):
            barrier.wait(HANG_GUARD)
            if kind == "index":  # a changed document each round, so each run writes
                (folder / f"notes-w{worker}.txt").write_text(f"Notes of writer {worker}. This is round {n}.",
                                                             encoding="utf-8")
                code = main(["index", str(folder), "--index-dir", str(index), "--quiet"])
                assert code == 0, f"qa index exited with {code}"
            else:
                assert bot is not None
                path = Path(uploads) / f"w{worker}-r{n:02d}.txt"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(f"Writer {worker} wrote this file in round {n}. It has a second sentence.",
                                encoding="utf-8")
                report = bot.add_files([path])
                assert report.added == [path.name], report
            barrier.wait(HANG_GUARD)
    except BaseException:
        errors.put(f"writer {worker} ({kind}): {traceback.format_exc()}")
        barrier.abort()


RACES = {
    # name: (kind of writer 0, folder of writer 0, kind of writer 1, folder of writer 1)
    "two-qa-index-runs-over-different-folders": ("index", "a", "index", "b"),
    "two-uploaders-into-one-folder": ("upload", "a", "upload", "a"),
    "qa-index-beside-an-uploader": ("index", "a", "upload", "a"),
}


@pytest.mark.parametrize("race", list(RACES), ids=list(RACES))
def test_racing_writers_never_break_the_index(tmp_path, race) -> None:
    kind0, folder0, kind1, folder1 = RACES[race]
    folders = {"a": write_folder(tmp_path / "seeds-a", FOLDER_A), "b": write_folder(tmp_path / "seeds-b", FOLDER_B)}
    index_dir = tmp_path / "index"
    update_index(folders["a"], index_dir, SlowEncoder(), settings_for(folders["a"], index_dir), show_progress_bar=False)

    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(3)
    active, peak = ctx.Value("i", 0), ctx.Value("i", 0)
    errors = ctx.Queue()
    workers = [
        ctx.Process(target=_writer, args=(kind, i, str(index_dir), str(folders[folder]), str(tmp_path / f"upload-{i}"),
                                          ROUNDS, barrier, active, peak, errors), daemon=True)
        for i, (kind, folder) in enumerate([(kind0, folder0), (kind1, folder1)])
    ]
    for w in workers:
        w.start()

    # A reader in this process loads the index over and over while the writers work.
    reader_failures: list[str] = []
    loads = 0
    stop = threading.Event()

    def read_while_writing() -> None:
        nonlocal loads
        while not stop.is_set():
            try:
                data = store.load(index_dir)
                assert set(data.documents) == set(data.manifest.sources)
                loads += 1
            except Exception as exc:  # noqa: BLE001 - every failure is reported
                reader_failures.append(f"{type(exc).__name__}: {exc}")
            time.sleep(0.01)

    reader = threading.Thread(target=read_while_writing, daemon=True)
    reader.start()
    broken: list[str] = []
    uploaded: set[str] = set()
    completed = False
    try:
        for n in range(ROUNDS):
            barrier.wait(HANG_GUARD)  # both writers start
            barrier.wait(HANG_GUARD)  # both writers are done
            try:
                sources = check_complete(index_dir)
            except (AssertionError, QAError) as exc:
                broken.append(f"round {n}: {exc}")
                continue
            if race == "two-qa-index-runs-over-different-folders":
                assert sources in (folder_sources(folders["a"]), folder_sources(folders["b"])), \
                    f"round {n}: not one folder's documents: {sorted(sources)}"
            else:
                # Both writers share folder a: whoever went last built on the other's update.
                uploaded |= {f"w{i}-r{n:02d}.txt" for i, kind in enumerate((kind0, kind1)) if kind == "upload"}
                assert uploaded <= sources, f"round {n}: an update was lost: {sorted(uploaded - sources)}"
                assert sources == folder_sources(folders["a"]), f"round {n}: index and folder differ"
        completed = True
    except threading.BrokenBarrierError:
        pass
    finally:
        if not completed:  # release the writers waiting for this process
            barrier.abort()
        stop.set()
        reader.join(HANG_GUARD)
        for w in workers:
            w.join(HANG_GUARD)
            if w.is_alive():
                w.kill()
    failures = []
    while not errors.empty():
        failures.append(errors.get())
    assert not failures, "\n".join(failures)
    assert all(w.exitcode == 0 for w in workers), [w.exitcode for w in workers]
    assert broken == [], f"{len(broken)} broken index(es) in {ROUNDS} rounds:\n" + "\n".join(broken)
    assert peak.value == 1, "two writers were inside qa.index.save at the same time"
    assert reader_failures == [], f"loading failed {len(reader_failures)} of {loads + len(reader_failures)} times: {reader_failures[:3]}"


def test_load_reads_the_new_version_when_a_writer_switches_under_it(tmp_path, monkeypatch) -> None:
    """The manifest names generation 1, a writer switches to generation 2 and deletes 1's files
    before they are read: the reader reads generation 2 instead of calling the index damaged."""
    folder, index_dir = write_folder(tmp_path / "seeds", FOLDER_A), tmp_path / "index"
    encoder = FakeEncoder()
    update_index(folder, index_dir, encoder, settings_for(folder, index_dir), show_progress_bar=False)
    original = store._load_generation
    switched: list[bool] = []

    def load_generation(index: Path, manifest: store.Manifest) -> store.IndexData:
        if not switched:  # a writer finishes between reading the manifest and reading the files
            switched.append(True)
            write_folder(folder, {"gamma.txt": FOLDER_B["gamma.txt"]})
            update_index(folder, index_dir, encoder, settings_for(folder, index_dir), show_progress_bar=False)
        return original(index, manifest)

    monkeypatch.setattr(store, "_load_generation", load_generation)
    data = store.load(index_dir)
    assert set(data.documents) == {*FOLDER_A, "gamma.txt"}


def test_lock_file_survives_saves_and_is_not_an_index_file(tmp_path) -> None:
    folder, index_dir = write_folder(tmp_path / "seeds", FOLDER_A), tmp_path / "index"
    encoder = FakeEncoder()
    update_index(folder, index_dir, encoder, settings_for(folder, index_dir), show_progress_bar=False)
    assert (index_dir / store.LOCK).is_file()
    (index_dir / "chunks-deadbeef.jsonl").write_text("{}\n", encoding="utf-8")  # an interrupted generation
    write_folder(folder, {"gamma.txt": FOLDER_B["gamma.txt"]})
    update_index(folder, index_dir, encoder, settings_for(folder, index_dir), show_progress_bar=False)
    assert (index_dir / store.LOCK).is_file(), "the orphan clean-up deleted the lock file"
    assert not (index_dir / "chunks-deadbeef.jsonl").exists()
    assert check_complete(index_dir) == {*FOLDER_A, "gamma.txt"}


def test_the_lock_is_reentrant_within_a_thread_and_exclusive_across_threads(tmp_path) -> None:
    index_dir = tmp_path / "index"
    with store.writer_lock(index_dir):
        with store.writer_lock(index_dir, timeout=0):  # an update inside a locked section
            pass
        outcome: list[BaseException | None] = []

        def other_thread() -> None:
            try:
                with store.writer_lock(index_dir, timeout=0.05):
                    outcome.append(None)
            except BaseException as exc:  # noqa: BLE001
                outcome.append(exc)

        t = threading.Thread(target=other_thread)
        t.start()
        t.join(HANG_GUARD)
        assert len(outcome) == 1 and isinstance(outcome[0], IndexBusyError), outcome
    with store.writer_lock(index_dir, timeout=0):  # released: free again
        pass


# --------------------------------------------------------------------------- a busy folder

_HOLD = """
import sys
from qa.index import writer_lock
with writer_lock(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.read()
"""


@pytest.fixture
def another_writer():  # type: ignore[no-untyped-def]
    """Calling it with an index folder starts a process that holds that folder's writer lock
    (until the test ends)."""
    procs: list[subprocess.Popen] = []

    def hold(index_dir: Path) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-c", _HOLD, str(index_dir)], cwd=REPO_ROOT, env=clean_env(),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        procs.append(proc)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        return proc

    yield hold
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(HANG_GUARD)


@pytest.fixture
def built(tmp_path):  # type: ignore[no-untyped-def]
    """(seeds, index dir, assistant): folder a indexed with the fake encoder."""
    folder, index_dir = write_folder(tmp_path / "seeds", FOLDER_A), tmp_path / "index"
    encoder = FakeEncoder()
    settings = settings_for(folder, index_dir)
    data, _ = update_index(folder, index_dir, encoder, settings, show_progress_bar=False)
    return folder, index_dir, Assistant(data, encoder, settings, index_dir, folder, lock_timeout=0.2)


def _snapshot(folder: Path, index_dir: Path) -> dict[str, bytes]:
    files = {f"seeds/{p.name}": p.read_bytes() for p in folder.iterdir()}
    files.update({f"index/{p.name}": p.read_bytes() for p in index_dir.iterdir() if p.is_file()})
    return files


SECOND_WRITERS = ["qa-index-api", "update-index", "add-files", "add-files-replacing", "remove-document"]


@pytest.mark.parametrize("writer", SECOND_WRITERS, ids=SECOND_WRITERS)
def test_second_writer_waits_then_fails_clearly_changing_nothing(built, tmp_path, another_writer, caplog,
                                                                 monkeypatch, writer) -> None:
    folder, index_dir, bot = built
    import qa.assistant

    monkeypatch.setattr(qa.assistant, "load_encoder", lambda *args, **kwargs: bot.encoder)
    write_folder(folder, {"gamma.txt": FOLDER_B["gamma.txt"]})  # something to index
    upload = write_folder(tmp_path / "upload", {"delta.txt": DELTA_UPLOAD, "alpha.txt": "A new alpha."})
    before = _snapshot(folder, index_dir)
    another_writer(index_dir)
    calls = {
        "qa-index-api": lambda: Assistant.from_seeds(folder, index_dir, settings=bot.settings, show_progress_bar=False,
                                                     lock_timeout=0.2),
        "update-index": lambda: update_index(folder, index_dir, bot.encoder, bot.settings, show_progress_bar=False,
                                             lock_timeout=0.2),
        "add-files": lambda: bot.add_files([upload / "delta.txt"]),
        "add-files-replacing": lambda: bot.add_files([upload / "alpha.txt"], replace=True),
        "remove-document": lambda: bot.remove_document("alpha.txt"),
    }
    with caplog.at_level(logging.WARNING, logger="qa.index"):
        with pytest.raises(IndexBusyError) as info:
            calls[writer]()
    message = str(info.value)
    assert "another process" in message and str(index_dir) in message and "try again" in message, message
    waiting = [r.getMessage() for r in caplog.records if "waiting up to" in r.getMessage()]
    assert waiting == [f"another process is writing the index in {index_dir}; waiting up to 0.2 s"], waiting
    assert _snapshot(folder, index_dir) == before, "a writer that never got the lock changed files"
    assert sorted(d.source for d in bot.documents()) == sorted(FOLDER_A)


def test_writer_goes_ahead_once_the_other_has_finished(built, tmp_path, another_writer) -> None:
    folder, index_dir, bot = built
    holder = another_writer(index_dir)
    with pytest.raises(IndexBusyError):
        bot.add_files([write_folder(tmp_path / "upload", {"delta.txt": DELTA_UPLOAD}) / "delta.txt"])
    assert holder.stdin is not None
    holder.stdin.close()
    holder.wait(HANG_GUARD)
    report = bot.add_files([tmp_path / "upload" / "delta.txt"])
    assert report.added == ["delta.txt"]
    assert check_complete(index_dir) == {*FOLDER_A, "delta.txt"}


_CLI = """
import sys
sys.path.insert(0, sys.argv[1])
from conftest import FakeEncoder
import qa.assistant, qa.index
from qa.cli import main
qa.index.WRITE_LOCK_TIMEOUT = 0.2
qa.assistant.load_encoder = lambda *args, **kwargs: FakeEncoder()
sys.exit(main(sys.argv[2:]))
"""


def test_cli_index_while_another_process_writes_gives_one_error_line(built, another_writer) -> None:
    folder, index_dir, _ = built
    another_writer(index_dir)
    proc = subprocess.run([sys.executable, "-c", _CLI, str(REPO_ROOT / "tests"), "index", str(folder),
                           "--index-dir", str(index_dir), "--quiet"],
                          cwd=REPO_ROOT, env=clean_env(), capture_output=True, text=True, timeout=HANG_GUARD)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert lines[-1].startswith("qa: error: another process is still writing the index in"), proc.stderr
    assert sum("waiting up to 0.2 s" in line for line in lines) == 1, proc.stderr
    assert len(lines) == 2 and proc.stdout == "", (proc.stdout, proc.stderr)


def test_index_busy_error_is_exported() -> None:
    assert qa.IndexBusyError is IndexBusyError and "IndexBusyError" in qa.__all__
    assert issubclass(IndexBusyError, QAError)


# --------------------------------------------------------------------------- questions never wait


class BlockingBot:
    """An assistant whose updates block until released; questions answer at once."""

    def __init__(self) -> None:
        self.updating = threading.Event()
        self.release = threading.Event()
        self.writers = 0
        self.most_writers = 0

    def ask(self, question: str, top_k: int | None = None, history: list[str] | None = None) -> Answer:
        return Answer(question=question, text="From the loaded version.", answered=True)

    def documents(self) -> list[DocumentInfo]:
        return [DocumentInfo(source="alpha.txt", size=1, chunks=1, sentences=1, sha256="0", indexed_at="")]

    def document_text(self, source: str) -> str:
        return "Alpha."

    def _update(self) -> UpdateReport:
        self.writers += 1
        self.most_writers = max(self.most_writers, self.writers)
        self.updating.set()
        try:
            assert self.release.wait(HANG_GUARD), "never released"
        finally:
            self.writers -= 1
        return UpdateReport()

    def add_files(self, paths: list[str | Path], progress: Any = None, **kwargs: Any) -> UpdateReport:
        return self._update()

    def remove_document(self, source: str, **kwargs: Any) -> UpdateReport:
        return self._update()


def _in_thread(fn: Any) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(fn())
        except BaseException as exc:  # noqa: BLE001
            out.append(exc)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, out


# What the chat's controller does for a tab, while another tab's upload or removal runs.
READS = {
    "ask": lambda c: c.api_ask("Where?")["text"],
    "documents": lambda c: [d["source"] for d in c.api_documents()],
    "document_text": lambda c: c.view_document("alpha.txt"),
}
WRITES = {
    "add_files": lambda c: c.index_files(["x.txt"]),
    "remove_document": lambda c: c.remove_document("alpha.txt"),
}


@pytest.mark.parametrize("write", list(WRITES), ids=[f"during-{w}" for w in WRITES])
@pytest.mark.parametrize("read", list(READS), ids=list(READS))
def test_ui_answers_while_an_update_runs(read, write) -> None:
    pytest.importorskip("gradio")
    from qa.ui import Controller

    bot = BlockingBot()
    controller = Controller(bot)
    writer, written = _in_thread(lambda: WRITES[write](controller))
    assert bot.updating.wait(HANG_GUARD)
    reader, result = _in_thread(lambda: READS[read](controller))
    reader.join(HANG_GUARD)
    finished_first = not reader.is_alive() and writer.is_alive() and not bot.release.is_set()
    bot.release.set()
    writer.join(HANG_GUARD)
    assert finished_first, f"{read} waited for {write} to finish"
    assert result and not isinstance(result[0], BaseException), result
    assert written and "Could not" not in written[0].status and "Not indexed" not in written[0].status, written


def test_ui_runs_one_update_at_a_time() -> None:
    pytest.importorskip("gradio")
    from qa.ui import Controller
    from qa.ui.controller import BUSY_INDEXING

    bot = BlockingBot()
    controller = Controller(bot)
    first, _ = _in_thread(lambda: controller.index_files(["a.txt"]))
    assert bot.updating.wait(HANG_GUARD)
    second, refused = _in_thread(lambda: controller.remove_document("alpha.txt"))
    second.join(HANG_GUARD)  # refused at once, while the first still runs
    assert refused and refused[0].status == BUSY_INDEXING and not bot.release.is_set()
    bot.release.set()
    first.join(HANG_GUARD)
    assert bot.most_writers == 1


class GatedEncoder(FakeEncoder):
    """Blocks inside `encode` (the embedding of an update) while `gate` is closed."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = threading.Event()
        self.gate = threading.Event()
        self.gate.set()

    def encode(self, texts, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        if not self.gate.is_set():
            self.embedding.set()
            assert self.gate.wait(HANG_GUARD), "never released"
        return super().encode(texts, *args, **kwargs)


def test_real_assistant_answers_from_the_loaded_version_while_add_files_runs(tmp_path) -> None:
    pytest.importorskip("gradio")
    from qa.ui import Controller

    folder, index_dir = write_folder(tmp_path / "seeds", FOLDER_A), tmp_path / "index"
    encoder = GatedEncoder()
    settings = settings_for(folder, index_dir)
    data, _ = update_index(folder, index_dir, encoder, settings, show_progress_bar=False)
    controller = Controller(Assistant(data, encoder, settings, index_dir, folder))
    controller.api_ask("When did Alpha station close?")  # the reader is loaded once
    upload = write_folder(tmp_path / "upload", {"delta.txt": DELTA_UPLOAD}) / "delta.txt"

    encoder.gate.clear()
    writer, written = _in_thread(lambda: controller.index_files([str(upload)]))
    assert encoder.embedding.wait(HANG_GUARD)
    reader, result = _in_thread(lambda: (controller.api_ask("When did Alpha station close?"),
                                         [d["source"] for d in controller.api_documents()]))
    reader.join(HANG_GUARD)
    finished_first = not reader.is_alive() and writer.is_alive()
    encoder.gate.set()
    writer.join(HANG_GUARD)
    assert finished_first, "the question waited for add_files"
    assert result and not isinstance(result[0], BaseException), result
    answer, sources = result[0]
    assert sources == sorted(FOLDER_A), "the question did not see the version loaded before the update"
    assert answer["question"] == "When did Alpha station close?"
    assert written and written[0].status == "**Indexed:** delta.txt", written
    assert "delta.txt" in [d["source"] for d in controller.api_documents()]
