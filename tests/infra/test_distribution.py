"""The library as a package index takes it: `python -m build` makes the sdist and, from that sdist, the
wheel; `twine check --strict` passes on both; the metadata is what PyPI shows and checks (valid trove
classifiers, the licence, the typed marker), and the wheel carries every module of the library and of
its Lambda code."""

from __future__ import annotations

import email.parser
import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest
import trove_classifiers
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]

pytestmark = pytest.mark.slow


def _run(command: list[str], cwd: Path) -> str:
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # What `git archive` would hold of the package's inputs: build/ and *.egg-info stay out of the tree.
    source = tmp_path_factory.mktemp("source")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, source / name)
    for folder in ("constructs", "runtime"):
        shutil.copytree(REPO / folder, source / folder, ignore=ignore)
    out = tmp_path_factory.mktemp("dist")
    # No --sdist/--wheel: build makes the sdist, then the wheel from the unpacked sdist, so a file the
    # sdist forgets is missing from the wheel too.
    _run([sys.executable, "-m", "build", "--outdir", str(out), str(source)], cwd=source)
    return out


def _wheel(dist: Path) -> zipfile.ZipFile:
    [wheel] = dist.glob("*.whl")
    return zipfile.ZipFile(wheel)


def _metadata(dist: Path) -> email.message.Message:
    wheel = _wheel(dist)
    [name] = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    return email.parser.Parser().parsestr(wheel.read(name).decode())


def test_twine_check_passes_on_the_sdist_and_the_wheel(dist: Path) -> None:
    files = sorted(str(path) for path in dist.iterdir())
    assert sorted(Path(f).suffix for f in files) == [".gz", ".whl"]
    printed = _run([sys.executable, "-m", "twine", "check", "--strict", *files], cwd=dist)
    assert printed.count("PASSED") == 2, printed


def test_the_metadata_is_what_the_index_shows(dist: Path) -> None:
    metadata = _metadata(dist)
    assert metadata["Name"] == PROJECT["name"]
    assert metadata["Version"] == PROJECT["version"]
    assert metadata["Requires-Python"] == PROJECT["requires-python"]
    assert metadata["License-Expression"] == "MIT-0"
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert "## Embedding the construct" in metadata.get_payload()
    # Ranges, so that an embedding app brings its own CDK.
    assert {str(Requirement(r)) for r in metadata.get_all("Requires-Dist")} == {
        str(Requirement(r)) for r in PROJECT["dependencies"]
    }
    classifiers = metadata.get_all("Classifier")
    # PyPI refuses an upload with an unknown classifier; twine check does not look.
    assert [c for c in classifiers if c not in trove_classifiers.classifiers] == []
    assert "Typing :: Typed" in classifiers
    supported = {
        c.rsplit(" :: ", 1)[1] for c in classifiers if c.startswith("Programming Language :: Python :: 3.")
    }
    assert supported == {"3.11", "3.12", "3.13"}


def test_the_wheel_is_typed_and_carries_every_module(dist: Path) -> None:
    names = set(_wheel(dist).namelist())
    assert "shopping_cart/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    expected = {
        f"shopping_cart/{path.relative_to(REPO / 'constructs' / 'shopping_cart').as_posix()}"
        for path in (REPO / "constructs" / "shopping_cart").rglob("*.py")
    } | {
        f"shopping_cart/runtime/{path.relative_to(REPO / 'runtime').as_posix()}"
        for pattern in ("*.py", "*.json", "requirements.txt")
        for path in (REPO / "runtime").rglob(pattern)
        if "__pycache__" not in path.parts
    }
    assert expected - names == set()
    assert [
        n for n in names if "__pycache__" in n or n.startswith(("constructs/", "runtime/", "tests/"))
    ] == []

    [sdist] = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        members = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"LICENSE", "README.md", "pyproject.toml", "constructs/shopping_cart/py.typed"} <= members
