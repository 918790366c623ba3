"""qa.milvus: the vectors in Milvus Lite instead of FAISS files give the same answers and citations.

Real Milvus Lite (an embedded database folder in tmp), the real MiniLM encoder and reader. Each
comparison builds (or converts) a FAISS index and a Milvus one from the same documents and asks
both the same questions: answers, citations and offsets must be identical (both search exactly).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import qa.index as store
from qa import Assistant
from qa.errors import IndexCorruptError, MilvusUnavailableError
from qa.indexer import update_index
from qa.settings import Settings

from conftest import FakeEncoder, clean_env, free_port, qa_command

pytest.importorskip("pymilvus")

ROOT = Path(__file__).resolve().parents[1]
SQUAD = ROOT.parent / "shared" / "data" / "squad-v1.1-dev13" / "dev-v1.1-13-articles.json"
MILVUS = Settings(store="milvus")


def _questions(path: Path) -> list[str]:
    return [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _same_answers(a: Assistant, b: Assistant, questions: list[str]) -> None:
    for q in questions:
        assert a.ask(q).to_dict() == b.ask(q).to_dict(), q


def _collections(index_dir: Path) -> list[str]:
    from qa import milvus

    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    client = milvus.client_for(manifest["vector_store"], index_dir)
    return sorted(n for n in client.list_collections() if n.startswith(manifest["vector_store"]["prefix"] + "_"))


@pytest.fixture(scope="module")
def article_pair(tmp_path_factory: pytest.TempPathFactory, article_seeds: Path) -> dict[str, object]:
    """The article indexed twice, from scratch: FAISS files and Milvus Lite (index/milvus.db)."""
    root = tmp_path_factory.mktemp("milvus-article")
    seeds = root / "seeds"
    shutil.copytree(article_seeds, seeds)
    faiss_bot = Assistant.from_seeds(seeds, root / "faiss", show_progress_bar=False)
    milvus_bot = Assistant.from_seeds(seeds, root / "milvus", settings=MILVUS, show_progress_bar=False)
    return {"root": root, "seeds": seeds, "faiss": faiss_bot, "milvus": milvus_bot}


def test_the_index_folder_names_milvus_collections_instead_of_faiss_files(article_pair: dict) -> None:
    index_dir = article_pair["root"] / "milvus"
    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["vector_store"]["kind"] == "milvus" and manifest["vector_store"]["uri"] == ""
    assert manifest["files"]["chunk_vectors"].startswith("milvus:")
    assert manifest["vector_indexes"]["sentence_vectors"]["kind"] == "milvus"
    assert not list(index_dir.glob("*.faiss")) and (index_dir / "milvus.db").is_dir()
    assert len(_collections(index_dir)) == 2  # chunks and sentences of the one generation


def test_article_answers_and_citations_match_faiss(article_pair: dict, dev_set_path: Path) -> None:
    _same_answers(article_pair["faiss"], article_pair["milvus"], _questions(dev_set_path))


def test_a_loaded_milvus_index_answers_the_same(article_pair: dict, dev_set_path: Path) -> None:
    loaded = Assistant.from_index(article_pair["root"] / "milvus")
    _same_answers(article_pair["faiss"], loaded, _questions(dev_set_path)[:10])


def test_updating_one_file_embeds_only_it_and_drops_the_old_collections(article_pair: dict,
                                                                         dev_set_path: Path) -> None:
    root, seeds = article_pair["root"], article_pair["seeds"]
    (seeds / "zorblax.txt").write_text("The Zorblax festival is held every March in Quellton. "
                                       "It was founded in 1987 by the potter Ina Varga.", encoding="utf-8")
    try:
        before = _collections(root / "milvus")
        faiss_bot = Assistant.from_seeds(seeds, root / "faiss", show_progress_bar=False)
        milvus_bot = Assistant.from_seeds(seeds, root / "milvus", settings=MILVUS, show_progress_bar=False)
        report = milvus_bot.last_update
        assert report is not None and report.added == ["zorblax.txt"] and report.changed == []
        assert report.chunks_embedded == 1  # the new file's one chunk; the article is not embedded again
        after = _collections(root / "milvus")
        assert len(after) == 2 and not set(after) & set(before)
        answer = milvus_bot.ask("Who founded the Zorblax festival?")
        assert answer.answered and answer.citations[0].source == "zorblax.txt"
        assert "Ina Varga" in answer.citations[0].quote
        _same_answers(faiss_bot, milvus_bot, ["Who founded the Zorblax festival?", *_questions(dev_set_path)[:8]])
    finally:
        (seeds / "zorblax.txt").unlink()


def test_switching_stores_moves_the_vectors_without_embedding_again(tmp_path: Path, article_seeds: Path,
                                                                    dev_set_path: Path) -> None:
    faiss_bot = Assistant.from_seeds(article_seeds, tmp_path / "index", show_progress_bar=False)
    moved = Assistant.from_seeds(article_seeds, tmp_path / "index", settings=MILVUS, show_progress_bar=False)
    assert moved.last_update is not None and moved.last_update.chunks_embedded == 0
    assert not list((tmp_path / "index").glob("*.faiss")) and len(_collections(tmp_path / "index")) == 2
    _same_answers(faiss_bot, Assistant.from_index(tmp_path / "index"), _questions(dev_set_path)[:6])
    # And back: FAISS files again, the collections dropped.
    client_names = _collections(tmp_path / "index")
    back = Assistant.from_seeds(article_seeds, tmp_path / "index", show_progress_bar=False)
    assert back.last_update is not None and back.last_update.chunks_embedded == 0
    assert len(list((tmp_path / "index").glob("*.faiss"))) == 2
    from qa import milvus

    client = milvus.client_for({}, tmp_path / "index")
    assert not set(client_names) & set(client.list_collections())
    _same_answers(faiss_bot, Assistant.from_index(tmp_path / "index"), _questions(dev_set_path)[:6])


def test_a_missing_collection_is_a_clear_error(tmp_path: Path, article_seeds: Path) -> None:
    Assistant.from_seeds(article_seeds, tmp_path / "index", settings=MILVUS, show_progress_bar=False)
    from qa import milvus

    client = milvus.client_for({}, tmp_path / "index")
    client.drop_collection(_collections(tmp_path / "index")[0])
    with pytest.raises(IndexCorruptError, match="Milvus collection .* is missing"):
        Assistant.from_index(tmp_path / "index")


def test_past_the_threshold_a_collection_has_milvus_own_approximate_index(tmp_path: Path) -> None:
    import numpy as np

    from qa import milvus

    x = np.random.default_rng(3).standard_normal((400, 16)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    client = milvus.connect(str(tmp_path / "m.db"))
    small = milvus.write(client, "t_small", x[:99], threshold=100)
    assert not small.approximate and small.params()["index"] == "FLAT"
    big = milvus.write(client, "t_big", x, threshold=100)
    assert big.approximate and big.params() == {"kind": "milvus", "index": "HNSW", "metric": "IP", "rows": 400}
    assert all(int(big.search(v, 60)[1][0]) == row for row, v in enumerate(x[:50]))  # k above HNSW_EF's floor too
    read = milvus.read(client, "t_big", 16, 400)  # Milvus says which index it holds
    assert read.params() == big.params() and milvus.read(client, "t_small", 16, 99).params()["index"] == "FLAT"
    np.testing.assert_allclose(read.vectors(), x, atol=1e-6)


def test_an_index_past_the_threshold_records_the_milvus_index_type(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  article_seeds: Path) -> None:
    monkeypatch.setattr(store, "APPROX_THRESHOLD", 30)  # the article: 32 sentences, 26 chunks
    data, _ = update_index(article_seeds, tmp_path / "index", FakeEncoder(), MILVUS, show_progress_bar=False)
    kinds = _manifest(tmp_path / "index")["vector_indexes"]
    assert len(data.sentence_vectors) >= 30 > len(data.chunk_vectors)
    assert kinds["sentence_vectors"]["index"] == "HNSW" and kinds["chunk_vectors"]["index"] == "FLAT"
    loaded = store.load(tmp_path / "index")
    assert loaded.sentence_vectors.approximate and not loaded.chunk_vectors.approximate


def test_without_pymilvus_the_error_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from qa import milvus

    monkeypatch.setitem(__import__("sys").modules, "pymilvus", None)
    with pytest.raises(MilvusUnavailableError, match=r"pip install pymilvus milvus-lite"):
        milvus.connect(str(tmp_path / "never-opened.db"))


@pytest.mark.parametrize("env, store, uri", [
    pytest.param({}, "faiss", "", id="default-faiss"),
    pytest.param({"QA_STORE": "milvus"}, "milvus", "", id="env-milvus-lite"),
    pytest.param({"QA_STORE": "milvus", "QA_MILVUS_URI": "http://db:19530"}, "milvus", "http://db:19530",
                 id="env-milvus-server"),
])
def test_store_settings_come_from_the_environment(env: dict[str, str], store: str, uri: str) -> None:
    settings = Settings.from_env(env)
    assert (settings.store, settings.milvus_uri) == (store, uri)


def test_an_unknown_store_is_refused() -> None:
    with pytest.raises(ValueError, match="store must be one of faiss, milvus"):
        Settings.from_env({"QA_STORE": "pinecone"})


def test_uris_resolve_against_the_index_folder(tmp_path: Path) -> None:
    from qa.milvus import resolve_uri

    assert resolve_uri("", tmp_path) == str(tmp_path.resolve() / "milvus.db")
    assert resolve_uri("vectors/lite.db", tmp_path) == str(tmp_path.resolve() / "vectors" / "lite.db")
    assert resolve_uri("http://db:19530", tmp_path) == "http://db:19530"


def test_the_13_article_corpus_answers_the_same_from_milvus(tmp_path: Path) -> None:
    if not SQUAD.is_file():
        pytest.skip("../shared/data is not beside this checkout")
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    questions: list[str] = []
    for article in json.loads(SQUAD.read_text(encoding="utf-8"))["data"]:
        name = "".join(c if c.isalnum() else "_" for c in article["title"]) + ".txt"
        (seeds / name).write_text("\n\n".join(p["context"] for p in article["paragraphs"]), encoding="utf-8")
        questions += [p["qas"][0]["question"] for p in article["paragraphs"][:3]]  # 3 per article
    faiss_bot = Assistant.from_seeds(seeds, tmp_path / "faiss", show_progress_bar=False)
    shutil.copytree(tmp_path / "faiss", tmp_path / "milvus")
    milvus_bot = Assistant.from_seeds(seeds, tmp_path / "milvus", settings=MILVUS, show_progress_bar=False)
    assert milvus_bot.last_update is not None and milvus_bot.last_update.chunks_embedded == 0
    assert len(questions) == 39
    _same_answers(faiss_bot, Assistant.from_index(tmp_path / "milvus"), questions)


def test_an_unreachable_milvus_server_is_one_clear_error_before_anything_is_embedded(tmp_path: Path,
                                                                                     article_seeds: Path) -> None:
    settings = Settings(store="milvus", milvus_uri=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(MilvusUnavailableError, match="cannot open the Milvus store at http://127.0.0.1"):
        Assistant.from_seeds(article_seeds, tmp_path / "index", settings=settings, show_progress_bar=False)
    assert not (tmp_path / "index" / "manifest.json").exists() and not (tmp_path / "index" / ".partial").exists()


def test_cli_builds_into_milvus_lite_and_answers_without_noise(tmp_path: Path, article_seeds: Path) -> None:
    index_dir = tmp_path / "index"
    built = subprocess.run([*qa_command(), "index", str(article_seeds), "--store", "milvus", "--index-dir",
                            str(index_dir), "-q"], capture_output=True, text=True, timeout=300, env=clean_env())
    assert built.returncode == 0, built.stderr
    assert "Traceback" not in built.stderr and "embedded 5 chunks" in built.stdout + built.stderr
    asked = subprocess.run([*qa_command(), "ask", "How long is the border between Iran and Afghanistan?",
                            "--index-dir", str(index_dir)], capture_output=True, text=True, timeout=300,
                           env=clean_env())
    assert asked.returncode == 0 and "570-mile" in asked.stdout and "[1]" in asked.stdout, asked.stderr
    assert "Traceback" not in asked.stderr



# -- integrity (reliability issue 25, item 5) ---------------------------------------------------


def _manifest(index_dir: Path) -> dict:
    return json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))


def _store_client(index_dir: Path):  # type: ignore[no-untyped-def]
    from qa import milvus

    return milvus.client_for(_manifest(index_dir)["vector_store"], index_dir)


@pytest.mark.reliability
def test_vectors_permuted_in_place_are_detected_and_the_next_build_rebuilds(article_pair: dict, tmp_path: Path,
                                                                            dev_set_path: Path) -> None:
    index_dir = tmp_path / "index"
    Assistant.from_seeds(article_pair["seeds"], index_dir, settings=MILVUS, show_progress_bar=False)
    name = _manifest(index_dir)["files"]["sentence_vectors"].removeprefix("milvus:")
    client = _store_client(index_dir)
    rows = int(client.get_collection_stats(name)["row_count"])
    got = {r["id"]: r["vector"] for r in client.get(name, ids=list(range(rows)), output_fields=["vector"])}
    # Every row gets the next row's vector: same ids, same row count, other answers.
    client.upsert(name, [{"id": i, "vector": got[(i + 1) % rows]} for i in range(rows)])
    client.flush(name)
    assert int(client.get_collection_stats(name)["row_count"]) == rows
    with pytest.raises(IndexCorruptError, match=f"vectors in the Milvus collection {name} are damaged"):
        Assistant.from_index(index_dir)
    rebuilt = Assistant.from_seeds(article_pair["seeds"], index_dir, settings=MILVUS, show_progress_bar=False)
    assert rebuilt.last_update is not None and rebuilt.last_update.rebuilt
    assert name not in _collections(index_dir) and len(_collections(index_dir)) == 2
    _same_answers(article_pair["faiss"], Assistant.from_index(index_dir), _questions(dev_set_path)[:5])


@pytest.mark.reliability
def test_collections_written_before_hashes_load_unverified_and_the_next_update_adds_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from qa import milvus

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "a.txt").write_text("Alpha station opened in 1901. It closed in 1999.", encoding="utf-8")
    with monkeypatch.context() as patch:  # as an older version wrote them: no hash property
        patch.setattr(milvus, "HASH_PROPERTY", "qa.unused")
        update_index(seeds, tmp_path / "index", FakeEncoder(), MILVUS, show_progress_bar=False)
    before = _collections(tmp_path / "index")
    assert all(milvus.HASH_PROPERTY not in _store_client(tmp_path / "index").describe_collection(n)["properties"]
               for n in before)
    assert sorted(store.load(tmp_path / "index").documents) == ["a.txt"]
    _, report = update_index(seeds, tmp_path / "index", FakeEncoder(), MILVUS, show_progress_bar=False)
    assert report.unchanged == ["a.txt"] and report.chunks_embedded == 0  # rewritten, nothing embedded
    after = _collections(tmp_path / "index")
    assert len(after) == 2 and not set(after) & set(before)
    client = _store_client(tmp_path / "index")
    assert all(client.describe_collection(n)["properties"].get(milvus.HASH_PROPERTY) for n in after)


@pytest.mark.reliability
def test_a_damaged_milvus_lite_file_is_a_clear_error_and_qa_index_rebuilds_it(tmp_path: Path,
                                                                              article_seeds: Path) -> None:
    index_dir = tmp_path / "index"

    def qa(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*qa_command(), *args, "--index-dir", str(index_dir)], capture_output=True, text=True,
                              timeout=300, env=clean_env())

    built = qa("index", str(article_seeds), "--store", "milvus", "-q")
    assert built.returncode == 0, built.stderr
    # Someone else's collection in the same Milvus Lite store: never ours to drop.
    foreign = subprocess.run([sys.executable, "-c", (
        "import sys; from pymilvus import MilvusClient; c = MilvusClient(sys.argv[1]); "
        "c.create_collection('notes_kept', dimension=4)"), str(index_dir / "milvus.db")],
        capture_output=True, text=True, timeout=120, env=clean_env())
    assert foreign.returncode == 0, foreign.stderr
    name = _manifest(index_dir)["files"]["chunk_vectors"].removeprefix("milvus:")
    files = [p for p in (index_dir / "milvus.db").rglob("*") if p.is_file() and name in p.parts]
    largest = max(files, key=lambda p: p.stat().st_size)  # its rows or their index file
    os.truncate(largest, largest.stat().st_size // 2)

    asked = qa("ask", "How long is the border between Iran and Afghanistan?")
    assert asked.returncode != 0 and f"Milvus collection {name} cannot be read" in asked.stderr, asked.stderr
    assert "unexpected" not in asked.stderr and "Traceback" not in asked.stderr
    rebuilt = qa("index", str(article_seeds), "--store", "milvus", "-q")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "Traceback" not in rebuilt.stderr and "embedded 5 chunks" in rebuilt.stdout + rebuilt.stderr
    asked = qa("ask", "How long is the border between Iran and Afghanistan?")
    assert asked.returncode == 0 and "570-mile" in asked.stdout, asked.stderr
    names = _store_client(index_dir).list_collections()  # would fail if the damaged one were still there
    assert "notes_kept" in names and name not in names and len(_collections(index_dir)) == 2


# A `qa.index.save` into Milvus Lite, SIGKILLed after its k-th write (argv: seeds, index folder, k;
# k = 0: never). Milvus Lite writes each index file in two halves 0.3 s apart (a slow disk), and
# a kill waits up to 0.2 s for such a write to be under way, so it lands in the middle of one
# if Milvus Lite is still writing when the step is done. Prints the steps when not killed.
KILL_SCRIPT = r"""
import io, json, os, signal, sys, threading, time
sys.path.insert(0, sys.argv[4])
from pathlib import Path
import numpy as np
from conftest import FakeEncoder
from milvus_lite.index.brute_force import BruteForceIndex
from pymilvus import MilvusClient
import qa.index
from qa.indexer import update_index
from qa.settings import Settings

