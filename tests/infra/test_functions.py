"""Lambda defaults: the Powertools layer pin, and the pip-built dependencies layer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shopping_cart import POWERTOOLS_VERSION
from shopping_cart.functions import POWERTOOLS_LAYER_PARAMETER, PipLocalBundling, runtime_root

REPO = Path(__file__).resolve().parents[2]
ELF_MACHINE_AARCH64 = 183


def test_powertools_layer_matches_the_pinned_library() -> None:
    requirements = (REPO / "requirements.txt").read_text()
    [pin] = re.findall(r"^aws-lambda-powertools(?:\[[^\]]*\])?==([\w.]+)\s*$", requirements, re.MULTILINE)
    assert pin == POWERTOOLS_VERSION
    assert (
        f"/aws/service/powertools/python/arm64/python3.13/{POWERTOOLS_VERSION}" == POWERTOOLS_LAYER_PARAMETER
    )


def test_runtime_root_is_the_repo_runtime_folder() -> None:
    assert runtime_root().resolve() == (REPO / "runtime").resolve()
    assert (runtime_root() / "requirements.txt").is_file()


@pytest.mark.slow
def test_local_bundling_builds_arm64_wheels_for_python_3_13(tmp_path: Path) -> None:
    """What ``cdk synth`` runs for the dependencies layer (downloads from PyPI)."""
    assert PipLocalBundling(runtime_root() / "requirements.txt").try_bundle(str(tmp_path)) is True
    site = tmp_path / "python"
    assert (site / "jwt" / "__init__.py").is_file()
    assert (site / "cryptography").is_dir()
    native = list(site.rglob("*.so"))
    assert native
    for library in native:
        header = library.read_bytes()[:20]
        assert header[:4] == b"\x7fELF"
        assert int.from_bytes(header[18:20], "little") == ELF_MACHINE_AARCH64, library.name
    assert not (site / "bin").exists()
