"""local/lambda_runtime.py: an execution environment that dies, idle or during an invocation, makes
that invocation fail with Lambda's Runtime.ExitError (never a silent success with no payload), and the
next invocation gets a fresh environment."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.lambda_runtime import FunctionSpec, LocalFunction

HANDLER = """
import os
import signal
import sys


def handler(event, context):
    if event.get("kill"):
        os.kill(os.getpid(), signal.SIGKILL)
    if "exit" in event:
        sys.exit(event["exit"])
    return {"pid": os.getpid()}
"""


@pytest.fixture
def function(tmp_path: Path) -> Iterator[LocalFunction]:
    (tmp_path / "crashing.py").write_text(HANDLER)
    spec = FunctionSpec(
        name="crashing",
        arn="arn:aws:lambda:us-east-1:123456789012:function:crashing",
        handler="crashing.handler",
        code_dir=tmp_path,
        environment={},
        timeout_seconds=60,  # generous: nothing here may end by timing out
        max_concurrency=1,
    )
    with (tmp_path / "function.log").open("w") as log:
        local_function = LocalFunction(spec, {"PATH": os.environ.get("PATH", "")}, log)
        yield local_function
        local_function.shutdown()


def wait_until_dead(pid: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return  # a zombie: exited, not yet reaped by the runtime
        except FileNotFoundError:
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} did not die")


def test_an_environment_killed_while_idle_fails_the_next_invocation_then_a_fresh_one_serves(
    function: LocalFunction,
):
    first = function.invoke({})
    os.kill(first.payload["pid"], signal.SIGKILL)
    wait_until_dead(first.payload["pid"])  # its pipes closed: the next request cannot even be sent

    crashed = function.invoke({})
    served = function.invoke({})

    assert crashed.failed
    assert crashed.payload is None
    assert crashed.error["errorType"] == "Runtime.ExitError"
    assert crashed.error["errorMessage"] == (
        f"RequestId: {crashed.request_id} Error: Runtime exited with error: signal: killed"
    )
    assert not served.failed
    assert served.payload["pid"] != first.payload["pid"]
    assert function.cold_starts == 2


@pytest.mark.parametrize(
    ("event", "reason"), [({"kill": True}, "signal: killed"), ({"exit": 3}, "exit status 3")]
)
def test_an_environment_that_dies_during_an_invocation_fails_that_invocation(
    function: LocalFunction, event: dict, reason: str
):
    crashed = function.invoke(event)
    served = function.invoke({})

    assert crashed.error["errorType"] == "Runtime.ExitError"
    assert crashed.error["errorMessage"].endswith(f"Runtime exited with error: {reason}")
    assert not served.failed
    assert function.cold_starts == 2
