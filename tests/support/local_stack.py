"""Run the real local stack (`python -m local`, as `make dev` does) on a free port, for tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import requests

from local.stack import absolute_urls

REPO_ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Passw0rd!"
# Short enough that tests do not wait on the aggregator; set through the construct's props (context).
# Every local client is 127.0.0.1, a single key for the web ACL's per-IP rate rules: the suites send
# thousands of requests in minutes, so they raise the limit (the rate rules have tests of their own).
TEST_CONTEXT = ("totalsBatchingWindowSeconds=1", "wafRateLimit=100000000")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def processes_under(directory: Path) -> list[int]:
    """PIDs of the processes whose working directory is inside `directory` (Lambda environments)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cwd = Path(os.readlink(entry / "cwd"))
            except OSError:
                continue
            if cwd.is_relative_to(directory):
                found.append(int(entry.name))
    return found


@dataclass
class RunningStack:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    assembly_dir: Path
    log_path: Path

    @property
    def config(self) -> dict[str, Any]:
        """config.json with its same-origin paths made absolute, as the browser resolves them."""
        return absolute_urls(self.raw_config, self.url)

    @property
    def raw_config(self) -> dict[str, Any]:
        return requests.get(f"{self.url}/config.json", timeout=10).json()

    @property
    def aws_endpoint(self) -> str:
        return requests.get(f"{self.url}/_local/status", timeout=10).json()["awsEndpoint"]

    def aws(self, service: str):
        return boto3.client(
            service,
            endpoint_url=self.aws_endpoint,
            region_name=self.config["region"],
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    def sign_in(self, email: str, password: str = PASSWORD) -> str:
        """An ID token from local Cognito, through the endpoint the storefront uses."""
        config = self.config
        cognito = boto3.client(
            "cognito-idp",
            endpoint_url=config["userPoolEndpoint"],
            region_name=config["region"],
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        result = cognito.initiate_auth(
            ClientId=config["userPoolClientId"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
        return result["AuthenticationResult"]["IdToken"]

    def drain(self, timeout: float = 120) -> None:
        response = requests.post(f"{self.url}/_local/drain", json={"timeout": timeout}, timeout=timeout + 10)
        assert response.status_code == 200, "stream and queue pollers did not drain"

    def advance_time(self, seconds: float) -> dict[str, Any]:
        return requests.post(f"{self.url}/_local/advance-time", json={"seconds": seconds}, timeout=60).json()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_local_stack(work_dir: Path, extra_context: tuple[str, ...] = ()) -> RunningStack:
    port = free_port()
    assembly_dir = work_dir / "cdk.out"
    log_path = work_dir / "local.log"
    command = [sys.executable, "-m", "local", "--port", str(port), "--outdir", str(assembly_dir)]
    for pair in (*TEST_CONTEXT, *extra_context):
        command += ["-c", pair]
    log_file = log_path.open("wb")
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=log_file, stderr=subprocess.STDOUT)
    stack = RunningStack(f"http://localhost:{port}", port, process, assembly_dir, log_path)
    deadline = time.monotonic() + 300  # a cold synth of the app takes most of this on a busy machine
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"local stack exited with {process.returncode}:\n{stack.log()}")
        try:
            if requests.get(f"{stack.url}/config.json", timeout=2).status_code == 200:
                return stack
        except (requests.ConnectionError, requests.Timeout):
            pass  # not listening yet, or listening but still busy starting
        time.sleep(0.5)
    process.kill()
    raise RuntimeError(f"local stack did not start:\n{stack.log()}")


def stop_local_stack(stack: RunningStack) -> int:
    stack.process.send_signal(signal.SIGINT)
    return stack.process.wait(timeout=60)
