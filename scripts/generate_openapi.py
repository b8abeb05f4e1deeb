"""Write the OpenAPI documents of the cart and product APIs to docs/openapi/ (`make openapi`).

The documents come from the runtime's own resolvers, so they always match the routes and models the
handlers validate against. Needs no environment and no AWS access: the runtime reads neither at
import time.

    python scripts/generate_openapi.py            # writes docs/openapi/cart.json and products.json
    python scripts/generate_openapi.py --check    # fails when the files on disk are out of date
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "docs" / "openapi"


def documents() -> dict[str, str]:
    """File name -> JSON text of each API's OpenAPI document."""
    # Lambda puts runtime/ at the root of the import path; do the same.
    runtime = str(REPO_ROOT / "runtime")
    if runtime not in sys.path:
        sys.path.insert(0, runtime)
    from cart.api import app as cart_app
    from products.api import app as products_app

    schemas = {"cart.json": cart_app, "products.json": products_app}
    # Indented and key-sorted, so that a change to the API shows as a readable diff.
    return {
        name: json.dumps(
            with_web_acl_answers(json.loads(app.get_openapi_json_schema())), indent=2, sort_keys=True
        )
        + "\n"
        for name, app in schemas.items()
    }


def with_web_acl_answers(document: dict) -> dict:
    """Both stages sit behind a web ACL whose managed rules (oversized URI path, query string, cookie
    or body; no User-Agent; known bad inputs) answer 403 before any route runs: every operation can
    answer it, so every operation documents it."""
    for methods in document.get("paths", {}).values():
        for operation in methods.values():
            operation.setdefault("responses", {}).setdefault(
                "403",
                {
                    "description": "Blocked by the API's web ACL (AWS WAF), or not allowed",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}
                    },
                },
            )
    return document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the OpenAPI documents of the cart and product APIs.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="directory (default: docs/openapi)")
    parser.add_argument("--check", action="store_true", help="fail if the files on disk are out of date")
    args = parser.parse_args(argv)
    stale = []
    for name, text in documents().items():
        path = args.out / name
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    if stale:
        print("out of date, run `make openapi`: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
