"""A built wheel carries the shipped models and the chat's static files, and building it prints no
setuptools warnings (issue 24, item 6: `make install` printed ~80 lines of "Package 'qa.models' is
absent from the `packages` configuration").

The wheel is built offline (`pip wheel --no-deps --no-build-isolation`, the venv's setuptools) from
a copy of pyproject.toml, README.md and qa/ in a temporary folder, so the checkout gets no build/ or
*.egg-info. Measured on the 2-core machine: about 5 s (copying and zipping ~70 MB of models).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import REPO_ROOT

SHIPPED = [
    "qa/models/encoder-int8.onnx",
    "qa/models/reader-int8.onnx",
    "qa/models/reader.json",
    "qa/models/support-int8.onnx",
    "qa/models/support.json",
    "qa/ui/static/ui.css",
    "qa/ui/static/ui.js",
    "qa/ui/static/viewer.css",
    "qa/ui/static/viewer.js",
]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The wheel built from the checkout's sources, and everything the build printed."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO_ROOT / name, src / name)
    shutil.copytree(REPO_ROOT / "qa", src / "qa", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("wheel")
    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation",
                             "-w", str(out)], capture_output=True, text=True, env=env, timeout=300)
    printed = result.stdout + result.stderr
    assert result.returncode == 0, printed
    wheels = list(out.glob("qa-*.whl"))
    assert len(wheels) == 1, printed
    return wheels[0], printed


def test_the_wheel_carries_the_models_and_static_files(wheel: tuple[Path, str]) -> None:
    with zipfile.ZipFile(wheel[0]) as archive:
        names = set(archive.namelist())
        sizes = {info.filename: info.file_size for info in archive.infolist()}
    missing = [name for name in SHIPPED if name not in names]
    assert not missing, f"not in the wheel: {missing}"
    for name in SHIPPED:
        assert sizes[name] == (REPO_ROOT / name).stat().st_size, f"{name} differs from the checkout's"
    assert {"qa/__init__.py", "qa/cli.py", "qa/ui/__init__.py"} <= names
    assert not [n for n in names if "__pycache__" in n or n.startswith(("tests/", "training/", "benchmarks/"))]


def test_building_prints_no_setuptools_warnings(wheel: tuple[Path, str]) -> None:
    printed = wheel[1]
    assert "absent from the `packages` configuration" not in printed, printed
    assert "Warning" not in printed, printed
