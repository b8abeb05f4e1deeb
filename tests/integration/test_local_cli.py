"""`python -m local` (what `make dev` runs): it serves until Ctrl-C, then leaves nothing behind."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest
import requests

from local.synth import synthesize
from tests.support.local_stack import REPO_ROOT, free_port, processes_under

from .test_wiring import WIRING_APP

pytestmark = pytest.mark.integration


def test_ctrl_c_stops_every_process_and_frees_the_port(tmp_path):
    assembly = synthesize(tmp_path / "cdk.out", app_dir=WIRING_APP)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "local", "--assembly", str(assembly), "--port", str(port)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                config = requests.get(f"http://localhost:{port}/config.json", timeout=1).json()
                break
            except (requests.ConnectionError, requests.Timeout):  # not up yet, or a busy machine
                time.sleep(0.3)
        api = config["wiringApiUrl"].rstrip("/")
        assert requests.get(f"{api}/echo/x", timeout=30).status_code == 200
        assert processes_under(assembly), "the function runs in its own execution environment"

        process.send_signal(subprocess.signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    output = process.stdout.read().decode()
    assert "admin@example.com" in output
    assert "Passw0rd!" in output

    time.sleep(0.5)
    assert processes_under(assembly) == []
    with socket.socket() as again:
        again.bind(("127.0.0.1", port))  # the port is free
