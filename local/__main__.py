"""`python -m local`: synthesize the app and run it on this machine until Ctrl-C.

python -m local [--port 8080] [--host 127.0.0.1] [-c key=value ...] [--assembly DIR]
python -m local advance-time 25h [--port 8080]     # expire TTL items as if 25 hours had passed
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from .synth import REPO_ROOT, synthesize

DURATION = re.compile(r"^(?P<value>\d+(?:\.\d+)?)(?P<unit>[smhd]?)$")
UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    match = DURATION.match(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (examples: 90, 30m, 25h, 2d)")
    return float(match.group("value")) * UNIT_SECONDS[match.group("unit")]


def parse_context(pairs: list[str]) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator:
            raise SystemExit(f"context must be key=value, got {pair!r}")
        try:
            context[key] = json.loads(value)
        except ValueError:
            context[key] = value
    return context


def serve(arguments: argparse.Namespace) -> int:
    from .stack import DEFAULT_PASSWORD, LocalStack

    started = time.monotonic()
    assembly = arguments.assembly
    if assembly is None:
        print("local: synthesizing the CDK app (cached when nothing changed)...", flush=True)
        outdir = Path(arguments.outdir) if arguments.outdir else REPO_ROOT / ".local" / "cdk.out"
        assembly = synthesize(outdir, parse_context(arguments.context))
    static_dir = Path(arguments.static_dir) if arguments.static_dir else REPO_ROOT / "frontend" / "dist"
    stack = LocalStack(assembly, host=arguments.host, port=arguments.port, static_dir=static_dir)
    stopped = threading.Event()

    def request_stop(*_args: Any) -> None:
        stopped.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    stack.start()
    took = time.monotonic() - started
    users = "\n".join(
        f"    {email:<22} {DEFAULT_PASSWORD}{'   (admin group)' if admin else ''}"
        for email, admin in stack.users
    )
    print(
        f"""
  Serverless Shopping Cart is running locally (ready in {took:.1f}s)

    Storefront and APIs   {stack.url}
    Runtime config        {stack.url}/config.json
    Cart API              {stack.config.get("cartApiUrl", "-")}
    Product API           {stack.config.get("productApiUrl", "-")}

  Users (local Cognito):
{users}
    Sign-up works too: locally no email is sent and any 6-digit code confirms the account.

  Make time pass for TTL expiry:  .venv/bin/python -m local advance-time 25h --port {stack.port}
  Press Ctrl-C to stop.
""",
        flush=True,
    )
    stopped.wait()
    print("local: stopping...", flush=True)
    stack.stop()
    return 0


def advance_time(arguments: argparse.Namespace) -> int:
    request = urllib.request.Request(
        f"http://localhost:{arguments.port}/_local/advance-time",
        data=json.dumps({"seconds": arguments.duration}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        print(json.dumps(json.loads(response.read()), indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__.split("\n")[0])
    default_port = int(os.environ.get("PORT", "8080"))
    subcommands = parser.add_subparsers(dest="command")
    parser.add_argument("--port", type=int, default=default_port)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--assembly", help="serve this cloud assembly instead of synthesizing the app")
    parser.add_argument("--outdir", help="where to synthesize the app (default: .local/cdk.out)")
    parser.add_argument("--static-dir", help="storefront build to serve (default: frontend/dist)")
    parser.add_argument("-c", "--context", action="append", default=[], help="CDK context override key=value")
    travel = subcommands.add_parser("advance-time", help="expire TTL items as if this much time had passed")
    travel.add_argument("duration", type=parse_duration, help="e.g. 90, 30m, 25h, 2d")
    travel.add_argument("--port", type=int, default=default_port)
    arguments = parser.parse_args(argv)
    if arguments.command == "advance-time":
        return advance_time(arguments)
    return serve(arguments)


if __name__ == "__main__":
    sys.exit(main())
