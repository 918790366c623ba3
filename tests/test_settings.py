"""Settings: defaults, QA_* environment overrides, explicit overrides, validation messages,
and the folders `Assistant.from_index` / `from_seeds` use when none are given."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from qa.settings import DEFAULT_MODEL, Settings


def test_defaults() -> None:
    s = Settings.from_env(env={})
    assert s == Settings()
    assert s.model == DEFAULT_MODEL == "all-MiniLM-L6-v2"
    assert s.seeds_dir == Path("seeds")
    assert s.index_dir == Path("index")
    assert (s.chunk_tokens, s.chunk_overlap, s.top_k) == (0, 1, 5)
    assert s.max_answer_sentences == 2
    assert (s.min_confidence, s.reader_candidates, s.reader) == (0.5, 8, "")
    assert s.batch_size == 64
    assert (s.host, s.port) == ("127.0.0.1", 7860)
    assert s.device == "cpu"


def test_from_env_reads_os_environ_by_default(monkeypatch) -> None:
    monkeypatch.setenv("QA_TOP_K", "9")
    monkeypatch.setenv("QA_INDEX_DIR", "/tmp/some-index")
    s = Settings.from_env()
    assert s.top_k == 9
    assert s.index_dir == Path("/tmp/some-index")


@pytest.mark.parametrize(
    "var,raw,name,value",
    [
        pytest.param("QA_MODEL", "my/local-model", "model", "my/local-model", id="model-str"),
        pytest.param("QA_SEEDS_DIR", "docs", "seeds_dir", Path("docs"), id="seeds_dir-path"),
        pytest.param("QA_INDEX_DIR", "/data/idx", "index_dir", Path("/data/idx"), id="index_dir-path"),
        pytest.param("QA_CHUNK_TOKENS", "128", "chunk_tokens", 128, id="chunk_tokens-int"),
        pytest.param("QA_CHUNK_OVERLAP", "0", "chunk_overlap", 0, id="chunk_overlap-zero"),
        pytest.param("QA_TOP_K", " 7 ", "top_k", 7, id="top_k-padded"),
        pytest.param("QA_MAX_ANSWER_SENTENCES", "3", "max_answer_sentences", 3, id="max_answer_sentences"),
        pytest.param("QA_MIN_CONFIDENCE", "0.25", "min_confidence", 0.25, id="min_confidence-float"),
        pytest.param("QA_BATCH_SIZE", "16", "batch_size", 16, id="batch_size"),
        pytest.param("QA_HOST", "0.0.0.0", "host", "0.0.0.0", id="host"),
        pytest.param("QA_PORT", "8080", "port", 8080, id="port"),
        pytest.param("QA_DEVICE", "cuda", "device", "cuda", id="device"),
        pytest.param("QA_AUTH", "ann:pw,bob:x:y", "auth", "ann:pw,bob:x:y", id="auth-str"),
        pytest.param("QA_AUTH_FILE", "/etc/qa/users", "auth_file", "/etc/qa/users", id="auth_file-str"),
        pytest.param("QA_MAX_UPLOAD_MB", "0.5", "max_upload_mb", 0.5, id="max_upload_mb-float"),
        pytest.param("QA_MAX_REQUEST_MB", "2.5", "max_request_mb", 2.5, id="max_request_mb-float"),
        pytest.param("QA_UPLOAD_CACHE_MB", "80", "upload_cache_mb", 80.0, id="upload_cache_mb-float"),
    ],
)
def test_env_overrides(var: str, raw: str, name: str, value: object) -> None:
    s = Settings.from_env(env={var: raw})
    assert getattr(s, name) == value
    assert type(getattr(s, name)) is type(value)
    # Everything else keeps its default.
    for f in fields(Settings):
        if f.name != name:
            assert getattr(s, f.name) == getattr(Settings(), f.name), f.name


def test_every_numeric_setting_reads_its_env_variable() -> None:
    env = {f"QA_{f.name.upper()}": "1" for f in fields(Settings) if f.type in ("int", "float")}
    s = Settings.from_env(env=env)
    assert all(getattr(s, f.name) == 1 for f in fields(Settings) if f.type in ("int", "float"))


@pytest.mark.parametrize("raw", ["", "   "], ids=["empty", "blank"])
def test_empty_env_values_are_ignored(raw: str) -> None:
    assert Settings.from_env(env={"QA_TOP_K": raw, "QA_HOST": raw}) == Settings()


def test_unrelated_env_variables_are_ignored() -> None:
    assert Settings.from_env(env={"TOP_K": "99", "QA_UNKNOWN_THING": "x", "qa_top_k": "3"}) == Settings()


@pytest.mark.parametrize(
    "name,env_raw,explicit",
    [
        pytest.param("top_k", "3", 8, id="top_k-int"),
        pytest.param("port", "9000", 9001, id="port-int"),
        pytest.param("index_dir", "/env/index", Path("/explicit/index"), id="index_dir-path"),
        pytest.param("model", "env-model", "explicit-model", id="model-str"),
        pytest.param("min_confidence", "0.9", 0.1, id="min_confidence-float"),
    ],
)
def test_explicit_overrides_beat_env(name: str, env_raw: str, explicit: object) -> None:
    s = Settings.from_env(env={f"QA_{name.upper()}": env_raw}, **{name: explicit})
    assert getattr(s, name) == explicit


def test_none_overrides_fall_back_to_env() -> None:
    s = Settings.from_env(env={"QA_TOP_K": "3", "QA_PORT": "9000"}, top_k=None, port=None, index_dir=None)
    assert (s.top_k, s.port, s.index_dir) == (3, 9000, Path("index"))


def test_string_overrides_are_coerced() -> None:
    s = Settings.from_env(env={}, top_k="4", port="8001", index_dir="elsewhere", min_confidence="0.7")
    assert (s.top_k, s.port, s.index_dir, s.min_confidence) == (4, 8001, Path("elsewhere"), 0.7)


def test_with_applies_non_none_overrides() -> None:
    base = Settings.from_env(env={})
    s = base.with_(top_k=9, model=None, index_dir=Path("x"))
    assert (s.top_k, s.model, s.index_dir) == (9, DEFAULT_MODEL, Path("x"))
    assert base.top_k == 5, "with_ must not mutate the original"
    with pytest.raises(ValueError, match="top_k"):
        base.with_(top_k=0)


@pytest.mark.parametrize(
    "var,raw,setting",
    [
        pytest.param("QA_TOP_K", "abc", "top_k", id="top_k-not-a-number"),
        pytest.param("QA_TOP_K", "2.5", "top_k", id="top_k-not-whole"),
        pytest.param("QA_TOP_K", "0", "top_k", id="top_k-zero"),
        pytest.param("QA_TOP_K", "101", "top_k", id="top_k-too-big"),
        pytest.param("QA_PORT", "70000", "port", id="port-too-big"),
        pytest.param("QA_PORT", "0", "port", id="port-zero"),
        pytest.param("QA_PORT", "http", "port", id="port-not-a-number"),
        pytest.param("QA_CHUNK_TOKENS", "-5", "chunk_tokens", id="chunk_tokens-negative"),
        pytest.param("QA_CHUNK_OVERLAP", "-1", "chunk_overlap", id="chunk_overlap-negative"),
        pytest.param("QA_MAX_ANSWER_SENTENCES", "0", "max_answer_sentences", id="max_answer_sentences-zero"),
        pytest.param("QA_MAX_ANSWER_SENTENCES", "6", "max_answer_sentences", id="max_answer_sentences-too-many"),
        pytest.param("QA_MIN_CONFIDENCE", "1.5", "min_confidence", id="min_confidence-above-1"),
        pytest.param("QA_MIN_CONFIDENCE", "-0.1", "min_confidence", id="min_confidence-negative"),
        pytest.param("QA_MIN_CONFIDENCE", "nan", "min_confidence", id="min_confidence-nan"),
        pytest.param("QA_MIN_CONFIDENCE", "high", "min_confidence", id="min_confidence-not-a-number"),
        pytest.param("QA_BATCH_SIZE", "0", "batch_size", id="batch_size-zero"),
        pytest.param("QA_MAX_UPLOAD_MB", "0", "max_upload_mb", id="max_upload_mb-zero"),
        pytest.param("QA_MAX_UPLOAD_MB", "51", "max_upload_mb", id="max_upload_mb-above-library-limit"),
        pytest.param("QA_MAX_UPLOAD_MB", "nan", "max_upload_mb", id="max_upload_mb-nan"),
        pytest.param("QA_MAX_UPLOAD_MB", "big", "max_upload_mb", id="max_upload_mb-not-a-number"),
        pytest.param("QA_MAX_REQUEST_MB", "0", "max_request_mb", id="max_request_mb-zero"),
        pytest.param("QA_MAX_REQUEST_MB", "nan", "max_request_mb", id="max_request_mb-nan"),
        pytest.param("QA_UPLOAD_CACHE_MB", "10", "upload_cache_mb", id="upload_cache_mb-below-one-upload"),
        pytest.param("QA_UPLOAD_CACHE_MB", "nan", "upload_cache_mb", id="upload_cache_mb-nan"),
    ],
)
def test_bad_env_values_name_the_setting(var: str, raw: str, setting: str) -> None:
    with pytest.raises(ValueError, match=setting):
        Settings.from_env(env={var: raw})


def test_the_sentence_vectors_setting() -> None:
    from qa.settings import DEFAULT_SENTENCE_VECTORS, SENTENCE_VECTORS

    assert Settings().sentence_vectors == DEFAULT_SENTENCE_VECTORS in SENTENCE_VECTORS == ("late", "separate", "pooled")
    for value in SENTENCE_VECTORS:
        assert Settings.from_env(env={"QA_SENTENCE_VECTORS": value}).sentence_vectors == value
        assert Settings.from_env(env={"QA_SENTENCE_VECTORS": "late"}, sentence_vectors=value).sentence_vectors == value
    with pytest.raises(ValueError, match="sentence_vectors .*QA_SENTENCE_VECTORS"):
        Settings.from_env(env={"QA_SENTENCE_VECTORS": "twice"})


@pytest.mark.parametrize(
    "overrides,setting",
    [
        pytest.param({"top_k": 0}, "top_k", id="top_k"),
        pytest.param({"port": 65536}, "port", id="port"),
        pytest.param({"min_confidence": 2.0}, "min_confidence", id="min_confidence"),
        pytest.param({"top_k": "many"}, "top_k", id="top_k-bad-string"),
    ],
)
def test_bad_explicit_values_name_the_setting(overrides: dict, setting: str) -> None:
    with pytest.raises(ValueError, match=setting):
        Settings.from_env(env={}, **overrides)


def test_upload_limit_defaults_to_the_library_limit() -> None:
    from qa.files import MAX_FILE_BYTES

    assert Settings.from_env(env={}).max_upload_bytes == MAX_FILE_BYTES
    assert Settings.from_env(env={"QA_MAX_UPLOAD_MB": "0.01"}).max_upload_bytes == 10485


def test_request_limit_is_one_mb_by_default() -> None:
    assert Settings.from_env(env={}).max_request_bytes == 1024 * 1024
    assert Settings.from_env(env={"QA_MAX_REQUEST_MB": "0.5"}).max_request_bytes == 512 * 1024


def test_auth_password_is_not_in_the_repr() -> None:
    s = Settings.from_env(env={"QA_AUTH": "ann:s3cret-pw"})
    assert s.auth == "ann:s3cret-pw"
    assert "s3cret-pw" not in repr(s) and "s3cret-pw" not in str(s)


def test_settings_are_immutable() -> None:
    s = Settings()
    with pytest.raises(AttributeError):
        s.top_k = 3  # type: ignore[misc]


# --------------------------------------------------------------------------- folders from the environment
# Assistant.from_index() / from_seeds() without folder arguments read QA_INDEX_DIR / QA_SEEDS_DIR
# (through Settings.from_env); an explicit argument still wins. Real model, a 2-sentence document.

TINY_DOC = "Otters hold hands while they sleep. A group of otters resting on the water is called a raft.\n"


@pytest.fixture
def no_qa_env(monkeypatch, tmp_path: Path) -> Path:
    """No QA_* variable set, and an empty working folder (so ./seeds and ./index do not exist)."""
    import os

    for name in list(os.environ):
        if name.startswith("QA_"):
            monkeypatch.delenv(name)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


@pytest.fixture(scope="module")
def tiny_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(seeds, index) of the tiny document, built once with explicit folders."""
    from qa import Assistant

    root = tmp_path_factory.mktemp("env-folders")
    seeds = root / "docs"
    seeds.mkdir()
    (seeds / "otters.txt").write_text(TINY_DOC, encoding="utf-8")
    Assistant.from_seeds(seeds, root / "built-index", settings=Settings.from_env(env={}), show_progress_bar=False)
    return seeds, root / "built-index"


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda A: A.from_index(), id="no-arguments"),
        pytest.param(lambda A: A.from_index(None), id="index_dir-None"),
        pytest.param(lambda A: A.from_index(model=None), id="only-model-None"),
    ],
)
def test_from_index_without_a_folder_loads_QA_INDEX_DIR(no_qa_env, tiny_index, monkeypatch, call) -> None:
    from qa import Assistant

    monkeypatch.setenv("QA_INDEX_DIR", str(tiny_index[1]))
    bot = call(Assistant)
    assert bot.index_dir == tiny_index[1] == bot.settings.index_dir
    assert [d.source for d in bot.documents()] == ["otters.txt"]
    assert "raft" in bot.ask("What is a group of resting otters called?").text
    assert not (no_qa_env / "index").exists()


