"""A user's files are never lost or exposed.

- Uploads never replace a different file silently, never write through a link or outside
  the documents folder, and are undone (only what they created) when indexing fails.
- Removing a document keeps its file; later folder scans skip it until it is uploaded again.
- Folder scans report links that leave the folder, dangle or loop, and files whose names
  are not UTF-8, instead of indexing or silently skipping them.
- An add or remove over an unusable index rebuilds from the folder and drops nothing.
- UTF-16 files are text. Chat exports are written only on request, privately.

Real files in tmp_path, the fake encoder and the fixtures of test_index.py.
"""

from __future__ import annotations

import codecs
import json
import os
import stat
import threading
from pathlib import Path

import pytest

import qa.assistant
import qa.index as store
from qa import Assistant
from qa.documents import read_document, scan
from qa.errors import DocumentError, IndexCorruptError
from qa.files import HIDDEN_REASON, is_hidden
from qa.indexer import apply_documents

from test_index import (  # noqa: F401  (fixtures: settings, seeds, index_dir, built, fake_bot)
    ALPHA,
    BETA,
    DELTA,
    DOCS,
    GAMMA,
    _corrupt,
    assert_consistent,
    build,
    built,
    fake_bot,
    index_dir,
    seeds,
    settings,
    write,
)

pytestmark = pytest.mark.reliability

OUTSIDE_SECRET = "The vault code outside the documents folder is 4417."


def folder_state(folder: Path) -> dict[str, bytes | str]:
    """Every entry under `folder` (hidden ones too): file bytes, or where a link points."""
    state: dict[str, bytes | str] = {}
    for root, dirs, files in os.walk(os.fsencode(folder)):
        for name in dirs + files:
            path = os.path.join(root, name)
            key = os.fsdecode(os.path.relpath(path, os.fsencode(folder)))
            if os.path.islink(path):
                state[key] = "-> " + os.fsdecode(os.readlink(path))
            elif os.path.isfile(path):
                with open(path, "rb") as fh:
                    state[key] = fh.read()
    return state


