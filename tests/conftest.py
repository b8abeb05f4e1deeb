"""Fixtures shared by every suite. The local stack is started once per session, on a free port, the
way `make dev` starts it, and stopped with Ctrl-C (SIGINT) at the end."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.local_stack import RunningStack, start_local_stack, stop_local_stack

# The pinned Node LTS of package.json first on PATH, as the Makefile puts it, for the jsii process that
# aws-cdk-lib starts here and for every app, CLI and local stack a test runs, also under a bare pytest.
NODE_BIN = Path(__file__).resolve().parents[1] / "node_modules" / ".bin"
if NODE_BIN.is_dir() and not os.environ.get("PATH", "").startswith(str(NODE_BIN)):
    os.environ["PATH"] = f"{NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> RunningStack:
    stack = start_local_stack(tmp_path_factory.mktemp("local-stack"))
    yield stack
    if stack.process.poll() is None:
        stop_local_stack(stack)
