"""The product service client: answers, failures, timeout and the in-container cache."""

from __future__ import annotations

import time

import pytest

from cart.errors import DependencyUnavailableError, ProductNotFoundError
from cart.product_client import ProductClient

from .support import closed_port_url


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def client_for(products_mock, clock=time.monotonic, cache_seconds=60.0, timeout=0.3):
    return ProductClient(products_mock.url, timeout_seconds=timeout, cache_seconds=cache_seconds, clock=clock)


def test_returns_the_products_details(products_mock):
    product = client_for(products_mock).get_product("trail-lantern")

    assert product["productId"] == "trail-lantern"
    assert product["price"] == 3499
    assert products_mock.requests == ["/product/trail-lantern"]


def test_caches_answers_for_the_configured_time(products_mock):
    clock = FakeClock()
    client = client_for(products_mock, clock=clock, cache_seconds=60)

    client.get_product("trail-lantern")
    clock.now += 59
    client.get_product("trail-lantern")
    assert len(products_mock.requests) == 1

    clock.now += 2
    client.get_product("trail-lantern")
    assert len(products_mock.requests) == 2


def test_zero_cache_seconds_turns_the_cache_off(products_mock):
    client = client_for(products_mock, cache_seconds=0)

    client.get_product("trail-lantern")
    client.get_product("trail-lantern")

    assert len(products_mock.requests) == 2


def test_unknown_product_is_not_found_and_not_cached(products_mock):
    client = client_for(products_mock)

    for _ in range(2):
        with pytest.raises(ProductNotFoundError):
            client.get_product("no-such-product")

    assert len(products_mock.requests) == 2


@pytest.mark.parametrize("mode", ["error", "garbage", "slow"])
def test_failures_are_dependency_errors(products_mock, mode):
    products_mock.mode = mode

    with pytest.raises(DependencyUnavailableError):
        client_for(products_mock).get_product("trail-lantern")

    # The timeout ended the wait: the slow answer (held up to a minute) was never sent.
    assert not products_mock.slow_answered.is_set()


def test_null_product_is_not_found(products_mock):
    products_mock.mode = "null-product"

    with pytest.raises(ProductNotFoundError):
        client_for(products_mock).get_product("trail-lantern")


def test_refused_connection_is_a_dependency_error():
    client = ProductClient(closed_port_url(), timeout_seconds=0.3, cache_seconds=60)

    with pytest.raises(DependencyUnavailableError):
        client.get_product("trail-lantern")


def test_a_non_http_url_is_never_opened(tmp_path):
    (tmp_path / "product").mkdir()
    (tmp_path / "product" / "x").write_text('{"product": {"productId": "x"}}')
    client = ProductClient(f"file://{tmp_path}", timeout_seconds=0.3, cache_seconds=60)

    with pytest.raises(DependencyUnavailableError):
        client.get_product("x")


def test_an_answer_about_another_product_is_rejected(products_mock):
    products_mock.mode = "other-product"

    with pytest.raises(DependencyUnavailableError):
        client_for(products_mock).get_product("headlamp-pro")


@pytest.mark.parametrize("where", ["headers", "body"])
def test_an_answer_that_trickles_in_is_cut_off_at_the_timeout(where):
    """Every read gets a byte within the socket timeout; only the whole answer is slow. The timeout
    bounds the whole exchange (found by tests/reliability: it used to take as long as the server)."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler

    from .support import serve

    body = json.dumps({"product": {"productId": "x"}}).encode()
    finished = threading.Event()

    class Trickling(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            head = f"HTTP/1.0 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            data = head + body if where == "headers" else body
            try:
                if where == "body":
                    self.wfile.write(head)
                for byte in data:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.1)  # about 8 s in all, against the client's 0.3 s
                finished.set()
            except OSError:
                pass  # the client hung up

    server, url = serve(Trickling)
    client = ProductClient(url, timeout_seconds=0.3, cache_seconds=0)
    try:
        with pytest.raises(DependencyUnavailableError):
            client.get_product("x")
        # The client gave up while the server was still sending (not after it had sent it all).
        assert not finished.is_set()
    finally:
        server.shutdown()


def test_an_answer_that_arrives_in_time_is_read_whole(products_mock):
    client = client_for(products_mock, timeout=2.0)

    assert client.get_product("trail-lantern")["productId"] == "trail-lantern"
