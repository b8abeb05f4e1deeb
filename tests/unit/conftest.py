"""Fixtures of the runtime's unit tests: moto for DynamoDB and SQS, a real local HTTP product service
(the product mock's own handler behind http.server), a real local JWKS endpoint with an RSA key made
for the session, and the cart handler called with API Gateway events."""

from __future__ import annotations

import os
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import boto3
import pytest
from moto import mock_aws

# support sets the Powertools environment before it imports the runtime: import it first.
from .support import (
    ADMIN_GROUP,
    ANONYMOUS_TTL,
    CLIENT_ID,
    ISSUER,
    REGION,
    USER_TTL,
    ApiResult,
    AwsRequestLog,
    AwsStack,
    CallApi,
    IdentityProvider,
    LambdaContext,
    MotoClients,
    ProductServiceMock,
    api_event,
    clear_runtime_caches,
    create_stack,
    invoke_api,
    request_log,
    serialised_moto_requests,
    serve,
    start_identity_provider,
)


@pytest.fixture(scope="session", autouse=True)
def _atomic_moto_requests() -> Iterator[None]:
    with serialised_moto_requests():
        yield


@pytest.fixture
def aws_requests() -> AwsRequestLog:
    request_log.clear()
    return request_log


@pytest.fixture(scope="session")
def product_service() -> Iterator[ProductServiceMock]:
    state: ProductServiceMock

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            state.requests.append(self.path)
            if state.mode == "slow":
                # This test's events: a later test's reset() makes new ones, which this never sets.
                release, answered = state.release, state.slow_answered
                release.wait(state.slow_seconds)
                answered.set()  # then a valid answer, late
            if state.mode == "error":
                self._send(500, b'{"message": "internal error"}')
                return
            if state.mode == "garbage":
                self._send(200, b"<html>not json</html>")
                return
            if state.mode == "null-product":
                self._send(200, b'{"product": null}')
                return
            if state.mode == "other-product":
                self._send(200, b'{"product": {"productId": "someone-else"}}')
                return
            from products.api import handler as products_handler

            result = products_handler(api_event("GET", self.path), LambdaContext())
            self._send(result["statusCode"], result["body"].encode())

        def _send(self, status: int, body: bytes) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the client gave up (the slow mode's purpose)

    server, url = serve(Handler)
    state = ProductServiceMock(url=url)
    yield state
    server.shutdown()


@pytest.fixture
def products_mock(product_service: ProductServiceMock) -> Iterator[ProductServiceMock]:
    product_service.reset()
    yield product_service
    product_service.release.set()  # a slow answer still held ends now


@pytest.fixture(scope="session")
def identity_provider() -> Iterator[IdentityProvider]:
    server, provider = start_identity_provider()
    yield provider
    server.shutdown()


AWS_TEST_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


@pytest.fixture(scope="session")
def moto_clients() -> Iterator[MotoClients]:
    """One moto for the whole session; each test gets its own table and queue (see `aws`)."""
    saved = {
        name: os.environ.get(name) for name in [*AWS_TEST_ENVIRONMENT, "AWS_ENDPOINT_URL", "AWS_PROFILE"]
    }
    os.environ.update(AWS_TEST_ENVIRONMENT)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("AWS_PROFILE", None)
    with mock_aws():
        yield MotoClients(
            dynamodb=boto3.client("dynamodb", region_name=REGION),
            sqs=boto3.client("sqs", region_name=REGION),
            # botocore now sends streams requests to an account-based host that moto 5.2 does not route.
            streams=boto3.client(
                "dynamodbstreams",
                region_name=REGION,
                endpoint_url=f"https://streams.dynamodb.{REGION}.amazonaws.com",
            ),
        )
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture
def runtime_env(
    monkeypatch: pytest.MonkeyPatch,
    products_mock: ProductServiceMock,
    identity_provider: IdentityProvider,
    moto_clients: MotoClients,
) -> Iterator[dict[str, str]]:
    """The cart's environment as DESIGN.md lists it (TABLE_NAME and DELETE_QUEUE_URL: see `aws`)."""
    env = {
        "TABLE_NAME": "no-table-in-this-test",
        "DELETE_QUEUE_URL": "no-queue-in-this-test",
        "PRODUCT_SERVICE_URL": products_mock.url,
        "USER_POOL_CLIENT_ID": CLIENT_ID,
        "TOKEN_ISSUER": ISSUER,
        "JWKS_URL": identity_provider.jwks_url,
        "ADMIN_GROUP": ADMIN_GROUP,
        "ANONYMOUS_CART_TTL_SECONDS": str(ANONYMOUS_TTL),
        "USER_CART_TTL_SECONDS": str(USER_TTL),
        "MAX_QUANTITY": "1000",
        "ALLOWED_ORIGINS": "https://shop.example.com,http://localhost:5173",
        "PRODUCT_CACHE_SECONDS": "300",
        "PRODUCT_SERVICE_TIMEOUT_SECONDS": "0.3",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    clear_runtime_caches()
    yield env
    clear_runtime_caches()


@pytest.fixture
def aws(
    runtime_env: dict[str, str], moto_clients: MotoClients, monkeypatch: pytest.MonkeyPatch
) -> Iterator[AwsStack]:
    stack = create_stack(moto_clients)
    monkeypatch.setenv("TABLE_NAME", stack.table_name)
    monkeypatch.setenv("DELETE_QUEUE_URL", stack.queue_url)
    clear_runtime_caches()
    yield stack
    stack.delete()


@pytest.fixture
def call(aws: AwsStack) -> CallApi:
    """Call the cart API handler: call("POST", "/cart", json_body={...}, token=..., cart_id=...)."""

    def _call(method: str, path: str, **kwargs: Any) -> ApiResult:
        from cart.api import handler as cart_handler

        return invoke_api(cart_handler, method, path, **kwargs)

    return _call


def pytest_configure(config: pytest.Config) -> None:
    # Powertools warns when an invocation publishes no metric (every read); that is expected here.
    config.addinivalue_line("filterwarnings", "ignore:No application metrics to publish:UserWarning")
    # Raised by Powertools for the malformed multipart bodies the tests send on purpose.
    config.addinivalue_line(
        "filterwarnings", "ignore:Received multipart/form-data without base64:UserWarning"
    )
