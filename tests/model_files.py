"""Helpers shared by the tests of the model files (tests/test_loading.py, tests/test_embedding.py,
tests/test_reader.py, tests/test_support.py)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"


def damaged_copy(src: Path, folder: Path, damage: str) -> Path:
    """`src` copied into `folder` with one byte flipped ("flipped-byte"), cut to a third
    ("truncated"), or not at all ("missing")."""
    path = folder / src.name
    data = bytearray(src.read_bytes())
    if damage == "flipped-byte":
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    elif damage == "truncated":
        path.write_bytes(bytes(data[: len(data) // 3]))
    return path


def damage(folder: Path, name: str, how: str) -> None:
    """Damage the file `name` in `folder` in place (a copy: never the installed package's)."""
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


def quick_training(script: str, out: Path, card_name: str, model_name: str, seed: int, *args: str) -> tuple[dict, Path]:
    """Run `training/<script> --quick --out <out> [args]` and check what every training card must say:
    the file's sha256, quick mode (3 steps), the seed, the three metric sets and the data hashes."""
    if not (DATA / "squad-v2.0-train10").is_dir():
        pytest.skip("../shared/data is not beside this checkout")
    proc = subprocess.run([sys.executable, str(ROOT / "training" / script), "--quick", "--out", str(out), *args],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    card = json.loads((out / card_name).read_text())
    model = out / model_name
    assert card["sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()
    assert card["quick"] is True and card["seed"] == seed and card["steps"] == 3
    assert {"validation", "heldout_torch", "heldout_int8"} <= set(card["metrics"])
    for rel, digest in card["data"].items():
        assert digest == hashlib.sha256((DATA / rel).read_bytes()).hexdigest()
    return card, model
