"""The repo as a package: build the wheel, install it in a fresh virtualenv outside the repo, and
synthesize a small app there that embeds ShoppingCart. Its functions' assets hold the handler code."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PINNED = ("aws-cdk-lib", "constructs", "cdk-nag")

EMBEDDING_APP = textwrap.dedent(
    """
    import json
    import sys

    from aws_cdk import App, Stack, Validations
    from cdk_nag import AwsSolutionsChecks

    import shopping_cart
    from shopping_cart import Auth, ShoppingCart

    app = App(context={"aws:cdk:bundling-stacks": []}, outdir=sys.argv[1])
    stack = Stack(app, "Shop")
    auth = Auth(stack, "Auth")
    ShoppingCart(
        stack,
        "Cart",
        user_pool=auth.user_pool,
        user_pool_client=auth.user_pool_client,
        product_service_url="https://products.example.com",
        allowed_origins=["https://shop.example.com"],
    )
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    app.synth()
    print(json.dumps({"package": shopping_cart.__file__}))
    """
)


def _run(command: list[str], cwd: Path) -> str:
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _pins() -> list[str]:
    """aws-cdk-lib, constructs and cdk-nag exactly as requirements.txt pins them."""
    text = (REPO / "requirements.txt").read_text()
    pins = [
        match.group(0).strip()
        for name in PINNED
        for match in re.finditer(rf"^{re.escape(name)}==\S+", text, re.M)
    ]
    assert len(pins) == len(PINNED), pins
    return pins


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Build from a copy so that build/ and *.egg-info never land in the working tree.
    source = tmp_path_factory.mktemp("source")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".hypothesis")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, source / name)
    for folder in ("constructs", "runtime"):
        shutil.copytree(REPO / folder, source / folder, ignore=ignore)
    dist = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(source)], cwd=source)
    [built] = dist.glob("*.whl")
    return built


@pytest.mark.slow
def test_wheel_embeds_the_construct_library_and_the_runtime(wheel: Path, tmp_path: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "shopping_cart/__init__.py" in names
    assert "shopping_cart/cart.py" in names
    assert "shopping_cart/runtime/requirements.txt" in names
    assert not [name for name in names if "__pycache__" in name or name.startswith("constructs/")]

    # A plain virtualenv (no system site-packages) outside the repo, with the repo's pins.
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    python = venv / "bin" / "python"
    _run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",  # byte-compiling aws-cdk-lib takes longer than the whole synth
            "-c",
            str(REPO / "constraints.txt"),
            str(wheel),
            *_pins(),
        ],
        cwd=tmp_path,
    )
    app_dir = tmp_path / "shop"
    app_dir.mkdir()
    (app_dir / "app.py").write_text(EMBEDDING_APP)
    outdir = app_dir / "cdk.out"
    printed = _run([str(python), "app.py", str(outdir)], cwd=app_dir)
    package = Path(json.loads(printed.strip().splitlines()[-1])["package"])
    assert venv in package.parents, "shopping_cart was not imported from the fresh virtualenv"

    template = json.loads((outdir / "Shop.template.json").read_text())
    functions = {
        resource["Properties"]["Handler"]: resource["Properties"]["Code"]["S3Key"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
    }
    assert set(functions) == {"cart.api.handler", "cart.aggregator.handler", "cart.delete_worker.handler"}
    for handler, key in functions.items():
        asset = outdir / f"asset.{key.removesuffix('.zip')}"
        assert asset.is_dir(), handler
        assert not (asset / "products").exists()
        assert not (asset / "requirements.txt").exists()
        module = handler.rsplit(".", 1)[0].replace(".", "/") + ".py"
        assert (asset / "cart" / "api.py").is_file(), handler
        assert (asset / module).is_file(), handler
        assert (asset / "shared" / "cors.py").is_file(), "the code both function packages import"
