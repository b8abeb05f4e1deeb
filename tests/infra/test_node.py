"""The Node that aws-cdk-lib's jsii and the CDK CLI run on: the LTS that package.json pins (the npm
package `node` brings its binary), first on PATH for the tests as for the Makefile, supported by jsii
(no end-of-life banner), and nothing in the repo silencing that banner instead."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Active or maintenance LTS lines that jsii supports; Node 20 reached its end of life on 2026-10-30.
SUPPORTED_MAJORS = {22, 24}


def _pinned_node() -> str:
    return json.loads((REPO / "package.json").read_text())["devDependencies"]["node"]


def test_package_json_pins_a_supported_node_lts() -> None:
    pinned = _pinned_node()
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned), f"an exact version: {pinned}"
    assert int(pinned.split(".")[0]) in SUPPORTED_MAJORS
    lock = json.loads((REPO / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/node"]["version"] == pinned


def test_the_pinned_node_is_the_one_on_path() -> None:
    node = shutil.which("node")
    assert node is not None
    assert Path(node) == REPO / "node_modules" / ".bin" / "node", node
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout
    assert version.strip() == f"v{_pinned_node()}"


def test_aws_cdk_imports_without_a_banner() -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("JSII_")}
    result = subprocess.run(
        [sys.executable, "-c", "import aws_cdk"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_nothing_silences_jsii() -> None:
    tracked = subprocess.run(
        ["git", "grep", "-l", "JSII_SILENCE"], cwd=REPO, capture_output=True, text=True, check=False
    ).stdout.split()
    assert [path for path in tracked if path != "tests/infra/test_node.py"] == []
