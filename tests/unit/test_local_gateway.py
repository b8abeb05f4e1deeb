"""The local gateway on its own: served from a stand-in for its Backend protocol (the interface it owns
and the local stack implements), and the local/ modules free of import cycles."""

from __future__ import annotations

import ast
import inspect
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from local.apigateway import HttpRequest, HttpResponse
from local.gateway import Backend, LocalGateway
from local.stack import LocalStack

LOCAL = Path(__file__).resolve().parents[2] / "local"


class EchoApi:
    def __init__(self) -> None:
        self.requests: list[HttpRequest] = []

    def handle(self, request: HttpRequest) -> HttpResponse:
        self.requests.append(request)
        return HttpResponse.json(200, {"path": request.path, "query": request.query})


class StandIn:
    """Implements Backend and nothing more."""

    def __init__(self) -> None:
        self.echo = EchoApi()
        self.advanced: list[float] = []

    @property
    def config(self) -> dict[str, Any]:
        return {"region": "eu-west-1"}

    @property
    def storefront_headers(self) -> list[tuple[str, str]]:
        return [("X-Frame-Options", "DENY")]

    def api(self, api_id: str) -> EchoApi | None:
        return self.echo if api_id == "echo" else None

    def status(self) -> dict[str, Any]:
        return {"ok": True}

    def advance_time(self, seconds: float) -> dict[str, Any]:
        self.advanced.append(seconds)
        return {"advancedSeconds": seconds}

    def wait_until_idle(self, timeout: float) -> bool:
        return timeout > 0


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, StandIn]]:
    (tmp_path / "index.html").write_text("<!doctype html><title>shop</title>")
    backend = StandIn()
    gateway = LocalGateway(
        ("127.0.0.1", 0), backend, cognito_endpoint="http://127.0.0.1:9", static_dir=tmp_path, access_log=None
    )
    thread = threading.Thread(target=gateway.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{gateway.server_address[1]}", backend
    finally:
        gateway.shutdown()
        gateway.server_close()
        thread.join(timeout=10)


def test_the_gateway_serves_from_any_backend(served: tuple[str, StandIn]) -> None:
    url, backend = served
    assert requests.get(f"{url}/config.json", timeout=10).json() == {"region": "eu-west-1"}

    answer = requests.get(f"{url}/api/echo/cart/p1?x=1", timeout=10)
    assert answer.json() == {"path": "/cart/p1", "query": [["x", "1"]]}
    assert backend.echo.requests[0].source_ip == "127.0.0.1"
    missing = requests.get(f"{url}/api/other/cart", timeout=10)
    assert (missing.status_code, missing.json()) == (404, {"message": "no API other"})

    page = requests.get(f"{url}/checkout", timeout=10)  # a client-side route
    assert page.status_code == 200
    assert "<title>shop</title>" in page.text
    assert page.headers["X-Frame-Options"] == "DENY"


def test_the_control_endpoints_reach_the_backend(served: tuple[str, StandIn]) -> None:
    url, backend = served
    assert requests.get(f"{url}/_local/status", timeout=10).json() == {"ok": True}
    advanced = requests.post(f"{url}/_local/advance-time", json={"seconds": 90}, timeout=10)
    assert advanced.json() == {"advancedSeconds": 90.0}
    assert backend.advanced == [90.0]
    refused = requests.post(f"{url}/_local/advance-time", json={"seconds": -1}, timeout=10)
    assert refused.status_code == 400
    assert backend.advanced == [90.0]
    assert requests.post(f"{url}/_local/drain", json={"timeout": 0}, timeout=10).status_code == 504


def _members(protocol: type) -> dict[str, Any]:
    return {
        name: value
        for name, value in vars(protocol).items()
        if not name.startswith("_") and (callable(value) or isinstance(value, property))
    }


def test_the_local_stack_implements_the_gateway_backend() -> None:
    members = _members(Backend)
    assert set(members) == {
        "config",
        "storefront_headers",
        "api",
        "status",
        "advance_time",
        "wait_until_idle",
    }
    for name, member in members.items():
        implemented = inspect.getattr_static(LocalStack, name)
        assert isinstance(implemented, property) == isinstance(member, property), name
        if not isinstance(member, property):
            expected = list(inspect.signature(member).parameters)
            assert list(inspect.signature(implemented).parameters)[: len(expected)] == expected, name


def _imports(module: Path) -> set[str]:
    """The local/ modules that `module` imports, at run time or for type checking alone."""
    found = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found |= {node.module} if node.module else {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("local."):
            found.add(node.module.removeprefix("local."))
        elif isinstance(node, ast.Import):
            found |= {a.name.removeprefix("local.") for a in node.names if a.name.startswith("local.")}
    return {name.split(".")[0] for name in found}


def test_local_modules_import_each_other_one_way() -> None:
    graph = {path.stem: _imports(path) for path in LOCAL.glob("*.py")}
    assert graph["gateway"] & {"stack"} == set()

    def cycle_from(start: str, node: str, seen: tuple[str, ...]) -> tuple[str, ...] | None:
        for successor in sorted(graph.get(node, ())):
            if successor == start:
                return (*seen, successor)
            if successor not in seen:
                found = cycle_from(start, successor, (*seen, successor))
                if found:
                    return found
        return None

    cycles = [cycle for module in sorted(graph) if (cycle := cycle_from(module, module, (module,)))]
    assert cycles == [], cycles
