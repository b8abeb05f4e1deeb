"""Synthesize the CDK app for the local stack, the way the CDK CLI drives an app (CDK_OUTDIR and
CDK_CONTEXT_JSON), with asset bundling skipped: locally the functions' dependencies come from .venv.

The result is cached: when neither the app's sources nor the context changed, the previous assembly
is reused, so `make dev` on a warm machine starts in seconds.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("app.py", "cdk.json", "stacks", "constructs", "runtime")
FINGERPRINT_FILE = ".local-fingerprint"
#: CORS origins of the local stack (the storefront on the default port and Vite's dev server). The
#: deployed app has none by default (cdk.json), so they are given here, under any override.
LOCAL_ALLOWED_ORIGINS = ["http://localhost:8080", "http://localhost:5173"]


def _context(overrides: dict[str, Any], app_dir: Path) -> dict[str, Any]:
    cdk_json = app_dir / "cdk.json"
    context = json.loads(cdk_json.read_text()).get("context", {}) if cdk_json.is_file() else {}
    # The CLI turns asset metadata on; the local stack finds each function's code through it.
    return {
        **context,
        "allowedOrigins": LOCAL_ALLOWED_ORIGINS,
        **overrides,
        "aws:cdk:bundling-stacks": [],
        "aws:cdk:enable-asset-metadata": True,
    }


def _fingerprint(context: dict[str, Any], app_dir: Path) -> str:
    digest = hashlib.sha256(json.dumps(context, sort_keys=True).encode())
    for source in SOURCES:
        path = app_dir / source
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts:
                digest.update(str(file.relative_to(app_dir)).encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()


def synthesize(
    outdir: Path,
    overrides: dict[str, Any] | None = None,
    *,
    app_dir: Path = REPO_ROOT,
    app_command: list[str] | None = None,
) -> Path:
    context = _context(overrides or {}, app_dir)
    fingerprint = _fingerprint(context, app_dir)
    marker = outdir / FINGERPRINT_FILE
    if marker.is_file() and marker.read_text() == fingerprint and (outdir / "manifest.json").is_file():
        return outdir
    outdir.mkdir(parents=True, exist_ok=True)
    environment = {
        **os.environ,
        "CDK_OUTDIR": str(outdir),
        "CDK_CONTEXT_JSON": json.dumps(context),
    }
    subprocess.run(app_command or [sys.executable, "app.py"], cwd=app_dir, env=environment, check=True)
    marker.write_text(fingerprint)
    return outdir