def manifest_bytes(index_dir: Path) -> bytes:
    return (index_dir / "manifest.json").read_bytes()


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the seeds folder, holding a file that must never be indexed or touched."""
    folder = tmp_path / "outside"
    write(folder / "secret.txt", OUTSIDE_SECRET)
    return folder


# --------------------------------------------------------------------------- uploads: same name


@pytest.mark.parametrize(
    ("content", "replace", "outcome"),
    [
        (ALPHA + " A new paragraph.", False, "refused"),
        (ALPHA + " A new paragraph.", True, "replaced"),
        (ALPHA, False, "no-op"),
        (ALPHA, True, "no-op"),
    ],
    ids=["different-content-refused", "different-content-replace-true", "identical-content", "identical-content-replace-true"],
)
def test_upload_never_silently_replaces_a_document(fake_bot, seeds, index_dir, tmp_path, fake_encoder, content, replace, outcome) -> None:
    upload = write(tmp_path / "upload" / "alpha.txt", content)
    before_folder, before_manifest = folder_state(seeds), manifest_bytes(index_dir)
    if outcome == "refused":
        with pytest.raises(DocumentError, match="already exists.*rename the file"):
            fake_bot.add_files([upload], replace=replace)
        assert folder_state(seeds) == before_folder
        assert manifest_bytes(index_dir) == before_manifest
        assert fake_bot.document_text("alpha.txt") == ALPHA
        return
    report = fake_bot.add_files([upload], replace=replace)
    if outcome == "no-op":
        assert not report.changed_anything and fake_encoder.encoded == 0
        assert folder_state(seeds) == before_folder
    else:
        assert report.changed == ["alpha.txt"]
        assert (seeds / "alpha.txt").read_text(encoding="utf-8") == content
        assert fake_bot.document_text("alpha.txt") == content
        assert set(folder_state(seeds)) == set(before_folder), "a staged copy was left behind"
    assert_consistent(store.load(index_dir), fake_encoder)


# --------------------------------------------------------------------------- uploads: names and links


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("..", "not a plain file name"),
        ("..\\evil.txt", "not a plain file name"),
        (".hidden.txt", "hidden"),
        ("line\nbreak.txt", "control characters"),
        (b"bad\xff.txt", "not valid UTF-8"),
    ],
    ids=["dot-dot", "backslash", "hidden-name", "control-character", "not-utf8"],
)
def test_upload_with_an_unsafe_name_is_refused(fake_bot, seeds, index_dir, tmp_path, name, message) -> None:
    upload_dir = tmp_path / "upload"
    upload_dir.mkdir()
    if name == "..":
        path: str | Path = str(upload_dir / "sub" / "..")
    else:
        raw = os.path.join(os.fsencode(upload_dir), name if isinstance(name, bytes) else os.fsencode(name))
        with open(raw, "wb") as fh:
            fh.write(DELTA.encode("utf-8"))
        path = os.fsdecode(raw)
    before_folder, before_manifest = folder_state(seeds), manifest_bytes(index_dir)
    with pytest.raises(DocumentError, match=message):
        fake_bot.add_files([path])
    assert folder_state(seeds) == before_folder
    assert manifest_bytes(index_dir) == before_manifest


@pytest.mark.parametrize("replace", [False, True], ids=["default", "replace-true"])
@pytest.mark.parametrize("link", ["to-a-file-outside", "dangling"])
def test_upload_never_writes_through_a_link(fake_bot, seeds, index_dir, tmp_path, outside, link, replace) -> None:
    target = outside / ("secret.txt" if link == "to-a-file-outside" else "not-yet.txt")
    (seeds / "delta.txt").symlink_to(target)
    upload = write(tmp_path / "upload" / "delta.txt", DELTA)
    before_outside, before_manifest = folder_state(outside), manifest_bytes(index_dir)
    with pytest.raises(DocumentError, match="link"):
        fake_bot.add_files([upload], replace=replace)
    assert folder_state(outside) == before_outside, "the upload was written through the link"
    assert (seeds / "delta.txt").is_symlink()
    assert manifest_bytes(index_dir) == before_manifest


def test_a_link_that_appears_after_the_check_is_not_followed(fake_bot, seeds, tmp_path, outside, monkeypatch) -> None:
    """The race: the name was free when checked, a link is there when the file is written."""
    upload = write(tmp_path / "upload" / "delta.txt", DELTA)
    real_plan = qa.assistant.plan_uploads

    def plan_then_race(folder, uploads, replace):  # type: ignore[no-untyped-def]
        real_plan(folder, uploads, replace)
        (folder / "delta.txt").symlink_to(outside / "planted.txt")

    monkeypatch.setattr(qa.assistant, "plan_uploads", plan_then_race)
    with pytest.raises(DocumentError, match="appeared"):
        fake_bot.add_files([upload])
    assert not (outside / "planted.txt").exists(), "the upload was written through a planted link"
    assert (seeds / "delta.txt").is_symlink(), "a file this upload did not create was removed"


def test_new_uploads_are_regular_files_directly_in_the_folder(fake_bot, seeds, tmp_path) -> None:
    upload = write(tmp_path / "upload" / "deep" / "delta.md", DELTA)
    fake_bot.add_files([str(tmp_path / "upload" / "deep" / ".." / "deep" / "delta.md")])
    created = seeds / "delta.md"
    assert stat.S_ISREG(os.lstat(created).st_mode)
    assert created.read_bytes() == upload.read_bytes()


# --------------------------------------------------------------------------- uploads: all or nothing


def test_one_bad_file_in_a_batch_writes_nothing(fake_bot, seeds, index_dir, tmp_path) -> None:
    good = write(tmp_path / "upload" / "delta.md", DELTA)
    bad = write(tmp_path / "upload" / "empty.txt", b"")
    before_folder, before_manifest = folder_state(seeds), manifest_bytes(index_dir)
    with pytest.raises(DocumentError, match="empty.txt"):
        fake_bot.add_files([good, bad])
    assert folder_state(seeds) == before_folder
    assert manifest_bytes(index_dir) == before_manifest


@pytest.mark.parametrize("failure", ["os-error", "keyboard-interrupt"])
def test_failed_indexing_removes_only_the_files_this_upload_created(fake_bot, seeds, index_dir, tmp_path, monkeypatch, failure) -> None:
    uploads = [
        write(tmp_path / "upload" / "delta.md", DELTA),  # new: created, then removed again
        write(tmp_path / "upload" / "alpha.txt", ALPHA),  # identical: kept as it is
        write(tmp_path / "upload" / "beta.md", BETA + "\n\nA new line."),  # replaced only after indexing
    ]
    before_folder, before_manifest = folder_state(seeds), manifest_bytes(index_dir)
    error = OSError(28, "No space left on device (simulated)") if failure == "os-error" else KeyboardInterrupt()

    def fail(*args, **kwargs):  # type: ignore[no-untyped-def]
        assert (seeds / "delta.md").is_file(), "files are written before indexing"
        raise error

    monkeypatch.setattr(qa.assistant, "apply_documents", fail)
    with pytest.raises(type(error)):
        fake_bot.add_files(uploads, replace=True)
    assert folder_state(seeds) == before_folder
    assert manifest_bytes(index_dir) == before_manifest


# --------------------------------------------------------------------------- remove keeps the file


def test_removed_document_stays_on_disk_and_out_of_later_builds_until_uploaded_again(fake_bot, seeds, index_dir, tmp_path, fake_encoder, settings) -> None:
    fake_bot.remove_document("alpha.txt")
    assert (seeds / "alpha.txt").read_text(encoding="utf-8") == ALPHA
    assert json.loads((index_dir / store.EXCLUDED).read_text(encoding="utf-8")) == {"excluded": ["alpha.txt"]}

    data, report = build(seeds, index_dir, fake_encoder, settings)
    assert "alpha.txt" not in data.documents
    assert report.excluded == ["alpha.txt"] and not report.changed_anything
    assert "excluded 1" in report.summary() and "alpha.txt" in report.summary()

    # The same file uploaded again (from elsewhere) goes back into the index, and stays there.
    report = fake_bot.add_files([write(tmp_path / "upload" / "alpha.txt", ALPHA)])
    assert report.added == ["alpha.txt"]
    assert not (index_dir / store.EXCLUDED).exists()
    data, report = build(seeds, index_dir, fake_encoder, settings)
    assert "alpha.txt" in data.documents and report.excluded == []


def test_removing_every_document_then_rebuilding_keeps_an_empty_index(tmp_path, fake_encoder, settings) -> None:
    folder = tmp_path / "seeds"
    write(folder / "only.txt", DELTA)
    data, _ = build(folder, tmp_path / "index", fake_encoder, settings)
    Assistant(data, fake_encoder, settings, tmp_path / "index", folder).remove_document("only.txt")
    data, report = build(folder, tmp_path / "index", fake_encoder, settings)
    assert data.documents == {} and report.excluded == ["only.txt"]
    assert (folder / "only.txt").is_file()


def test_failed_removal_leaves_the_exclusions_as_they_were(fake_bot, index_dir, monkeypatch) -> None:
    def fail(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device (simulated)")

    monkeypatch.setattr(qa.assistant, "apply_documents", fail)
    with pytest.raises(OSError):
        fake_bot.remove_document("alpha.txt")
    assert not (index_dir / store.EXCLUDED).exists()
    assert "alpha.txt" in [d.source for d in fake_bot.documents()]


@pytest.mark.parametrize("content", ["{not json", '{"excluded": "alpha.txt"}', "[]"], ids=["not-json", "not-a-list", "wrong-shape"])
def test_unreadable_exclusion_list_stops_the_build_instead_of_guessing(built, seeds, index_dir, fake_encoder, settings, content) -> None:
    (index_dir / store.EXCLUDED).write_text(content, encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="excluded.json"):
        build(seeds, index_dir, fake_encoder, settings)


# --------------------------------------------------------------------------- folder scan: links and names


@pytest.mark.parametrize(
    ("name", "points_to", "reason"),
    [
        ("link.txt", "outside/secret.txt", "outside"),
        ("relative.txt", "../outside/secret.txt", "outside"),
        ("linked-folder", "outside", "outside"),
        ("dangling.txt", "outside/missing.txt", "does not exist"),
        ("loop.txt", "seeds/loop.txt", "loops"),
    ],
    ids=["file-outside", "relative-path-outside", "folder-outside", "dangling", "loop"],
)
def test_links_that_leave_the_folder_dangle_or_loop_are_reported(seeds, tmp_path, outside, fake_encoder, settings, name, points_to, reason) -> None:
    target = points_to if points_to.startswith("..") else tmp_path / points_to
    (seeds / name).symlink_to(target)
    data, report = build(seeds, tmp_path / "index", fake_encoder, settings)
    key = name + ("/" if name == "linked-folder" else "")
    assert reason in report.failed.get(key, ""), report.failed
    assert set(data.documents) == set(DOCS)
    assert all(OUTSIDE_SECRET not in d.text for d in data.documents.values())
    assert key in report.summary()


@pytest.mark.parametrize(("name", "points_to"), [("alias.txt", "alpha.txt"), ("nested-alias.txt", "notes/gamma.txt")],
                         ids=["beside", "in-a-subfolder"])
def test_links_inside_the_folder_are_indexed(seeds, tmp_path, fake_encoder, settings, name, points_to) -> None:
    (seeds / name).symlink_to(seeds / points_to)
    (seeds / "notes-again").symlink_to(seeds / "notes")  # a linked folder is not walked twice
    data, report = build(seeds, tmp_path / "index", fake_encoder, settings)
    assert set(data.documents) == {*DOCS, name} and not report.failed
    assert data.documents[name].text == data.documents[points_to].text


@pytest.mark.parametrize("where", ["file-name", "folder-name"])
def test_file_names_that_are_not_utf8_are_reported_and_the_rest_indexed(seeds, tmp_path, fake_encoder, settings, where) -> None:
    raw_seeds = os.fsencode(seeds)
    if where == "file-name":
        raw, shown = os.path.join(raw_seeds, b"bad\xff.txt"), "bad\\xff.txt"
    else:
        os.mkdir(os.path.join(raw_seeds, b"dir\xfe"))
        raw, shown = os.path.join(raw_seeds, b"dir\xfe", b"inner.txt"), "dir\\xfe/inner.txt"
    with open(raw, "wb") as fh:
        fh.write(DELTA.encode("utf-8"))
    data, report = build(seeds, tmp_path / "index", fake_encoder, settings)
    assert set(data.documents) == set(DOCS)
    assert "UTF-8" in report.failed[shown]
    json.dumps(report.to_dict(), ensure_ascii=False).encode("utf-8")  # no surrogates anywhere
    json.loads((tmp_path / "index" / "manifest.json").read_text(encoding="utf-8"))
    assert shown in report.summary()


def test_a_parser_crash_on_one_file_is_reported_and_the_rest_indexed(seeds, tmp_path, fake_encoder, settings, monkeypatch) -> None:
    import qa.html_reader

    write(seeds / "odd.html", "<p>Some page.</p>")

    def crash(markup: str) -> str:
        raise RecursionError("maximum recursion depth exceeded (simulated)")

    monkeypatch.setattr(qa.html_reader, "_html_text", crash)
    data, report = build(seeds, tmp_path / "index", fake_encoder, settings)
    assert set(data.documents) == set(DOCS)
    assert "RecursionError" in report.failed["odd.html"]


def _swap_for_link(seeds: Path, outside: Path, what: str) -> str:
    """Replace a scanned entry with a link that leads outside the folder; the source it concerns."""
    if what == "file":
        (seeds / "alpha.txt").unlink()
        (seeds / "alpha.txt").symlink_to(outside / "secret.txt")
        return "alpha.txt"
    if what == "folder":  # a folder on the path, swapped for a link to a folder with a file of the same name
        write(outside / "notes" / "gamma.txt", OUTSIDE_SECRET)
        (seeds / "notes" / "gamma.txt").unlink()
        (seeds / "notes").rmdir()
        (seeds / "notes").symlink_to(outside / "notes")
        return "notes/gamma.txt"
    # a link the scan accepted (it led inside the folder), pointed outside
    (seeds / "alias.txt").unlink()
    (seeds / "alias.txt").symlink_to(outside / "secret.txt")
    return "alias.txt"


@pytest.mark.parametrize("what", ["file", "folder", "accepted-link"])
def test_a_file_swapped_for_a_link_after_the_scan_is_not_read(seeds, tmp_path, outside, fake_encoder, settings,
                                                              monkeypatch, what) -> None:
    """Issue 25: a file swapped for a link to an outside file between the scan's check and its
    read got the outside content indexed (1,915 of 5,883 scans). The swap happens right after
    the scan, every time."""
    import qa.documents

    (seeds / "alias.txt").symlink_to(seeds / "alpha.txt")
    real_scan, swapped = qa.documents.scan, []

    def scan_then_swap(folder, others=None):  # type: ignore[no-untyped-def]
        found = real_scan(folder, others)
        swapped.append(_swap_for_link(seeds, outside, what))
        return found

    monkeypatch.setattr(qa.documents, "scan", scan_then_swap)
    data, report = build(seeds, tmp_path / "index", fake_encoder, settings)
    assert swapped, "the swap did not run"
    assert all(OUTSIDE_SECRET not in d.text for d in data.documents.values()), "outside content was indexed"
    assert swapped[0] not in data.documents
    reason = report.failed.get(swapped[0], "")
    assert "not indexed" in reason and ("link" in reason), report.failed
    assert swapped[0] in report.summary()


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_swap_between_resolving_and_opening_is_not_followed(seeds, tmp_path, outside, fake_encoder, settings,
                                                              monkeypatch, what) -> None:
    """The narrowest window: the swap lands after the reader resolved the path, before it opens it."""
    (seeds / "alias.txt").symlink_to(seeds / "alpha.txt")
    target = {"file": "alpha.txt", "folder": "notes/gamma.txt"}[what]
    real_realpath, swapped = os.path.realpath, []

    def realpath_then_swap(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        resolved = real_realpath(path, *args, **kwargs)
        if not swapped and str(path) == str(seeds / target):
            swapped.append(_swap_for_link(seeds, outside, what))
        return resolved

    monkeypatch.setattr(os.path, "realpath", realpath_then_swap)
    data, report = build(seeds, tmp_path / "index", fake_encoder, settings)
    assert swapped == [target]
    assert all(OUTSIDE_SECRET not in d.text for d in data.documents.values()), "outside content was indexed"
    assert "replaced by a link" in report.failed[target], report.failed


def test_reading_opens_no_fifo_or_folder_swapped_in_after_the_scan(seeds, tmp_path, fake_encoder, settings,
                                                                   monkeypatch) -> None:
    import qa.documents

    real_scan = qa.documents.scan

    def scan_then_swap(folder, others=None):  # type: ignore[no-untyped-def]
        found = real_scan(folder, others)
        (seeds / "alpha.txt").unlink()
        os.mkfifo(seeds / "alpha.txt")  # opening a FIFO for reading would wait for a writer forever
        (seeds / "beta.md").unlink()
        (seeds / "beta.md").mkdir()
        return found

    monkeypatch.setattr(qa.documents, "scan", scan_then_swap)
    result: list = []
    worker = threading.Thread(target=lambda: result.append(build(seeds, tmp_path / "index", fake_encoder, settings)),
                              daemon=True)
    worker.start()
    worker.join(timeout=30)
    if worker.is_alive():  # let the blocked reader go before failing
        os.close(os.open(seeds / "alpha.txt", os.O_WRONLY | os.O_NONBLOCK))
        worker.join(timeout=5)
        pytest.fail("the build waited on a FIFO swapped in for a document")
    data, report = result[0]
    assert set(data.documents) == {"notes/gamma.txt"}
    for source in ("alpha.txt", "beta.md"):
        assert "not a regular file" in report.failed[source], report.failed


def test_scan_reports_a_link_in_a_subfolder_under_its_relative_name(seeds, outside) -> None:
    (seeds / "notes" / "secret.txt").symlink_to(outside / "secret.txt")
    paths, failed = scan(seeds)
    assert "notes/secret.txt" in failed and all(p.name != "secret.txt" for p in paths)


# --------------------------------------------------------------------------- hidden files: one rule, reported

HIDDEN_NAMES = [
    pytest.param(".draft.txt", id="dot-txt"),
    pytest.param(".Notes.MD", id="dot-md-upper-case"),
    pytest.param("..two-dots.html", id="two-dots-html"),
    pytest.param(".#lock.md", id="editor-lock-md"),
]


@pytest.mark.parametrize(("name", "expected"), [(".env", True), (".draft.txt", True), ("..x.md", True),
                                                ("draft.txt", False), ("notes.v1.md", False), ("a.", False)],
                         ids=["dotenv", "dot-txt", "two-dots", "plain", "inner-dot", "trailing-dot"])
def test_is_hidden_is_the_leading_dot(name, expected) -> None:
    assert is_hidden(name) is expected


@pytest.mark.parametrize("folder", ["top", "subfolder"])
@pytest.mark.parametrize("name", HIDDEN_NAMES)
def test_folder_scan_reports_hidden_files_instead_of_skipping_them_silently(seeds, tmp_path, fake_encoder, settings,
                                                                            name, folder) -> None:
    source = name if folder == "top" else f"notes/{name}"
    write(seeds / source, DELTA)
    paths, failed = scan(seeds)
    assert failed == {source: HIDDEN_REASON}
    assert all(not is_hidden(p.name) for p in paths)
    data, report = build(seeds, tmp_path / "index", fake_encoder, settings)
    assert set(data.documents) == set(DOCS)
    assert report.failed == {source: HIDDEN_REASON}
    assert source in report.summary()


@pytest.mark.parametrize(
    "entry",
    [pytest.param(".git/notes.txt", id="file-in-a-hidden-folder"), pytest.param(".gitkeep", id="hidden-no-suffix"),
     pytest.param(".tool.cfg", id="hidden-unsupported-type"), pytest.param(".alpha.txt.0a1b2c3d.upload", id="staged-upload")],
)
def test_hidden_folders_and_unsupported_hidden_files_are_not_reported(seeds, entry) -> None:
    write(seeds / entry, DELTA)
    paths, failed = scan(seeds)
    assert failed == {} and len(paths) == len(DOCS)


@pytest.mark.parametrize("name", HIDDEN_NAMES)
def test_hidden_upload_is_refused_with_the_same_reason(fake_bot, seeds, index_dir, tmp_path, name) -> None:
    upload = write(tmp_path / "upload" / name, DELTA)
    before_folder, before_manifest = folder_state(seeds), manifest_bytes(index_dir)
    with pytest.raises(DocumentError) as info:
        fake_bot.add_files([upload])
    assert str(info.value) == f"{name}: {HIDDEN_REASON}"
    assert folder_state(seeds) == before_folder
    assert manifest_bytes(index_dir) == before_manifest


# --------------------------------------------------------------------------- updates over an unusable index


def _two_doc_bot(tmp_path: Path, encoder, settings) -> tuple[Assistant, Path, Path]:  # type: ignore[no-untyped-def]
    folder, index = tmp_path / "seeds", tmp_path / "index"
    write(folder / "alpha.txt", ALPHA)
    write(folder / "beta.md", BETA)
    data, _ = build(folder, index, encoder, settings)
    return Assistant(data, encoder, settings, index, folder), folder, index


def _damage(index: Path, how: str) -> None:
    files = {k: index / v for k, v in json.loads((index / "manifest.json").read_text(encoding="utf-8"))["files"].items()}
    if how == "chunks-jsonl-garbage":
        files["chunks"].write_bytes(b"\x00garbage, not json lines\n{{{")
    elif how == "faiss-file-deleted":
        files["chunk_vectors"].unlink()
    elif how == "index-folder-emptied":
        for path in index.iterdir():
            path.unlink()
    else:
        _corrupt(index, how)


DAMAGES = ["chunks-jsonl-garbage", "faiss-file-deleted", "manifest-not-json", "dimension-mismatch", "index-folder-emptied"]


@pytest.mark.parametrize("how", DAMAGES)
def test_upload_over_an_unusable_index_keeps_every_document(tmp_path, fake_encoder, settings, how) -> None:
    bot, folder, index = _two_doc_bot(tmp_path, fake_encoder, settings)
    _damage(index, how)
    report = bot.add_files([write(tmp_path / "upload" / "gamma.txt", GAMMA)])
    assert set(store.load(index).documents) == {"alpha.txt", "beta.md", "gamma.txt"}
    assert {d.source for d in bot.documents()} == {"alpha.txt", "beta.md", "gamma.txt"}
    assert sorted(report.added) == ["alpha.txt", "beta.md", "gamma.txt"]
    assert_consistent(store.load(index), fake_encoder)


def test_upload_with_another_model_rebuilds_everything_with_it(tmp_path, fake_encoder, make_fake_encoder, settings) -> None:
    _, folder, index = _two_doc_bot(tmp_path, fake_encoder, settings)
    other = make_fake_encoder(name="another-fake-model")
    bot = Assistant(store.load(index), other, settings, index, folder)
    report = bot.add_files([write(tmp_path / "upload" / "gamma.txt", GAMMA)])
    assert report.rebuilt and "model" in report.reason
    assert set(store.load(index).documents) == {"alpha.txt", "beta.md", "gamma.txt"}
    assert_consistent(store.load(index), other)


@pytest.mark.parametrize("how", ["chunks-jsonl-garbage", "faiss-file-deleted"])
def test_remove_over_an_unusable_index_keeps_the_others_and_honours_exclusions(tmp_path, fake_encoder, settings, how) -> None:
    bot, folder, index = _two_doc_bot(tmp_path, fake_encoder, settings)
    write(folder / "gamma.txt", GAMMA)
    bot.add_files([folder / "gamma.txt"])  # already in the folder: indexed in place
    bot.remove_document("alpha.txt")
    _damage(index, how)
    bot.remove_document("beta.md")
    assert set(store.load(index).documents) == {"gamma.txt"}
    assert (folder / "alpha.txt").is_file() and (folder / "beta.md").is_file()


def test_unusable_index_without_a_folder_to_rebuild_from_raises(tmp_path, fake_encoder, settings) -> None:
    _, _, index = _two_doc_bot(tmp_path, fake_encoder, settings)
    _damage(index, "chunks-jsonl-garbage")
    before = folder_state(index)
    doc = read_document(write(tmp_path / "upload" / "gamma.txt", GAMMA))
    with pytest.raises(IndexCorruptError, match="rebuild"):
        apply_documents(index, [doc], fake_encoder, settings, show_progress_bar=False)
    assert folder_state(index) == before


# --------------------------------------------------------------------------- UTF-16


TEXT = "Grüße from the café. The ferry leaves at 9:15 — every day.\nSecond line."


@pytest.mark.parametrize(
    ("suffix", "encoded"),
    [
        (".txt", codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le")),
        (".txt", codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be")),
        (".txt", TEXT.encode("utf-16-le")),
        (".md", TEXT.encode("utf-16-be")),
        (".html", ("<html><body><p>" + TEXT + "</p></body></html>").encode("utf-16")),
    ],
    ids=["le-with-bom", "be-with-bom", "le-without-bom", "be-without-bom", "html-with-bom"],
)
def test_utf16_files_are_read_as_text(tmp_path, suffix, encoded) -> None:
    doc = read_document(write(tmp_path / f"doc{suffix}", encoded))
    assert "Grüße from the café" in doc.text and "\x00" not in doc.text and "\ufeff" not in doc.text
    if suffix != ".html":
        assert doc.text == TEXT


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8,
        b"".join(i.to_bytes(2, "little") for i in range(0, 200, 3)) * 20,
    ],
    ids=["png", "little-endian-numbers"],
)
def test_binary_files_are_still_not_text(tmp_path, data) -> None:
    with pytest.raises(DocumentError, match="binary"):
        read_document(write(tmp_path / "data.txt", data))


# --------------------------------------------------------------------------- chat exports


def _answered(question: str = "Where?"):  # type: ignore[no-untyped-def]
    from qa.schema import Answer
    from qa.ui import Turn

    return Turn(question=question, answer=Answer(question=question, text="Here.", answered=True))


@pytest.fixture
def exports(tmp_path):  # type: ignore[no-untyped-def]
    pytest.importorskip("gradio")
    from qa.ui import _Exports

    manager = _Exports()
    yield manager
    manager.clear()


def test_export_is_private_and_replaces_the_sessions_previous_one(exports, tmp_path) -> None:
    from qa.ui import Turn

    assert exports.write("s1", [Turn(question="", error="Please type a question.")], str(tmp_path)) is None
    first = Path(exports.write("s1", [_answered()], str(tmp_path)))
    assert stat.S_IMODE(first.stat().st_mode) == 0o600
    assert stat.S_IMODE(first.parent.stat().st_mode) == 0o700
    assert first.parent.parent == tmp_path and "Where?" in first.read_text(encoding="utf-8")
    other = Path(exports.write("s2", [_answered("Other?")], str(tmp_path)))
    second = Path(exports.write("s1", [_answered(), _answered("Then?")], str(tmp_path)))
    assert not first.parent.exists(), "the session's previous export was left behind"
    assert second.is_file() and other.is_file()
    exports.forget("s1")
    assert not second.parent.exists() and other.is_file()
    exports.clear()
    assert not other.parent.exists()


def test_answering_writes_no_export_until_asked(monkeypatch) -> None:
    pytest.importorskip("gradio")
    import qa.ui
    from qa.schema import Answer

    class Bot:
        def ask(self, question, top_k=None, history=None):  # type: ignore[no-untyped-def]
            return Answer(question=question, text="Here.", answered=True)

        def documents(self):  # type: ignore[no-untyped-def]
            return []

        def document_text(self, source):  # type: ignore[no-untyped-def]
            return ""

        def add_files(self, paths, progress=None):  # type: ignore[no-untyped-def]
            raise AssertionError

        def remove_document(self, source):  # type: ignore[no-untyped-def]
            raise AssertionError

    writes: list[str] = []
    monkeypatch.setattr(qa.ui._EXPORTS, "write", lambda session, turns, base=None: writes.append(session) or "x.md")
    demo = qa.ui.build_ui(Bot())
    fns = {f.name: f.fn for f in demo.fns.values()}
    _, turns, export_update, *_ = list(fns["respond"]("Where?", [], 5, False))[-1]
    assert writes == [] and export_update["interactive"] is True
    assert fns["export_conversation"](turns, None) == "x.md" and writes == ["default"]


# --------------------------------------------------------------------------- the upload cache


def _cached(folder: Path, digest: str, name: str, size: int, age: float, now: float) -> Path:
    """A file as Gradio stores an upload (<cache>/<digest>/<name>), stored `age` seconds before `now`."""
    path = folder / digest / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    os.utime(path, (now - age, now - age))
    return path


def test_the_upload_cache_folder_is_gradios(monkeypatch, tmp_path: Path) -> None:
    from gradio.utils import get_upload_folder

    from qa.uploads import upload_cache_dir

    assert upload_cache_dir() == Path(get_upload_folder()).resolve()
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    assert upload_cache_dir() == Path(get_upload_folder()).resolve() == tmp_path.resolve()


def test_abandoned_uploads_and_uploads_past_the_cap_are_removed(tmp_path: Path) -> None:
    from qa.uploads import ABANDONED_UPLOAD_SECONDS, sweep_upload_cache

    cache, now, old = tmp_path / "gradio", 1_000_000.0, ABANDONED_UPLOAD_SECONDS + 5
    abandoned = _cached(cache, "a" * 40, "junk.txt", 100, old, now)
    held = _cached(cache, "b" * 40, "indexing.txt", 100, old, now)
    first = _cached(cache, "c" * 40, "first.txt", 400, 60, now)
    second = _cached(cache, "d" * 40, "second.txt", 400, 30, now)
    past_cap = _cached(cache, "e" * 40, "third.txt", 400, 1, now)
    other = _cached(cache, "deep_links", "not-an-upload.txt", 10_000, old, now)  # not an upload folder
    (cache / ("f" * 40)).mkdir()
    link = cache / ("f" * 40) / "link.txt"
    link.symlink_to(other)

    removed = sweep_upload_cache(cache, cap_bytes=1000, keep=[held], now=now)
    assert sorted(removed) == sorted([abandoned, past_cap])
    assert not abandoned.parent.exists() and not past_cap.exists(), "abandoned, and past the cap"
    assert held.exists() and first.exists() and second.exists(), "being indexed, and earlier uploads, stay"
    assert other.exists() and link.is_symlink()
    assert sweep_upload_cache(cache, cap_bytes=1000, keep=[held], now=now) == []
