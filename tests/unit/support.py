"""Helpers of the runtime's unit tests: events as API Gateway sends them, a view of the moto stack,
the identity provider and product service doubles (their servers are fixtures in conftest.py)."""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from moto.core.botocore_stubber import BotocoreStubber

# Powertools reads these when the runtime modules are imported (Tracer, Metrics). Tracing is off
# outside Lambda anyway; saying so keeps the tests from ever looking for an X-Ray daemon.
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ShoppingCart")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "shopping-cart")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

import cart.api
import cart.identity
import cart.product_client
import cart.repository
import cart.settings
import products.api
from local.moto_atomicity import make_dynamodb_requests_atomic

REGION = "us-east-1"
CLIENT_ID = "test-client-id"
ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TEST"
ADMIN_GROUP = "admin"
ANONYMOUS_TTL = 86400
USER_TTL = 604800


# -- moto: serialise requests, count them -----------------------------------------------------------------

_moto_lock = threading.Lock()
_original_process_request = BotocoreStubber.process_request


class AwsRequestLog:
    """The AWS operations the code under test made (e.g. "DynamoDB_20120810.Query")."""

    def __init__(self) -> None:
        self.operations: list[str] = []

    def clear(self) -> None:
        self.operations.clear()

    def count(self, operation: str) -> int:
        return sum(1 for name in self.operations if name.endswith("." + operation))

    def counts(self) -> Counter[str]:
        return Counter(name.rsplit(".", 1)[-1] for name in self.operations)


request_log = AwsRequestLog()


def _serialised_process_request(self: BotocoreStubber, request: Any) -> Any:
    # Real DynamoDB applies each request (and each transaction) atomically. moto does not lock, so
    # without this, threads could interleave inside one moto request; between requests they still race
    # freely, which is what the concurrency tests need.
    with _moto_lock:
        target = request.headers.get("X-Amz-Target")
        if target:
            request_log.operations.append(target.decode() if isinstance(target, bytes) else target)
        return _original_process_request(self, request)


@contextlib.contextmanager
def serialised_moto_requests() -> Iterator[None]:
    """Atomic moto requests (see _serialised_process_request), counted, and DynamoDB's transactions and
    streams as the local stack runs them (local/moto_atomicity.py: rollback by an undo journal)."""
    make_dynamodb_requests_atomic()
    BotocoreStubber.process_request = _serialised_process_request  # type: ignore[method-assign]
    try:
        yield
    finally:
        BotocoreStubber.process_request = _original_process_request  # type: ignore[method-assign]


# -- local HTTP servers ------------------------------------------------------------------------------------


def serve(handler_class: type[BaseHTTPRequestHandler]) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


class LambdaContext:
    function_name = "test-function"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id = "test-request"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000


def api_event(
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    multi_headers: dict[str, list[str]] | None = None,
    body: str | None = None,
) -> dict[str, Any]:
    """An API Gateway REST (v1) proxy event, as API Gateway sends it."""
    multi = {name: [value] for name, value in (headers or {}).items()}
    multi.update(multi_headers or {})
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {name: values[-1] for name, values in multi.items()} or None,
        "multiValueHeaders": multi or None,
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "stage": "prod",
            "httpMethod": method,
            "path": path,
        },
        "body": body,
        "isBase64Encoded": False,
    }


@dataclass
class ProductServiceMock:
    """The product mock's real handler behind a real HTTP server, with failure modes."""

    url: str
    mode: str = "normal"  # normal | error | slow | garbage | null-product | other-product
    # A slow answer is held until `release` is set (each test's end), at most this long.
    slow_seconds: float = 60.0
    requests: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    # Set once a slow answer has been sent: a client that gave up before did not wait for it.
    slow_answered: threading.Event = field(default_factory=threading.Event)

    def reset(self) -> None:
        self.mode = "normal"
        self.requests.clear()
        # New events, not cleared ones: an answer held by the last test sets only its own.
        self.release = threading.Event()
        self.slow_answered = threading.Event()


