"""The built storefront passes the content security policy that CloudFront sends with it.

The Frontend stack's response headers policy is read from the synthesized template (not copied here),
turned into the HTTP headers CloudFront adds to every response, and served with frontend/dist by a small
local server that also stubs /config.json, /product and /cart on the same origin (as the distribution
does). Headless Chromium loads the pages; any CSP violation (a `securitypolicyviolation` event, or a
console message about the policy) fails the test. A negative control serves the same page under a
deliberately tighter policy and must see violations, so the detector itself is tested.

Self-contained: no shared conftest, no AWS, no local stack. Needs frontend/dist (`make test` builds it)
and Debian's Chromium.
"""

from __future__ import annotations

import json
import mimetypes
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
DIST = REPO_ROOT / "frontend" / "dist"
REGION = "us-east-1"
PSEUDO_PARAMETERS = {"AWS::Region": REGION, "AWS::URLSuffix": "amazonaws.com", "AWS::Partition": "aws"}

PRODUCTS = [
    {
        "productId": "trail-lantern",
        "name": "Trail Lantern",
        "category": "Lighting",
        "description": "A rechargeable LED lantern.",
        "price": 3499,
        "image": "/images/trail-lantern.svg",
    },
    {
        "productId": "camp-mug",
        "name": "Camp Mug",
        "category": "Kitchen",
        "description": "An enamel mug.",
        "price": 1299,
        # A data: URI image: img-src must allow it.
        "image": "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='4' height='4'/%3E",
    },
    {
        "productId": "no-picture",
        "name": "No Picture",
        "category": "Misc",
        "description": "Falls back to the initials tile.",
        "price": 100,
        "image": "/images/missing.svg",
    },
]
SVG = b"<svg xmlns='http://www.w3.org/2000/svg' width='8' height='8'><rect width='8' height='8'/></svg>"

# What the page does to report violations; added before any of the page's own scripts run.
COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__cspViolations.push({
    directive: event.violatedDirective,
    blocked: event.blockedURI,
    source: event.sourceFile,
    sample: event.sample,
  });
});
"""


# --- the policy, from the synthesized Frontend stack -----------------------------------------------


def _resolve(value: Any) -> Any:
    """The few intrinsics a response headers policy holds: Fn::Join over strings and pseudo parameters."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Ref" in value:
        return PSEUDO_PARAMETERS[value["Ref"]]
    if isinstance(value, dict) and "Fn::Join" in value:
        delimiter, parts = value["Fn::Join"]
        return delimiter.join(_resolve(part) for part in parts)
    raise AssertionError(f"unexpected value in the response headers policy: {value!r}")


def headers_of_policy(config: dict[str, Any]) -> dict[str, str]:
    """The response headers CloudFront adds for a ResponseHeadersPolicyConfig (override: replace)."""
    headers: dict[str, str] = {}
    security = config.get("SecurityHeadersConfig", {})
    if "ContentSecurityPolicy" in security:
        headers["Content-Security-Policy"] = _resolve(
            security["ContentSecurityPolicy"]["ContentSecurityPolicy"]
        )
    if "StrictTransportSecurity" in security:
        hsts = security["StrictTransportSecurity"]
        value = f"max-age={hsts['AccessControlMaxAgeSec']}"
        if hsts.get("IncludeSubdomains"):
            value += "; includeSubDomains"
        if hsts.get("Preload"):
            value += "; preload"
        headers["Strict-Transport-Security"] = value
    if "ContentTypeOptions" in security:
        headers["X-Content-Type-Options"] = "nosniff"
    if "FrameOptions" in security:
        headers["X-Frame-Options"] = security["FrameOptions"]["FrameOption"]
    if "ReferrerPolicy" in security:
        headers["Referrer-Policy"] = security["ReferrerPolicy"]["ReferrerPolicy"]
    if "XSSProtection" in security:
        xss = security["XSSProtection"]
        value = "1" if xss["Protection"] else "0"
        if xss["Protection"] and xss.get("ModeBlock"):
            value += "; mode=block"
        headers["X-XSS-Protection"] = value
    for custom in config.get("CustomHeadersConfig", {}).get("Items", []):
        headers[custom["Header"]] = _resolve(custom["Value"])
    return headers


