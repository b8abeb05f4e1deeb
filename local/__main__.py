"""`python -m local`: synthesize the app and run it on this machine until Ctrl-C.

python -m local [--port 8080] [--host 127.0.0.1] [-c key=value ...] [--assembly DIR]
python -m local advance-time 25h [--port 8080]     # expire TTL items as if 25 hours had passed
                                                  # (default port: $PORT, else that of `make dev`)
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
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from .synth import REPO_ROOT, synthesize

DURATION = re.compile(r"^(?P<value>\d+(?:\.\d+)?)(?P<unit>[smhd]?)$")
UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
DEFAULT_PORT = 8080
PORT_FILE = REPO_ROOT / ".local" / "port"


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
    from .stack import DEFAULT_PASSWORD, LocalStack, absolute_urls

    started = time.monotonic()
    assembly = arguments.assembly
    if assembly is None:
        print("local: synthesizing the CDK app (cached when nothing changed)...", flush=True)
        outdir = Path(arguments.outdir) if arguments.outdir else REPO_ROOT / ".local" / "cdk.out"
        assembly = synthesize(outdir, parse_context(arguments.context))
    static_dir = Path(arguments.static_dir) if arguments.static_dir else REPO_ROOT / "frontend" / "dist"
    port = arguments.port if arguments.port is not None else int(os.environ.get("PORT", DEFAULT_PORT))
    stack = LocalStack(assembly, host=arguments.host, port=port, static_dir=static_dir)
    stopped = threading.Event()

    def request_stop(*_args: Any) -> None:
        stopped.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    stack.start()
    took = time.monotonic() - started
    config = absolute_urls(stack.config, stack.url)
    port_file = record_port(stack.port) if arguments.assembly is None and arguments.outdir is None else None
    users = "\n".join(
        f"    {email:<22} {DEFAULT_PASSWORD}{'   (admin group)' if admin else ''}"
        for email, admin in stack.users
    )
    print(
        f"""
  Serverless Shopping Cart is running locally (ready in {took:.1f}s)

    Storefront and APIs   {stack.url}
    Runtime config        {stack.url}/config.json
    Cart API              {config.get("cartApiUrl", "-")}
    Product API           {config.get("productApiUrl", "-")}

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
    if port_file is not None:
        port_file.unlink(missing_ok=True)
    stack.stop()
    return 0


def record_port(port: int) -> Path:
    """Where `advance-time` finds the port of `make dev` (PORT=... make dev), without --port."""
    PORT_FILE.parent.mkdir(parents=True, exist_ok=True)
    PORT_FILE.write_text(f"{port}\n")
    return PORT_FILE


def running_port(explicit: int | None) -> int:
    """--port, else $PORT, else the port `make dev` recorded, else 8080."""
    if explicit is not None:
        return explicit
    if os.environ.get("PORT"):
        return int(os.environ["PORT"])
    try:
        return int(PORT_FILE.read_text().strip())
    except (OSError, ValueError):
        return DEFAULT_PORT


def advance_time(arguments: argparse.Namespace) -> int:
    port = running_port(arguments.port)
    url = f"http://127.0.0.1:{port}/_local/advance-time"
    request = urllib.request.Request(
        url,
        data=json.dumps({"seconds": arguments.duration}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            print(json.dumps(json.loads(response.read()), indent=2))
    except urllib.error.HTTPError as error:
        print(f"local: {url} answered {error.code}: {error.read().decode(errors='replace')}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        print(
            f"local: no local stack answers on port {port} ({reason}).\n"
            "  Start one with `make dev` (PORT=8081 make dev for another port), or pass --port.",
            file=sys.stderr,
        )
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__.split("\n")[0])
    subcommands = parser.add_subparsers(dest="command")
    parser.add_argument("--port", type=int, default=None, help="default: $PORT, else 8080")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--assembly", help="serve this cloud assembly instead of synthesizing the app")
    parser.add_argument("--outdir", help="where to synthesize the app (default: .local/cdk.out)")
    parser.add_argument("--static-dir", help="storefront build to serve (default: frontend/dist)")
    parser.add_argument("-c", "--context", action="append", default=[], help="CDK context override key=value")
    travel = subcommands.add_parser("advance-time", help="expire TTL items as if this much time had passed")
    travel.add_argument("duration", type=parse_duration, help="e.g. 90, 30m, 25h, 2d")
    # SUPPRESS: a --port given before the subcommand is kept.
    travel.add_argument("--port", type=int, default=argparse.SUPPRESS, help="default: $PORT, else make dev's")
    arguments = parser.parse_args(argv)
    if arguments.command == "advance-time":
        return advance_time(arguments)
    return serve(arguments)


if __name__ == "__main__":
    sys.exit(main())