@pytest.mark.parametrize(
    "case",
    ["env-only", "explicit-argument-wins", "explicit-settings-win", "settings-from-env-without-folder"],
)
def test_missing_index_error_names_the_folder_that_was_used(no_qa_env, tmp_path: Path, monkeypatch, case: str) -> None:
    from qa import Assistant
    from qa.errors import IndexNotFoundError

    from_env, explicit = tmp_path / "index-from-env", tmp_path / "index-explicit"
    monkeypatch.setenv("QA_INDEX_DIR", str(from_env))
    call = {
        "env-only": lambda: Assistant.from_index(),
        "explicit-argument-wins": lambda: Assistant.from_index(explicit),
        "explicit-settings-win": lambda: Assistant.from_index(settings=Settings.from_env(env={}, index_dir=explicit)),
        "settings-from-env-without-folder": lambda: Assistant.from_index(settings=Settings.from_env()),
    }[case]
    expected = from_env if case in ("env-only", "settings-from-env-without-folder") else explicit
    with pytest.raises(IndexNotFoundError) as info:
        call()
    message = str(info.value)
    assert str(expected) in message
    other = explicit if expected == from_env else from_env
    assert str(other) not in message


@pytest.mark.parametrize("seeds_from", ["env", "explicit-argument"])
def test_from_seeds_without_folders_uses_QA_SEEDS_DIR_and_QA_INDEX_DIR(no_qa_env, tiny_index, tmp_path: Path,
                                                                      monkeypatch, seeds_from: str) -> None:
    from qa import Assistant

    seeds, index_dir = tiny_index[0], tmp_path / "index-from-env"
    monkeypatch.setenv("QA_INDEX_DIR", str(index_dir))
    if seeds_from == "env":
        monkeypatch.setenv("QA_SEEDS_DIR", str(seeds))
        bot = Assistant.from_seeds(show_progress_bar=False)
    else:
        monkeypatch.setenv("QA_SEEDS_DIR", str(tmp_path / "not-these-seeds"))
        bot = Assistant.from_seeds(seeds, show_progress_bar=False)
    assert (bot.seeds_dir, bot.index_dir) == (seeds, index_dir)
    assert (bot.settings.seeds_dir, bot.settings.index_dir) == (seeds, index_dir)
    assert (index_dir / "manifest.json").is_file()
    assert bot.last_update is not None and bot.last_update.added == ["otters.txt"]
    assert not (no_qa_env / "index").exists() and not (no_qa_env / "seeds").exists()


def test_from_seeds_with_a_missing_QA_SEEDS_DIR_names_it(no_qa_env, tmp_path: Path, monkeypatch) -> None:
    from qa import Assistant
    from qa.errors import NoDocumentsError

    missing = tmp_path / "seeds-from-env"
    monkeypatch.setenv("QA_SEEDS_DIR", str(missing))
    with pytest.raises(NoDocumentsError, match=re.escape(str(missing))):
        Assistant.from_seeds(show_progress_bar=False)


@pytest.mark.reliability
def test_the_upload_cache_is_capped_by_default() -> None:
    s = Settings.from_env(env={})
    assert s.upload_cache_mb == 500.0 and s.upload_cache_bytes == 500 * 1024 * 1024
    assert s.upload_cache_bytes >= 10 * s.max_upload_bytes
    assert Settings.from_env(env={"QA_MAX_UPLOAD_MB": "1", "QA_UPLOAD_CACHE_MB": "1"}).upload_cache_bytes == 1024 * 1024