kill_at, steps, saving, writing = int(sys.argv[3]), [], [], threading.Event()

def slow_save(self, path):
    buf = io.BytesIO()
    np.save(buf, self._vectors, allow_pickle=False)
    data = buf.getvalue()
    with open(path, "wb") as fh:
        fh.write(data[: len(data) // 2])
        fh.flush()
        writing.set()
        time.sleep(0.3)
        fh.write(data[len(data) // 2:])
    writing.clear()

BruteForceIndex.save = slow_save

def after(owner, name, label):
    fn = getattr(owner, name)
    def wrapped(*args, **kwargs):
        result = fn(*args, **kwargs)
        if saving:
            steps.append(label)
            if len(steps) == kill_at:
                writing.wait(0.2)
                os.kill(os.getpid(), signal.SIGKILL)
        return result
    setattr(owner, name, wrapped)

for method in ("create_collection", "insert", "flush", "create_index", "load_collection", "drop_collection"):
    after(MilvusClient, method, method)
after(qa.index, "_write_jsonl", "jsonl")
after(qa.index, "atomic_write_bytes", "manifest")
save = qa.index.save
def marked_save(*args, **kwargs):
    saving.append(True)
    return save(*args, **kwargs)
qa.index.save = marked_save
update_index(Path(sys.argv[1]), Path(sys.argv[2]), FakeEncoder(), Settings(store="milvus"), show_progress_bar=False)
print(json.dumps(steps))
"""


def _save_killed_at(seeds: Path, index_dir: Path, step: int) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", KILL_SCRIPT, str(seeds), str(index_dir), str(step),
                           str(Path(__file__).resolve().parent)], capture_output=True, text=True, timeout=300,
                          env=clean_env())


@pytest.mark.reliability
def test_a_kill_at_every_step_of_a_milvus_save_leaves_the_old_or_the_new_index(tmp_path: Path) -> None:
    old_seeds, new_seeds = tmp_path / "old", tmp_path / "new"
    for folder, texts in ((old_seeds, {"a.txt": "Alpha station opened in 1901. It closed in 1999.",
                                       "b.txt": "Beta is a village in the hills. About 300 people live there."}),
                          (new_seeds, {"a.txt": "Alpha station opened in 1902. It closed in 2001.",
                                       "b.txt": "Beta is a village in the hills. About 300 people live there.",
                                       "c.txt": "Gamma rays are the most energetic light. Satellites see them."})):
        folder.mkdir()
        for name, text in texts.items():
            (folder / name).write_text(text, encoding="utf-8")
    old = {p.name: p.read_text(encoding="utf-8") for p in old_seeds.iterdir()}
    new = {p.name: p.read_text(encoding="utf-8") for p in new_seeds.iterdir()}
    template = tmp_path / "template"
    first = _save_killed_at(old_seeds, template, 0)
    assert first.returncode == 0, first.stderr
    counted = _save_killed_at(new_seeds, tmp_path / "counted", 0)
    shutil.rmtree(tmp_path / "counted")
    assert counted.returncode == 0, counted.stderr
    steps = json.loads(counted.stdout.strip().splitlines()[-1])
    assert steps.count("manifest") == 1 and steps.count("create_collection") == 2, steps
    for k in range(1, len(steps) + 1):
        index_dir = tmp_path / f"killed-{k}"
        shutil.copytree(template, index_dir)
        killed = _save_killed_at(new_seeds, index_dir, k)
        note = f"killed after step {k} ({steps[k - 1]}) of {steps}"
        assert killed.returncode == -signal.SIGKILL, (note, killed.stderr[-2000:])
        left = {s: d.text for s, d in store.load(index_dir).documents.items()}
        assert left == (old if k < steps.index("manifest") + 1 else new), note
        data, _ = update_index(new_seeds, index_dir, FakeEncoder(), MILVUS, show_progress_bar=False)
        assert {s: d.text for s, d in data.documents.items()} == new, note
        assert {s: d.text for s, d in store.load(index_dir).documents.items()} == new, note
        assert len(_collections(index_dir)) == 2, note
