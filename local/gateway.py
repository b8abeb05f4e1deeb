"""The one local origin: the storefront, /config.json, the REST APIs under /api/<api>, a pass-through
to local Cognito for the storefront's Amplify, and a few /_local control endpoints."""

from __future__ import annotations

import json
import mimetypes
import sys
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol, TextIO
from urllib.parse import parse_qsl, urlsplit

from .apigateway import HttpRequest, HttpResponse

COGNITO_PATH = "/_aws/cognito-idp"
_FORWARDED_COGNITO_HEADERS = ("Content-Type", "X-Amz-Target", "X-Amz-User-Agent", "Cache-Control")

FALLBACK_PAGE = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Serverless Shopping Cart (local)</title></head>
<body><h1>Serverless Shopping Cart</h1>
<p>The storefront is not built (run <code>make dev</code>, which builds it). The APIs work; the products:</p>
<ul id="products"></ul>
<script>
fetch('/config.json').then(r => r.json()).then(c => fetch(c.productApiUrl + '/product'))
  .then(r => r.json()).then(d => { for (const p of d.products) {
    const li = document.createElement('li');
    li.textContent = p.name + ' - $' + (p.price / 100).toFixed(2);
    document.getElementById('products').appendChild(li); } });
</script></body></html>"""


class Api(Protocol):
    """One REST API behind /api/<api id> (the local stack's ApiGatewayEmulator)."""

    def handle(self, request: HttpRequest) -> HttpResponse: ...


class Backend(Protocol):
    """All the gateway asks of what it serves; the local stack implements it. Owned here, so that the
    gateway depends on nothing of the stack's and can be served from a stand-in in tests."""

    @property
    def config(self) -> dict[str, Any]:
        """The storefront's /config.json."""
        ...

    @property
    def storefront_headers(self) -> list[tuple[str, str]]:
        """Added to every storefront file, as the distribution's response headers policy does."""
        ...

    def api(self, api_id: str) -> Api | None: ...

    def status(self) -> dict[str, Any]: ...

    def advance_time(self, seconds: float) -> dict[str, Any]: ...

    def wait_until_idle(self, timeout: float) -> bool: ...


class LocalGateway(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        backend: Backend,
        *,
        cognito_endpoint: str,
        static_dir: Path | None,
        access_log: TextIO | None,
    ) -> None:
        super().__init__(address, _GatewayHandler)
        self.backend = backend
        self.cognito_endpoint = cognito_endpoint  # where /_aws/cognito-idp is passed on to
        self.static_dir = static_dir  # the built storefront, or None for the fallback page
        self.access_log = access_log


class _GatewayHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without this, Nagle and delayed ACKs add 40 ms to each.
    disable_nagle_algorithm = True
    server: LocalGateway

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _dispatch(self) -> None:
        started = time.perf_counter()
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            response = self._route(url.path, url.query, body)
        except Exception as error:  # the emulator's own failure, never a function's
            print(f"local gateway error on {self.command} {url.path}: {error!r}", file=sys.stderr)
            response = HttpResponse.json(500, {"message": "local gateway error"})
        self._send(response)
        if self.server.access_log is not None and not url.path.startswith("/assets/"):
            took = (time.perf_counter() - started) * 1000
            self.server.access_log.write(f"{self.command} {url.path} {response.status} {took:.0f}ms\n")
            self.server.access_log.flush()

    def _route(self, path: str, query: str, body: bytes) -> HttpResponse:
        backend = self.server.backend
        if path == "/config.json" and self.command in {"GET", "HEAD"}:
            return HttpResponse.json(200, backend.config, [("Cache-Control", "no-store")])
        if path.startswith("/_local/"):
            return self._control(path.removeprefix("/_local/"), body)
        if path == COGNITO_PATH or path == COGNITO_PATH + "/":
            return self._cognito(body)
        if path.startswith("/api/"):
            api_id, _, rest = path.removeprefix("/api/").partition("/")
            api = backend.api(api_id)
            if api is None:
                return HttpResponse.json(404, {"message": f"no API {api_id}"})
            return api.handle(self._api_request("/" + rest.lstrip("/"), query, body))
        response = self._static(path)
        # As CloudFront's response headers policy does for the storefront's files.
        response.headers.extend(backend.storefront_headers)
        return response

    def _api_request(self, path: str, query: str, body: bytes) -> HttpRequest:
        headers = [(name, value) for name, value in self.headers.items()]
        host = self.headers.get("Host", "localhost")
        # API Gateway adds these; the cart decides on the cookie's Secure flag from them.
        headers += [
            ("X-Forwarded-For", self.client_address[0]),
            ("X-Forwarded-Proto", "http"),
            ("X-Forwarded-Port", host.rpartition(":")[2] if ":" in host else "80"),
        ]
        return HttpRequest(
            method=self.command,
            path=path,
            query=parse_qsl(query, keep_blank_values=True),
            raw_query=query,
            headers=headers,
            body=body,
            source_ip=self.client_address[0],
        )

    def _control(self, action: str, body: bytes) -> HttpResponse:
        backend = self.server.backend
        try:
            document = json.loads(body or b"{}")
        except ValueError:
            return HttpResponse.json(400, {"message": "body must be JSON"})
        if action == "status" and self.command == "GET":
            return HttpResponse.json(200, backend.status())
        if action == "advance-time" and self.command == "POST":
            seconds = document.get("seconds")
            if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
                return HttpResponse.json(400, {"message": "seconds must be a non-negative number"})
            return HttpResponse.json(200, backend.advance_time(float(seconds)))
        if action == "drain" and self.command == "POST":
            timeout = document.get("timeout", 120)
            drained = backend.wait_until_idle(float(timeout))
            return HttpResponse.json(200 if drained else 504, {"drained": drained})
        return HttpResponse.json(404, {"message": f"no control action {action}"})

    def _cognito(self, body: bytes) -> HttpResponse:
        headers = {name: self.headers[name] for name in _FORWARDED_COGNITO_HEADERS if self.headers.get(name)}
        if self.command == "OPTIONS":
            return HttpResponse(204)
        # moto does not implement RevokeToken, which Amplify calls on sign-out; local tokens simply
        # expire, so answer as Cognito does when the refresh token is revoked.
        if headers.get("X-Amz-Target", "").endswith(".RevokeToken"):
            return HttpResponse(200, [("Content-Type", "application/x-amz-json-1.1")], b"{}")
        request = urllib.request.Request(  # noqa: S310 (a fixed http URL: the local moto server)
            self.server.cognito_endpoint + "/", data=body, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return HttpResponse(response.status, _content_type(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return HttpResponse(error.code, _content_type(error.headers), error.read())

    def _static(self, path: str) -> HttpResponse:
        if self.command not in {"GET", "HEAD"}:
            return HttpResponse.json(405, {"message": "method not allowed"})
        root = self.server.static_dir
        if root is None or not (root / "index.html").is_file():
            if path in {"/", "/index.html"}:
                return HttpResponse(200, [("Content-Type", "text/html; charset=utf-8")], FALLBACK_PAGE)
            return HttpResponse.json(404, {"message": "not found"})
        candidate = (root / path.lstrip("/")).resolve()
        if candidate.is_relative_to(root) and candidate.is_file():
            return _file_response(candidate, immutable=path.startswith("/assets/"))
        if "." in Path(path).name:
            return HttpResponse.json(404, {"message": "not found"})
        # A client-side route of the single-page app.
        return _file_response(root / "index.html", immutable=False)

    def _send(self, response: HttpResponse) -> None:
        self.send_response(response.status)
        names = {name.lower() for name, _ in response.headers}
        for name, value in response.headers:
            if name.lower() not in {"content-length", "connection", "transfer-encoding"}:
                self.send_header(name, value)
        if "content-type" not in names and response.body:
            self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)


def _content_type(headers: Any) -> list[tuple[str, str]]:
    value = headers.get("Content-Type")
    return [("Content-Type", value)] if value else []


def _file_response(path: Path, *, immutable: bool) -> HttpResponse:
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if content_type.startswith("text/") or content_type in {"application/javascript", "image/svg+xml"}:
        content_type += "; charset=utf-8"
    cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
    return HttpResponse(200, [("Content-Type", content_type), ("Cache-Control", cache)], path.read_bytes())