@pytest.fixture(scope="module")
def policy_headers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The headers of the Frontend stack's response headers policy, as `cdk synth` writes it."""
    if not (DIST / "index.html").is_file():
        pytest.fail(f"{DIST} is not built: run `make test` (it builds the storefront) or `npm run build`")
    from app import build_app

    outdir = tmp_path_factory.mktemp("cdk-frontend")
    context = {"aws:cdk:bundling-stacks": [], "frontendPath": str(DIST)}
    assembly = build_app(context, outdir=str(outdir)).synth()
    [frontend] = [stack for stack in assembly.stacks if stack.stack_name.endswith("-Frontend")]
    template = json.loads(Path(frontend.template_full_path).read_text())
    [policy] = [
        resource["Properties"]["ResponseHeadersPolicyConfig"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::CloudFront::ResponseHeadersPolicy"
    ]
    return headers_of_policy(policy)


# --- the same-origin shop: storefront files, config.json and stubbed APIs ---------------------------


@dataclass
class Shop:
    """A local stand-in for the distribution; ``headers`` are added to every response."""

    headers: dict[str, str]
    requests: list[str] = field(default_factory=list)
    url: str = ""

    def config(self) -> dict[str, Any]:
        # No userPoolEndpoint: Amplify would talk to the real Cognito host (allowed by connect-src),
        # but nothing calls it while a guest browses.
        return {
            "region": REGION,
            "userPoolId": f"{REGION}_CspTest01",
            "userPoolClientId": "csptestclient0000000000000",
            "cartApiUrl": self.url,
            "productApiUrl": self.url,
        }


def _handler(shop: Shop) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            shop.requests.append(path)
            if path == "/config.json":
                self._send(200, "application/json", json.dumps(shop.config()).encode())
            elif path == "/product":
                self._send(200, "application/json", json.dumps({"products": PRODUCTS}).encode())
            elif path == "/cart":
                self._send(200, "application/json", json.dumps({"products": []}).encode())
            elif path == "/images/trail-lantern.svg":
                self._send(200, "image/svg+xml", SVG)
            else:
                self._static(path)

        def _static(self, path: str) -> None:
            last = path.rsplit("/", 1)[-1]
            # The distribution's SPA function: a path without a dot in its last segment is a route.
            relative = "index.html" if "." not in last else path.lstrip("/")
            file = (DIST / relative).resolve()
            if not file.is_relative_to(DIST.resolve()) or not file.is_file():
                self._send(403, "application/xml", b"<Error><Code>AccessDenied</Code></Error>")
                return
            content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            self._send(200, content_type, file.read_bytes())

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            for name, value in shop.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

    return Handler


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[ThreadingHTTPServer] = []

    def start(headers: dict[str, str]) -> Shop:
        shop = Shop(headers=headers)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(shop))
        server.daemon_threads = True
        shop.url = f"http://127.0.0.1:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return shop

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


# --- the browser --------------------------------------------------------------------------------------


# The session's shared Chromium (`browser` in tests/e2e/conftest.py): Playwright's sync API allows one
# driver per thread at a time.


@dataclass
class Visit:
    violations: list[dict[str, Any]]
    csp_console: list[str]
    page_errors: list[str]
    grid_cards: int


def visit(browser: Any, url: str, *, expect_grid: bool) -> Visit:
    context = browser.new_context()
    page = context.new_page()
    console: list[str] = []
    page_errors: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    page.add_init_script(COLLECT_VIOLATIONS)
    try:
        page.goto(url, wait_until="load")
        cards = 0
        if expect_grid:
            page.wait_for_selector("[data-testid=product-grid] [data-testid=product-card]", timeout=15_000)
            cards = page.locator("[data-testid=product-card]").count()
        else:
            page.wait_for_timeout(1500)
        # Images load after the grid renders; give the browser a moment to report on them too.
        page.wait_for_load_state("networkidle")
        violations = page.evaluate("window.__cspViolations")
    finally:
        context.close()
    csp_console = [text for text in console if "content security policy" in text.lower()]
    return Visit(violations=violations, csp_console=csp_console, page_errors=page_errors, grid_cards=cards)


# --- tests --------------------------------------------------------------------------------------------


def test_the_policy_has_the_expected_headers(policy_headers: dict[str, str]) -> None:
    csp = {
        directive.split()[0]: directive.split()[1:]
        for directive in policy_headers["Content-Security-Policy"].split("; ")
    }
    assert csp["script-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert f"https://cognito-idp.{REGION}.amazonaws.com" in csp["connect-src"]
    assert policy_headers["Strict-Transport-Security"].startswith("max-age=")
    assert policy_headers["X-Content-Type-Options"] == "nosniff"
    assert policy_headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("route", ["/", "/signin", "/signup", "/order/complete"])
def test_the_storefront_passes_its_content_security_policy(
    browser: Any, serve: Any, policy_headers: dict[str, str], route: str
) -> None:
    shop = serve(policy_headers)
    result = visit(browser, shop.url + route, expect_grid=route == "/")
    assert result.violations == []
    assert result.csp_console == []
    assert result.page_errors == []
    if route == "/":
        assert result.grid_cards == len(PRODUCTS)
        assert "/product" in shop.requests
    assert "/config.json" in shop.requests


@pytest.mark.parametrize(
    ("allowed", "tighter", "directive"),
    [
        # The page's own modules: nothing runs, nothing is fetched.
        ("script-src 'self'", "script-src 'none'", "script-src"),
        # config.json and the APIs are fetched from the page's origin.
        ("connect-src 'self'", "connect-src 'none'", "connect-src"),
        # One product's picture is a data: URI.
        ("img-src 'self' data:", "img-src 'self'", "img-src"),
    ],
    ids=["script-src", "connect-src", "img-src"],
)
def test_a_tighter_policy_is_caught(
    browser: Any, serve: Any, policy_headers: dict[str, str], allowed: str, tighter: str, directive: str
) -> None:
    """Negative controls: the same page under a policy without what it needs reports violations."""
    headers = dict(policy_headers)
    assert allowed in headers["Content-Security-Policy"]
    headers["Content-Security-Policy"] = headers["Content-Security-Policy"].replace(allowed, tighter)
    shop = serve(headers)
    result = visit(browser, shop.url + "/", expect_grid=directive == "img-src")
    assert any(v["directive"].startswith(directive) for v in result.violations), result
    assert result.csp_console, "Chromium reports the blocked resource in the console"
    if directive == "script-src":
        assert "/config.json" not in shop.requests
    if directive == "connect-src":
        assert result.grid_cards == 0
        assert "/product" not in shop.requests
