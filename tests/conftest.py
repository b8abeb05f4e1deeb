"""Fixtures shared by every suite. The local stack is started once per session, on a free port, the
way `make dev` starts it, and stopped with Ctrl-C (SIGINT) at the end."""

from __future__ import annotations

import pytest

from tests.support.local_stack import RunningStack, start_local_stack, stop_local_stack


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> RunningStack:
    stack = start_local_stack(tmp_path_factory.mktemp("local-stack"))
    yield stack
    if stack.process.poll() is None:
        stop_local_stack(stack)
