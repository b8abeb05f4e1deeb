"""The dependencies layer is built by pip once per content of its requirements, then synth is offline.

pip is replaced by a fake that writes a package, so these tests need no package index and count how
often the real build would have run.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack

from shopping_cart import functions


class FakePip:
    def __init__(self, fail: bool = False) -> None:
        self.calls = 0
        self.fail = fail

    def __call__(self, command: list[str], **_kwargs: Any) -> subprocess.CompletedProcess[str]:
        self.calls += 1
        target = Path(command[command.index("--target") + 1])
        if self.fail:
            target.mkdir(parents=True, exist_ok=True)
            return subprocess.CompletedProcess(command, 1, "", "no index")
        (target / "jwt").mkdir(parents=True)
        (target / "jwt" / "__init__.py").write_text("__version__ = 'fake'\n")
        (target / "bin").mkdir()
        return subprocess.CompletedProcess(command, 0, "", "")


def _synth_layer(runtime: Path, outdir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(functions, "runtime_root", lambda: runtime)
    app = App(outdir=str(outdir))
    functions.dependencies_layer(Stack(app, "Layer"))
    app.synth()
    [asset] = [p for p in outdir.iterdir() if p.name.startswith("asset.")]
    return asset


@pytest.fixture
def runtime(tmp_path: Path) -> Path:
    root = tmp_path / "runtime"
    root.mkdir()
    (root / "requirements.txt").write_text("PyJWT[crypto]==2.15.1\n")
    return root


def test_a_second_synth_does_not_call_pip(
    runtime: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pip = FakePip()
    monkeypatch.setattr(functions.subprocess, "run", pip)
    monkeypatch.setenv("SHOPPING_CART_LAYER_CACHE", str(tmp_path / "cache"))

    first = _synth_layer(runtime, tmp_path / "out1", monkeypatch)
    second = _synth_layer(runtime, tmp_path / "out2", monkeypatch)

    assert pip.calls == 1
    for asset in (first, second):
        assert (asset / "python" / "jwt" / "__init__.py").is_file()
        assert not (asset / "python" / "bin").exists()


def test_changed_requirements_build_again(
    runtime: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pip = FakePip()
    monkeypatch.setattr(functions.subprocess, "run", pip)
    cache = tmp_path / "cache"
    bundling = functions.PipLocalBundling(runtime / "requirements.txt", cache)
    bundling.try_bundle(str(tmp_path / "a"))
    (runtime / "requirements.txt").write_text("PyJWT[crypto]==2.15.2\n")
    bundling.try_bundle(str(tmp_path / "b"))
    assert pip.calls == 2
    assert len([entry for entry in cache.iterdir() if not entry.name.startswith(".")]) == 2


def test_a_failed_build_leaves_no_cache_entry(
    runtime: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(functions.subprocess, "run", FakePip(fail=True))
    cache = tmp_path / "cache"
    with pytest.raises(RuntimeError, match="pip could not build"):
        functions.PipLocalBundling(runtime / "requirements.txt", cache).try_bundle(str(tmp_path / "out"))
    assert list(cache.iterdir()) == []

    pip = FakePip()
    monkeypatch.setattr(functions.subprocess, "run", pip)
    functions.PipLocalBundling(runtime / "requirements.txt", cache).try_bundle(str(tmp_path / "out"))
    assert pip.calls == 1


def test_the_cache_lives_outside_the_repository_by_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SHOPPING_CART_LAYER_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert functions.layer_cache_dir() == tmp_path / "serverless-shopping-cart" / "layers"
