"""`python -m local` (what `make dev` runs): it serves until Ctrl-C, then leaves nothing behind."""

from __future__ import annotations

import json
import os
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


def wait_for_config(process: subprocess.Popen, port: int) -> dict:
    """config.json once the stack answers; any failure before that (refused, reset, a read timeout
    on a busy machine) is a retry, within a generous deadline."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read().decode()
        try:
            response = requests.get(f"http://localhost:{port}/config.json", timeout=10)
            if response.status_code == 200:
                return response.json()
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise AssertionError("the local stack did not answer within 300 s")


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
        config = wait_for_config(process, port)
        api = f"http://localhost:{port}" + config["wiringApiUrl"].rstrip("/")  # a same-origin path
        assert requests.get(f"{api}/echo/x", timeout=30).status_code == 200
        assert processes_under(assembly), "the function runs in its own execution environment"
        # The README's command, in another shell of `PORT=... make dev`'s user.
        travel = subprocess.run(
            [sys.executable, "-m", "local", "advance-time", "25h"],
            cwd=REPO_ROOT,
            env={**os.environ, "PORT": str(port)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert travel.returncode == 0, travel.stderr
        assert json.loads(travel.stdout)["advancedSeconds"] == 25 * 3600

        process.send_signal(subprocess.signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    output = process.stdout.read().decode()
    assert "admin@example.com" in output
    assert "Passw0rd!" in output

    # The environments exit on their own once the stack has stopped: wait for that, generously.
    deadline = time.monotonic() + 60
    while processes_under(assembly) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_under(assembly) == []
    with socket.socket() as again:
        # As the next `make dev` binds it (SO_REUSEADDR, as LocalGateway): only a listener still
        # open fails, not the TIME_WAIT of a connection the server closed.
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", port))
        again.listen()


def test_advance_time_with_nothing_listening_says_so_without_a_traceback():
    port = free_port()
    travel = subprocess.run(
        [sys.executable, "-m", "local", "advance-time", "25h", "--port", str(port)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert travel.returncode == 1
    assert f"no local stack answers on port {port}" in travel.stderr
    assert "make dev" in travel.stderr
    assert "Traceback" not in travel.stderr
