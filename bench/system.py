"""Measurements of the whole system and of the artefacts: latency through the local stack (started as
the tests start it), cold-start import times in fresh interpreters, and Lambda asset sizes."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from tests.reliability.http_support import Shopper, new_user
from tests.support.local_stack import REPO_ROOT, start_local_stack, stop_local_stack

from .inprocess import Figure

SAMPLES = 40
RESULTS = REPO_ROOT / "bench" / "results"


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)]
    return round(statistics.median(ordered), 1), round(p95, 1)


def latency() -> list[Figure]:
    """p50 and p95 per endpoint through the local stack: gateway, Lambda worker processes, moto."""
    work = Path(tempfile.mkdtemp(prefix="bench-stack-"))
    cached = RESULTS / "cdk.out"
    if cached.is_dir():
        import shutil

        shutil.copytree(cached, work / "cdk.out", symlinks=True)
    stack = start_local_stack(work)
    figures: list[Figure] = []
    try:
        if not cached.is_dir():
            import shutil

            shutil.copytree(stack.assembly_dir, cached, symlinks=True)
        config = stack.config
        cart_api, product_api = config["cartApiUrl"], config["productApiUrl"]
        product = "trail-lantern"
        _, token = new_user(stack)
        admin = stack.sign_in("admin@example.com")
        browser = Shopper(cart_api)
        browser.add(product, 1)
        signed_in = Shopper(cart_api, token)
        signed_in.add(product, 1)

        def timed(send) -> float:
            started = time.perf_counter()
            response = send()
            took = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, response.text
            return took

        endpoints: dict[str, Any] = {
            "GET /product": lambda: requests.get(f"{product_api}/product", timeout=30),
            "GET /product/{id}": lambda: requests.get(f"{product_api}/product/{product}", timeout=30),
            "GET /cart (cookie)": lambda: browser.request("GET", "/cart"),
            "GET /cart (token)": lambda: signed_in.request("GET", "/cart"),
            "POST /cart": lambda: browser.add(product, 1),
            "PUT /cart/{id}": lambda: browser.set(product, 2),
            "GET /cart/totals": lambda: requests.get(
                f"{cart_api}/cart/totals", headers={"Authorization": f"Bearer {admin}"}, timeout=30
            ),
            "GET /cart/{id}/total": lambda: requests.get(
                f"{cart_api}/cart/{product}/total", headers={"Authorization": f"Bearer {admin}"}, timeout=30
            ),
        }
        for name, send in endpoints.items():
            send()  # warm
            p50, p95 = _percentiles([timed(send) for _ in range(SAMPLES)])
            figures.append(
                Figure("latency (local stack)", f"{name} p50", p50, 50.0, "ms", p50 <= 50.0, f"p95 {p95} ms")
            )
            figures.append(Figure("latency (local stack)", f"{name} p95", p95, 100.0, "ms", p95 <= 100.0, ""))
        for name, prepare, send in (
            (
                "POST /cart/migrate (3 lines)",
                lambda shopper: [
                    shopper.add(p, 1) for p in ("trail-lantern", "dome-tent-2p", "titanium-pot")
                ],
                lambda shopper: shopper.migrate(),
            ),
            (
                "POST /cart/checkout (3 lines)",
                lambda shopper: [
                    shopper.add(p, 1) for p in ("trail-lantern", "dome-tent-2p", "titanium-pot")
                ],
                lambda shopper: shopper.checkout(),
            ),
        ):
            samples = []
            for _ in range(SAMPLES // 2):
                shopper = Shopper(cart_api)
                if "checkout" in name:
                    shopper.token = token
                prepare(shopper)
                shopper.token = token
                samples.append(timed(lambda shopper=shopper, send=send: send(shopper)))
            p50, p95 = _percentiles(samples)
            figures.append(
                Figure(
                    "latency (local stack)",
                    f"{name} p50",
                    p50,
                    100.0,
                    "ms",
                    p50 <= 100.0,
                    f"p95 {p95} ms; {SAMPLES // 2} samples",
                )
            )
            figures.append(Figure("latency (local stack)", f"{name} p95", p95, 200.0, "ms", p95 <= 200.0, ""))
    finally:
        stop_local_stack(stack)
    return figures


IMPORT_SNIPPET = """
import os, sys, time
sys.path.insert(0, {runtime!r})
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "bench")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
started = time.perf_counter()
import {module}
print((time.perf_counter() - started) * 1000)
"""
FLOOR_MODULES = (
    "boto3, jwt, aws_lambda_powertools.event_handler, aws_lambda_powertools.utilities.batch, pydantic"
)


def _import_ms(module: str, repeat: int = 5) -> float:
    samples = []
    for _ in range(repeat):
        output = subprocess.run(
            [sys.executable, "-c", IMPORT_SNIPPET.format(runtime=str(REPO_ROOT / "runtime"), module=module)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "0"},
        )
        samples.append(float(output.stdout.strip().splitlines()[-1]))
    return round(statistics.median(samples), 1)


def cold_start() -> list[Figure]:
    """Import time of each handler module in a fresh interpreter, against the import time of its
    dependencies alone (the floor no handler code can go below)."""
    floor = _import_ms(FLOOR_MODULES)
    figures = [
        Figure(
            "cold start (import)",
            "dependencies alone (floor)",
            floor,
            floor,
            "ms",
            True,
            f"{FLOOR_MODULES}; median of 5 fresh interpreters",
        )
    ]
    for module in ("cart.api", "cart.aggregator", "cart.delete_worker", "products.api"):
        measured = _import_ms(module)
        target = round(floor + 100, 1)
        figures.append(
            Figure(
                "cold start (import)",
                module,
                measured,
                target,
                "ms",
                measured <= target,
                "target: the floor + 100 ms of our own code (resolver, models, OpenAPI)",
            )
        )
    return figures


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())


def _sources(path: Path) -> int:
    return sum(
        file.stat().st_size
        for file in path.rglob("*")
        if file.is_file() and "__pycache__" not in file.parts and file.suffix in {".py", ".json", ".txt"}
    )


def asset_sizes() -> list[Figure]:
    """Each function's asset (as synthesized for the local stack: the same folders CDK uploads) and the
    dependencies layer (built as the construct bundles it: pip for manylinux2014_aarch64, cp313)."""
    figures: list[Figure] = []
    assembly = RESULTS / "cdk.out"
    if assembly.is_dir():
        seen = set()
        for template_path in sorted(assembly.glob("*.template.json")):
            template = json.loads(template_path.read_text())
            for logical_id, resource in template.get("Resources", {}).items():
                if resource.get("Type") != "AWS::Lambda::Function":
                    continue
                asset = resource.get("Metadata", {}).get("aws:asset:path")
                if not asset or asset in seen:
                    continue
                seen.add(asset)
                path = assembly / asset
                handler = resource["Properties"].get("Handler", "")
                package = REPO_ROOT / "runtime" / handler.split(".")[0]
                if not package.is_dir():
                    continue  # not one of ours (a CDK provider function, e.g. BucketDeployment)
                measured = round(_size(path) / 1024, 1)
                target = round((_sources(package) + 1024) / 1024, 1)
                figures.append(
                    Figure(
                        "asset size",
                        f"code asset of {handler.split('.')[0]} ({logical_id[:40]})",
                        measured,
                        target,
                        "KiB",
                        measured <= target,
                        "target: the package's own sources (+1 KiB): no tests, no caches, no other package",
                    )
                )
    with tempfile.TemporaryDirectory() as target_dir:
        built = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--platform",
                "manylinux2014_aarch64",
                "--implementation",
                "cp",
                "--python-version",
                "3.13",
                "--only-binary=:all:",
                "--target",
                target_dir,
                "-r",
                str(REPO_ROOT / "runtime" / "requirements.txt"),
            ],
            capture_output=True,
            text=True,
        )
        if built.returncode == 0:
            size = round(_size(Path(target_dir)) / 1024 / 1024, 2)
            figures.append(
                Figure(
                    "asset size",
                    "dependencies layer (PyJWT, cryptography)",
                    size,
                    10.0,
                    "MiB unzipped",
                    size <= 10.0,
                    "pip install -r runtime/requirements.txt for manylinux2014_aarch64/cp313; Lambda's limit is 250 MiB in all",
                )
            )
        else:
            figures.append(
                Figure(
                    "asset size", "dependencies layer", "n/a", 10.0, "MiB unzipped", None, built.stderr[-300:]
                )
            )
    return figures