def closed_port_url() -> str:
    """A URL nothing listens on: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@dataclass
class IdentityProvider:
    """Signs tokens the way Cognito does; its keys are served from a local JWKS endpoint."""

    jwks_url: str
    private_key: Any
    kid: str = "test-key"
    jwks_requests: list[str] = field(default_factory=list)

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "sub": "user-1",
            "iss": ISSUER,
            "aud": CLIENT_ID,
            "token_use": "id",
            "iat": now,
            "exp": now + 3600,
            "email": "user@example.com",
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def token(self, key: Any = None, kid: str | None = None, **overrides: Any) -> str:
        return jwt.encode(
            self.claims(**overrides),
            key or self.private_key,
            algorithm="RS256",
            headers={"kid": kid or self.kid},
        )

    def admin_token(self, sub: str = "admin-1") -> str:
        return self.token(sub=sub, **{"cognito:groups": [ADMIN_GROUP]})


def start_identity_provider() -> tuple[ThreadingHTTPServer, IdentityProvider]:
    """A fresh RSA key and a real local JWKS endpoint serving its public half, as Cognito serves a
    pool's keys. The caller shuts the server down."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key()))
    provider: IdentityProvider

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            provider.jwks_requests.append(self.path)
            body = json.dumps({"keys": [{**jwk, "kid": provider.kid, "alg": "RS256", "use": "sig"}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server, url = serve(Handler)
    provider = IdentityProvider(jwks_url=f"{url}/.well-known/jwks.json", private_key=private_key)
    return server, provider


# -- the AWS environment and the runtime's caches ---------------------------------------------------------


def clear_runtime_caches() -> None:
    """The runtime caches its settings and what depends on them per container; a test is a new container.

    The boto3 clients are kept: they hold no per-test state (moto intercepts every client made after
    moto was imported), and making them is the slowest part of a test's setup.
    """
    cart.settings.get_settings.cache_clear()
    cart.repository.get_repository.cache_clear()
    cart.product_client.get_product_client.cache_clear()
    cart.identity._jwks_client.cache_clear()
    cart.api._cart_service.cache_clear()
    products.api._allowed_origins.cache_clear()


@dataclass
class AwsStack:
    """One test's table (with its stream) and delete queue, in the session's moto."""

    dynamodb: Any
    sqs: Any
    streams: Any
    table_name: str
    queue_url: str
    _last_sequence_number: str | None = None

    # -- table
    def put_line(
        self,
        pk: str,
        product_id: str,
        quantity: int,
        *,
        expires_in: int = 3600,
        migrated_to: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        item: dict[str, Any] = {
            "pk": {"S": pk},
            "sk": {"S": f"product#{product_id}"},
            "productId": {"S": product_id},
            "quantity": {"N": str(quantity)},
            "productDetail": {"M": {k: {"S": str(v)} for k, v in (detail or {"name": product_id}).items()}},
            "expirationTime": {"N": str(int(time.time()) + expires_in)},
        }
        if migrated_to:
            item["migratedTo"] = {"S": migrated_to}
        self.dynamodb.put_item(TableName=self.table_name, Item=item)

    def get_item(self, pk: str, sk: str) -> dict[str, Any] | None:
        return self.dynamodb.get_item(TableName=self.table_name, Key={"pk": {"S": pk}, "sk": {"S": sk}}).get(
            "Item"
        )

    def scan(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {"TableName": self.table_name}
        while True:
            page = self.dynamodb.scan(**request)
            items.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                return items
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def quantities(self, pk: str) -> dict[str, int]:
        """Every stored line of a cart (live or not): product -> quantity."""
        return {
            item["sk"]["S"].removeprefix("product#"): int(item["quantity"]["N"])
            for item in self.scan()
            if item["pk"]["S"] == pk
        }

    def expected_totals(self) -> dict[str, int]:
        """What the totals must be: the sum over stored, unmigrated cart lines (DESIGN.md, Totals)."""
        totals: Counter[str] = Counter()
        for item in self.scan():
            if item["pk"]["S"].startswith(("cart#", "user#")) and "migratedTo" not in item:
                totals[item["sk"]["S"].removeprefix("product#")] += int(item["quantity"]["N"])
        return {product: quantity for product, quantity in totals.items() if quantity}

    def stored_totals(self) -> dict[str, int]:
        totals = {}
        for item in self.scan():
            if item["pk"]["S"] == "totals" and int(item["quantity"]["N"]):
                totals[item["sk"]["S"].removeprefix("product#")] = int(item["quantity"]["N"])
        return totals

    # -- stream
    def stream_records(self) -> list[dict[str, Any]]:
        """New stream records since the last call, filtered as the event source mapping filters them.

        A fresh iterator every time, after the last sequence number read, as Lambda's poller reads.
        """
        arn = self.dynamodb.describe_table(TableName=self.table_name)["Table"]["LatestStreamArn"]
        shard = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        position: dict[str, Any] = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": self._last_sequence_number}
            if self._last_sequence_number
            else {"ShardIteratorType": "TRIM_HORIZON"}
        )
        iterator = self.streams.get_shard_iterator(StreamArn=arn, ShardId=shard, **position)["ShardIterator"]
        records: list[dict[str, Any]] = []
        while True:
            response = self.streams.get_records(ShardIterator=iterator)
            if not response["Records"]:
                break
            records.extend(response["Records"])
            iterator = response["NextShardIterator"]
        if records:
            self._last_sequence_number = records[-1]["dynamodb"]["SequenceNumber"]
        return [
            record
            for record in records
            if record["dynamodb"]["Keys"]["pk"]["S"].startswith(("cart#", "user#"))
        ]

    def delete(self) -> None:
        self.dynamodb.delete_table(TableName=self.table_name)
        self.sqs.delete_queue(QueueUrl=self.queue_url)

    def receive_all(self) -> list[dict[str, Any]]:
        messages = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not batch:
                return messages
            messages.extend(batch)
            for message in batch:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


@dataclass(frozen=True)
class MotoClients:
    dynamodb: Any
    sqs: Any
    streams: Any


_stack_numbers = itertools.count()


def create_stack(clients: MotoClients) -> AwsStack:
    """A fresh table and queue under new names (cheaper than restarting moto for every test)."""
    number = next(_stack_numbers)
    table_name = f"cart-table-{number}"
    clients.dynamodb.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    queue_url = clients.sqs.create_queue(QueueName=f"cart-delete-queue-{number}")["QueueUrl"]
    return AwsStack(
        dynamodb=clients.dynamodb,
        sqs=clients.sqs,
        streams=clients.streams,
        table_name=table_name,
        queue_url=queue_url,
    )


# -- calling the handlers -------------------------------------------------------------------------------


@dataclass
class ApiResult:
    status: int
    body: Any
    headers: dict[str, list[str]]

    @property
    def set_cookies(self) -> list[str]:
        return self.headers.get("Set-Cookie", [])

    @property
    def cart_id(self) -> str | None:
        """The cartId this response sets, if any."""
        for cookie in self.set_cookies:
            name, _, rest = cookie.partition("=")
            if name == "cartId":
                return rest.split(";")[0]
        return None

    def header(self, name: str) -> str | None:
        for key, values in self.headers.items():
            if key.lower() == name.lower():
                return values[0]
        return None


CallApi = Callable[..., ApiResult]


def invoke_api(
    handler: Callable[[dict[str, Any], Any], dict[str, Any]],
    method: str,
    path: str,
    *,
    json_body: Any = None,
    raw_body: str | None = None,
    token: str | None = None,
    cart_id: str | None = None,
    headers: dict[str, str] | None = None,
    multi_headers: dict[str, list[str]] | None = None,
) -> ApiResult:
    all_headers = {"Host": "api.example.com", "X-Forwarded-Proto": "https"}
    if json_body is not None or raw_body is not None:
        all_headers["Content-Type"] = "application/json"
    if token is not None:
        all_headers["Authorization"] = token
    if cart_id is not None:
        all_headers["Cookie"] = f"cartId={cart_id}"
    all_headers.update(headers or {})
    body = raw_body if raw_body is not None else (json.dumps(json_body) if json_body is not None else None)
    result = handler(
        api_event(method, path, headers=all_headers, multi_headers=multi_headers, body=body), LambdaContext()
    )
    assert result["statusCode"] < 500 or result["statusCode"] == 503, result
    raw = result["body"]
    if result.get("isBase64Encoded"):
        raw = base64.b64decode(raw).decode()
    return ApiResult(
        status=result["statusCode"],
        body=json.loads(raw) if raw else None,
        headers={name: list(values) for name, values in result.get("multiValueHeaders", {}).items()},
    )


def bearer(token: str) -> str:
    return f"Bearer {token}"
