"""Emulated Lambda service: functions from the cloud assembly, each run in its own worker processes.

Every function gets execution environments (child processes, see lambda_worker.py) started with its
own environment variables and its asset directory as the only code on the path. Environments are
reused between invocations (warm starts), more are started under concurrent load up to the function's
concurrency limit, and an invocation that outlives the function's timeout kills its environment, as
Lambda does. An environment that dies, idle or during an invocation, fails the invocation that finds
it dead with Lambda's Runtime.ExitError (never a success without a payload), and is replaced.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from . import lambda_worker

WORKER_SCRIPT = Path(lambda_worker.__file__)


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    arn: str
    handler: str
    code_dir: Path
    environment: dict[str, str]
    timeout_seconds: int = 3
    memory_mb: int = 128
    max_concurrency: int = 4


@dataclass
class InvocationResult:
    payload: Any = None
    error: dict[str, Any] | None = None
    duration_ms: float = 0.0
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def failed(self) -> bool:
        return self.error is not None


class _ExecutionEnvironment:
    """One worker process serving one invocation at a time."""

    def __init__(self, spec: FunctionSpec, base_environment: dict[str, str], log: TextIO) -> None:
        self.spec = spec
        to_child_read, to_child_write = os.pipe()
        from_child_read, from_child_write = os.pipe()
        environment = {
            **base_environment,
            **spec.environment,
            "_HANDLER": spec.handler,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"local/{uuid.uuid4().hex}",
            "LAMBDA_TASK_ROOT": str(spec.code_dir),
            "PYTHONPATH": str(spec.code_dir),
            "PYTHONUNBUFFERED": "1",
        }
        self.process = subprocess.Popen(
            [sys.executable, str(WORKER_SCRIPT), str(to_child_read), str(from_child_write)],
            cwd=spec.code_dir,
            env=environment,
            pass_fds=(to_child_read, from_child_write),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        os.close(to_child_read)
        os.close(from_child_write)
        self._to_child = os.fdopen(to_child_write, "wb")
        self._from_child = os.fdopen(from_child_read, "rb")
        self._log_thread = threading.Thread(target=self._forward_logs, args=(log,), daemon=True)
        self._log_thread.start()
        self._ready = False

    def _forward_logs(self, log: TextIO) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            log.write(f"[{self.spec.name}] {line}")
            log.flush()

    def invoke(self, event: Any, timeout_seconds: float) -> InvocationResult:
        """Runs one invocation; raises TimeoutError (and kills the process) when it overruns."""
        result = InvocationResult()
        deadline = time.time() + timeout_seconds
        response: dict[str, Any] = {}

        def exchange() -> None:
            request = {
                "event": event,
                "requestId": result.request_id,
                "functionArn": self.spec.arn,
                "deadline": deadline,
            }
            try:
                if not self._ready:
                    self._ready = lambda_worker.read_message(self._from_child) is not None
                if self._ready:
                    lambda_worker.write_message(self._to_child, request)
                    message = lambda_worker.read_message(self._from_child)
                    if isinstance(message, dict) and ("result" in message or "error" in message):
                        response.update(message)
            except (OSError, ValueError):
                pass  # the pipe broke (the process died, idle or busy) or its last message was cut short
            if not response:
                response["error"] = _crash_error(self.process, result.request_id)

        started = time.perf_counter()
        exchanger = threading.Thread(target=exchange, daemon=True)
        exchanger.start()
        # The first invocation also waits for the cold start (imports), as Lambda's init phase does.
        exchanger.join(timeout_seconds + (0 if self._ready else 30))
        result.duration_ms = (time.perf_counter() - started) * 1000
        if exchanger.is_alive():
            self.kill()
            raise TimeoutError(f"Task timed out after {timeout_seconds:.2f} seconds")
        if "error" in response:
            result.error = response["error"]
        else:
            result.payload = response.get("result")
        return result

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self._to_child, self._from_child):
            with contextlib.suppress(OSError):
                stream.close()


def _crash_error(process: subprocess.Popen[str], request_id: str) -> dict[str, Any]:
    """What Lambda reports for an invocation whose runtime process exited, as it words it."""
    try:
        code = process.wait(timeout=5)  # the pipe breaks a moment before the exit status is known
    except subprocess.TimeoutExpired:
        process.kill()  # alive but no longer talking: no use to anyone
        code = process.wait()
    # Worded as Lambda's (Go) runtime words it: "signal: killed", "exit status 1".
    signal_name = (signal.strsignal(-code) or str(-code)).lower() if code < 0 else ""
    reason = f"signal: {signal_name}" if code < 0 else f"exit status {code}"
    return {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: {reason}",
    }


class LocalFunction:
    """A function and its pool of execution environments."""

    def __init__(self, spec: FunctionSpec, base_environment: dict[str, str], log: TextIO) -> None:
        self.spec = spec
        self._base_environment = base_environment
        self._log = log
        self._idle: list[_ExecutionEnvironment] = []
        self._all: list[_ExecutionEnvironment] = []
        self._slots = threading.BoundedSemaphore(spec.max_concurrency)
        self._lock = threading.Lock()
        self.invocations = 0
        self.cold_starts = 0

    def prewarm(self) -> None:
        with self._lock:
            if not self._all:
                environment = self._start_environment()
                self._idle.append(environment)

    def _start_environment(self) -> _ExecutionEnvironment:
        environment = _ExecutionEnvironment(self.spec, self._base_environment, self._log)
        self._all.append(environment)
        self.cold_starts += 1
        return environment

    def invoke(self, event: Any) -> InvocationResult:
        with self._slots:
            with self._lock:
                self.invocations += 1
                environment = self._idle.pop() if self._idle else self._start_environment()
            try:
                result = environment.invoke(event, self.spec.timeout_seconds)
            except TimeoutError as timeout:
                with self._lock:
                    self._all.remove(environment)
                return InvocationResult(error={"errorType": "Sandbox.Timedout", "errorMessage": str(timeout)})
            with self._lock:
                if environment.alive:
                    self._idle.append(environment)
                else:
                    self._all.remove(environment)
            return result

    def shutdown(self) -> None:
        with self._lock:
            environments, self._all, self._idle = self._all, [], []
        for environment in environments:
            environment.kill()


class LambdaService:
    """The functions of the assembly, found by name or ARN."""

    def __init__(self, base_environment: dict[str, str], log: TextIO | None = None) -> None:
        self._base_environment = base_environment
        self._log = log or sys.stdout
        self._functions: dict[str, LocalFunction] = {}

    def add(self, spec: FunctionSpec) -> LocalFunction:
        function = LocalFunction(spec, self._base_environment, self._log)
        self._functions[spec.name] = function
        self._functions[spec.arn] = function
        return function

    def get(self, name_or_arn: str) -> LocalFunction:
        return self._functions[name_or_arn]

    @property
    def functions(self) -> list[LocalFunction]:
        return list({id(f): f for f in self._functions.values()}.values())

    def invoke(self, name_or_arn: str, event: Any) -> InvocationResult:
        return self.get(name_or_arn).invoke(event)

    def prewarm(self, names_or_arns: set[str]) -> None:
        functions = [f for f in self.functions if {f.spec.name, f.spec.arn} & names_or_arns]
        threads = [threading.Thread(target=f.prewarm, daemon=True) for f in functions]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def shutdown(self) -> None:
        for function in self.functions:
            function.shutdown()
