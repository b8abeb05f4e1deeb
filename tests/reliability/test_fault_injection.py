"""Fault injection, in-process: the handlers against moto, with AWS failing at precise points (see
faults.py), and Lambda's event sources as the local stack's pollers, configured from the synthesized
event source mappings. Every test ends with the totals equal to a full scan of the cart lines, and no
cart line lost or counted twice.

Why in-process and not through the local stack: a fault must hit one request (the second transaction
of a migration, the DeleteItem of one line), which needs a hook inside the SDK's retry loop.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

import cart.aggregator
import cart.delete_worker
from local.event_sources import DynamoDbStreamPoller
from products.catalogue import load_catalogue
from tests.unit.support import (
    AwsStack,
    CallApi,
    IdentityProvider,
    LambdaContext,
    ProductServiceMock,
    clear_runtime_caches,
    closed_port_url,
    serve,
)

from .faults import (
    FaultyAws,
    LambdaKilled,
    drain_queue,
    in_process,
    internal_server_error,
    queue_poller,
    stream_poller,
    throttled,
    transaction_conflict,
    transaction_throttled,
)

PRODUCTS = sorted(load_catalogue())
LANTERN, TENT = "trail-lantern", "dome-tent-2p"
assert {LANTERN, TENT} <= set(PRODUCTS)
# As many attempts as the runtime's clients make (botocore's standard mode with max_attempts=3 makes 3
# retries, 4 attempts): a fault that fires this often outlasts the SDK's retries.
PERSISTENT = 4


# One poller per table, as Lambda keeps one position per mapping in the stream (each test its table).
_aggregators: dict[str, DynamoDbStreamPoller] = {}


def aggregator(aws: AwsStack) -> DynamoDbStreamPoller:
    """The aggregator's stream event source: the local stack's poller, configured as synthesized."""
    if aws.table_name not in _aggregators:
        invoke = in_process(cart.aggregator.handler, LambdaContext())
        _aggregators[aws.table_name] = stream_poller(
            aws.dynamodb, aws.streams, aws.sqs, aws.table_name, invoke
        )
    return _aggregators[aws.table_name]


def assert_totals_match_a_full_scan(aws: AwsStack) -> None:
    # expected_totals: the sum of the stored, unmigrated cart lines (DESIGN.md, Totals).
    assert aws.stored_totals() == aws.expected_totals()


def arrange_distinct_product_lines(aws: AwsStack, count: int) -> dict[str, int]:
    """`count` lines, one per product, over carts of 8 lines: every 100-record batch then holds 100
    products, which the aggregator writes in two transactions (99 + 1)."""
    expected = {}
    cart_id = ""
    for number in range(count):
        if number % 8 == 0:
            cart_id = str(uuid.uuid4())
        product = f"product-{number:03d}"
        expected[product] = number % 5 + 1
        aws.put_line(f"cart#{cart_id}", product, expected[product])
    return expected


def arrange_changes(aws: AwsStack) -> None:
    """MODIFY and REMOVE records too: a cart's lines change and one is removed."""
    cart_id = str(uuid.uuid4())
    aws.put_line(f"cart#{cart_id}", "product-000", 4)
    aws.put_line(f"cart#{cart_id}", "product-000", 9)
    aws.put_line(f"cart#{cart_id}", "product-001", 2)
    aws.dynamodb.delete_item(
        TableName=aws.table_name, Key={"pk": {"S": f"cart#{cart_id}"}, "sk": {"S": "product#product-001"}}
    )


# -- the aggregator ---------------------------------------------------------------------------------------


def test_aggregator_killed_after_writing_is_redelivered_and_counts_each_change_once(aws, faults):
    arrange_distinct_product_lines(aws, 250)
    arrange_changes(aws)
    # Batches: [100 records: 2 transactions] [100: 2] [54: 1]. The environment dies right after the
    # first transaction (mid-batch), after the fourth (the whole second batch written, not yet
    # acknowledged), and after the fifth (the last batch).
    killed = [
        faults.add("TransactWriteItems", "kill_after", after=after, times=1)
        for after in (0, 3, 5)  # matches are counted across redeliveries
    ]
    delivery = aggregator(aws)

    delivery.poll()

    assert [fault.fired for fault in killed] == [1, 1, 1]
    assert delivery.failed_invocations == 3
    assert delivery.failed_batches == 0
    assert_totals_match_a_full_scan(aws)
    assert aws.stored_totals()["product-000"] == 1 + 9  # the INSERT, and the changed line's last state


def test_aggregator_failing_before_writing_is_redelivered_and_counts_each_change_once(aws, faults):
    arrange_distinct_product_lines(aws, 250)
    arrange_changes(aws)
    # Dies before the second transaction of the first batch (the first one is written), then the
    # table throttles the first transaction of the last batch beyond the SDK's retries.
    dies = faults.add("TransactWriteItems", "kill_before", after=1, times=1)
    throttles = faults.add(
        "TransactWriteItems",
        "error",
        response=lambda _: throttled(),
        when=lambda body: "product#product-249" in json.dumps(body),
        times=PERSISTENT,
    )
    delivery = aggregator(aws)

    delivery.poll()

    assert (dies.fired, throttles.fired) == (1, PERSISTENT)
    assert delivery.failed_invocations == 2
    assert_totals_match_a_full_scan(aws)


def test_aggregator_answer_lost_after_writing_is_retried_by_the_sdk_without_counting_twice(aws, faults):
    arrange_distinct_product_lines(aws, 120)
    # DynamoDB applies the transaction and the answer is lost (read timeout): botocore sends it again
    # with the same ClientRequestToken, and DynamoDB answers the first outcome instead of applying it.
    lost = faults.add("TransactWriteItems", "applied_then_lost", times=2)
    delivery = aggregator(aws)

    delivery.poll()

    assert lost.fired == 2
    assert delivery.failed_invocations == 0
    assert_totals_match_a_full_scan(aws)


def test_aggregator_error_after_writing_whole_batches_goes_through_the_marker(aws, faults):
    """The SDK's retries exhausted after the write was applied (500 three times): the invocation fails,
    Lambda delivers the batch again, and only the batch markers stop a double count."""
    arrange_distinct_product_lines(aws, 40)
    failing = faults.add(
        "TransactWriteItems", "applied_then_error", response=lambda _: internal_server_error(), times=1
    )
    # The SDK's own retries carry the same token: make them fail too, so the invocation fails.
    faults.add(
        "TransactWriteItems", "error", response=lambda _: internal_server_error(), times=PERSISTENT - 1
    )
    delivery = aggregator(aws)

    delivery.poll()

    assert failing.fired == 1
    assert delivery.failed_invocations == 1
    assert_totals_match_a_full_scan(aws)


# -- the delete worker ------------------------------------------------------------------------------------


@pytest.fixture
def redriven_queue(aws: AwsStack, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """A delete queue like the construct's (a DLQ after maxReceiveCount receives), with no visibility
    timeout so that a failed message is received again at once."""
    sqs = aws.sqs
    dlq_url = sqs.create_queue(QueueName=f"reliability-dlq-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue_url = sqs.create_queue(
        QueueName=f"reliability-delete-{uuid.uuid4().hex[:8]}",
        Attributes={
            "VisibilityTimeout": "0",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"}),
        },
    )["QueueUrl"]
    monkeypatch.setenv("DELETE_QUEUE_URL", queue_url)
    clear_runtime_caches()
    yield queue_url, dlq_url
    sqs.delete_queue(QueueUrl=queue_url)
    sqs.delete_queue(QueueUrl=dlq_url)


def test_delete_worker_failures_are_retried_then_dead_lettered_and_nothing_else_is_deleted(
    call: CallApi, aws: AwsStack, faults: FaultyAws, identity_provider: IdentityProvider, redriven_queue
):
    queue_url, dlq_url = redriven_queue
    bought = dict(zip(PRODUCTS[:4], (1, 2, 3, 4), strict=True))
    migrated = {str(uuid.uuid4()): f"mover-{n}" for n in range(3)}
    for cart_id in migrated:
        for product, quantity in bought.items():
            call("POST", "/cart", json_body={"productId": product, "quantity": quantity}, cart_id=cart_id)
    for cart_id, sub in migrated.items():
        assert (
            call("POST", "/cart/migrate", cart_id=cart_id, token=identity_provider.token(sub=sub)).status
            == 200
        )
    # Lines that must survive: a live anonymous cart, and a signed-in cart.
    bystander = str(uuid.uuid4())
    call("POST", "/cart", json_body={"productId": LANTERN, "quantity": 5}, cart_id=bystander)
    call(
        "POST",
        "/cart",
        json_body={"productId": TENT, "quantity": 2},
        token=identity_provider.token(sub="stayer"),
    )
    # A stale message about a live line (as after an anonymous line is revived), and a poison message.
    stale = json.dumps({"pk": f"cart#{bystander}", "sk": f"product#{LANTERN}"})
    aws.sqs.send_message(QueueUrl=queue_url, MessageBody=stale)
    aws.sqs.send_message(QueueUrl=queue_url, MessageBody="not a migrated line")
    (doomed_cart, doomed_product), (flaky_cart, flaky_product) = (
        (next(iter(migrated)), PRODUCTS[1]),
        (list(migrated)[1], PRODUCTS[0]),
    )

    def deleting(cart_id: str, product: str):
        return lambda body: body["Key"] == {"pk": {"S": f"cart#{cart_id}"}, "sk": {"S": f"product#{product}"}}

    # The table refuses one line's delete every time (its message ends in the DLQ), and another's for
    # one invocation only (its message comes back and the line is deleted).
    always = faults.add(
        "DeleteItem",
        "error",
        response=lambda _: throttled(),
        when=deleting(doomed_cart, doomed_product),
        times=99,
    )
    once = faults.add(
        "DeleteItem",
        "error",
        response=lambda _: throttled(),
        when=deleting(flaky_cart, flaky_product),
        times=PERSISTENT,
    )

    drain_queue(queue_poller(aws.sqs, queue_url, in_process(cart.delete_worker.handler, LambdaContext())))

    assert once.fired == PERSISTENT
    assert always.fired == 3 * PERSISTENT  # maxReceiveCount receives, each with the SDK's retries
    dead = aws.sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"] for m in dead) == sorted(
        ["not a migrated line", json.dumps({"pk": f"cart#{doomed_cart}", "sk": f"product#{doomed_product}"})]
    )
    # Every migrated line is gone but the one whose delete kept failing (still marked: invisible to
    # reads and to the totals); nothing that was not migrated was deleted.
    for cart_id in migrated:
        expected_left = {doomed_product: bought[doomed_product]} if cart_id == doomed_cart else {}
        assert aws.quantities(f"cart#{cart_id}") == expected_left
    doomed = aws.get_item(f"cart#{doomed_cart}", f"product#{doomed_product}")
    assert doomed["migratedTo"] == {"S": migrated[doomed_cart]}
    for cart_id, sub in migrated.items():
        assert aws.quantities(f"user#{sub}") == bought
        assert call("GET", "/cart", cart_id=cart_id).body == {"products": []}
    assert aws.quantities(f"cart#{bystander}") == {LANTERN: 5}
    assert aws.quantities("user#stayer") == {TENT: 2}
    aggregator(aws).poll()
    assert_totals_match_a_full_scan(aws)


# -- the product service -----------------------------------------------------------------------------------


@dataclass
class TricklingService:
    url: str
    # Set once a whole answer has been sent: a client that gave up before did not wait for it.
    finished: threading.Event


@pytest.fixture(scope="module")
def trickling_product_service() -> Iterator[TricklingService]:
    """Answers at once with headers, then sends a valid body one byte every 0.1 s (about 6 s): every
    single read is fast, only the whole answer is slow."""
    product = json.dumps({"product": {"productId": LANTERN, "name": "Trail Lantern", "price": 3499}}).encode()
    finished = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(product)))
                self.end_headers()
                for byte in product:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.1)
                finished.set()
            except OSError:
                pass  # the client gave up, as it should

    server, url = serve(Handler)
    yield TricklingService(url, finished)
    server.shutdown()


@pytest.mark.parametrize("failure", ["down", "slow", "trickling", "erroring"])
@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_product_service_down_or_slow_is_a_503_within_the_timeout_and_nothing_is_written(
    call: CallApi,
    aws: AwsStack,
    products_mock: ProductServiceMock,
    trickling_product_service: TricklingService,
    monkeypatch: pytest.MonkeyPatch,
    failure: str,
    method: str,
):
    if failure == "down":
        monkeypatch.setenv("PRODUCT_SERVICE_URL", closed_port_url())
    elif failure == "trickling":
        monkeypatch.setenv("PRODUCT_SERVICE_URL", trickling_product_service.url)
        trickling_product_service.finished.clear()
    else:
        products_mock.mode = "slow" if failure == "slow" else "error"
    clear_runtime_caches()
    cart_id = str(uuid.uuid4())
    records_before = len(aws.stream_records())

    if method == "POST":
        result = call("POST", "/cart", json_body={"productId": LANTERN, "quantity": 2}, cart_id=cart_id)
    else:
        result = call("PUT", f"/cart/{LANTERN}", json_body={"quantity": 2}, cart_id=cart_id)

    assert result.status == 503, result.body
    assert result.body["message"]
    # The timeout ended the wait, not the answer: the slow one is held up to a minute, the
    # trickling one takes about 6 s, and neither had been sent whole.
    assert not products_mock.slow_answered.is_set()
    assert not trickling_product_service.finished.is_set()
    assert aws.quantities(f"cart#{cart_id}") == {}
    assert records_before == 0
    assert aws.stream_records() == []


# -- DynamoDB throttling and failures ------------------------------------------------------------------


def _arranged_carts(aws: AwsStack) -> tuple[str, str]:
    cart_id = str(uuid.uuid4())
    aws.put_line(f"cart#{cart_id}", LANTERN, 2)
    aws.put_line(f"cart#{cart_id}", TENT, 1)
    aws.put_line("user#throttled", LANTERN, 1)
    return cart_id, "throttled"


ROUTES = {
    # route: (operations it sends, how to call it)
    "GET /cart": ("Query", lambda call, cart_id, token: call("GET", "/cart", cart_id=cart_id)),
    "POST /cart": (
        "UpdateItem",
        lambda call, cart_id, token: call(
            "POST", "/cart", json_body={"productId": TENT, "quantity": 3}, token=token
        ),
    ),
    "PUT /cart/{id}": (
        "PutItem",
        lambda call, cart_id, token: call("PUT", f"/cart/{TENT}", json_body={"quantity": 4}, token=token),
    ),
    "POST /cart/migrate": (
        "TransactWriteItems",
        lambda call, cart_id, token: call("POST", "/cart/migrate", cart_id=cart_id, token=token),
    ),
    "POST /cart/checkout": (
        "TransactWriteItems",
        lambda call, cart_id, token: call("POST", "/cart/checkout", token=token),
    ),
}
EXPECTED_USER_CART = {
    "GET /cart": {LANTERN: 1},
    "POST /cart": {LANTERN: 1, TENT: 3},
    "PUT /cart/{id}": {LANTERN: 1, TENT: 4},
    "POST /cart/migrate": {LANTERN: 3, TENT: 1},
    "POST /cart/checkout": {},
}


@pytest.mark.parametrize("route", ROUTES)
def test_a_throttled_request_is_retried_and_applied_once(call, aws, faults, identity_provider, route):
    operation, send = ROUTES[route]
    cart_id, sub = _arranged_carts(aws)
    throttle = faults.add(operation, "error", response=lambda _: throttled(), times=PERSISTENT - 1)

    result = send(call, cart_id, identity_provider.token(sub=sub))

    assert throttle.fired == PERSISTENT - 1
    assert result.status == 200, result.body
    assert aws.quantities(f"user#{sub}") == EXPECTED_USER_CART[route]
    aggregator(aws).poll()
    assert_totals_match_a_full_scan(aws)


# Each route with each failure DynamoDB can give it: a throttled transaction is a cancellation (only
# transactions have those), TransactionConflictException answers single-item writes only.
PERSISTENT_FAILURES = [
    (route, failure)
    for route, (operation, _) in ROUTES.items()
    for failure in ("throttled", "throttled transaction", "internal error", "conflict")
    if not (failure == "throttled transaction" and operation != "TransactWriteItems")
    and not (failure == "conflict" and operation in {"Query", "TransactWriteItems"})
]


@pytest.mark.parametrize(("route", "failure"), PERSISTENT_FAILURES)
def test_a_request_dynamodb_keeps_failing_is_a_clear_503_that_changes_nothing(
    call, aws, faults, identity_provider, route, failure
):
    operation, send = ROUTES[route]
    responses = {
        "throttled": lambda _: throttled(),
        "throttled transaction": lambda body: transaction_throttled(len(body["TransactItems"])),
        "internal error": lambda _: internal_server_error(),
        "conflict": lambda _: transaction_conflict(),
    }
    cart_id, sub = _arranged_carts(aws)
    before = {pk: aws.quantities(pk) for pk in (f"cart#{cart_id}", f"user#{sub}")}
    faults.add(operation, "error", response=responses[failure], times=99)

    result = send(call, cart_id, identity_provider.token(sub=sub))

    assert result.status == 503, result.body
    assert result.body["message"]
    assert result.cart_id is None  # the anonymous cart id is not rotated by a failed migration
    assert {pk: aws.quantities(pk) for pk in before} == before
    assert all("migratedTo" not in item for item in aws.scan())
    faults.clear()
    aggregator(aws).poll()
    assert_totals_match_a_full_scan(aws)


@pytest.mark.parametrize("lost", ["answer lost", "internal error after applying"])
@pytest.mark.parametrize("quantity", [3, -1])
def test_an_add_whose_outcome_is_unknown_is_never_counted_twice(
    call, aws, faults, identity_provider, lost, quantity
):
    """DynamoDB may apply a write and still fail to answer (a 500, a dropped connection). An add is not
    idempotent: sent again, it adds again. The cart must never hold more (or less) than was asked."""
    token = identity_provider.token(sub="unlucky")
    call("POST", "/cart", json_body={"productId": TENT, "quantity": 2}, token=token)
    if lost == "answer lost":
        faults.add("UpdateItem", "applied_then_lost")
    else:
        faults.add("UpdateItem", "applied_then_error", response=lambda _: internal_server_error())

    result = call("POST", "/cart", json_body={"productId": TENT, "quantity": quantity}, token=token)

    # Either a clear 503 (the caller retries knowingly) or a success, never a silent second write.
    assert result.status in (200, 503), result.body
    assert aws.quantities("user#unlucky") == {TENT: 2 + quantity}
    if result.status == 200:
        assert result.body["quantity"] == 2 + quantity
    aggregator(aws).poll()
    assert_totals_match_a_full_scan(aws)


def _anonymous_cart_of(aws: AwsStack, lines: int) -> tuple[str, dict[str, int]]:
    cart_id = str(uuid.uuid4())
    expected = {}
    for number in range(lines):
        product = f"product-{number:03d}"
        expected[product] = number % 3 + 1
        aws.put_line(f"cart#{cart_id}", product, expected[product])
    return cart_id, expected


def assert_no_line_half_migrated(
    aws: AwsStack, cart_id: str, sub: str, anonymous: dict[str, int], user: dict
):
    """Each anonymous line is either marked and added to the user's line, or neither."""
    items = {
        item["sk"]["S"].removeprefix("product#"): item
        for item in aws.scan()
        if item["pk"]["S"] == f"cart#{cart_id}"
    }
    user_now = aws.quantities(f"user#{sub}")
    for product, quantity in anonymous.items():
        moved = "migratedTo" in items[product]
        assert user_now.get(product, 0) == user.get(product, 0) + (quantity if moved else 0), product


@pytest.mark.parametrize(
    "failure", ["throttled", "throttled transaction", "internal error", "killed before", "killed after"]
)
def test_a_migration_interrupted_between_transactions_is_never_half_applied_and_completes_on_retry(
    call, aws, faults, identity_provider, failure
):
    cart_id, anonymous = _anonymous_cart_of(aws, 60)  # two transactions: 50 and 10 lines
    user = {"product-000": 5, "product-055": 1}  # one line in each transaction
    for product, quantity in user.items():
        aws.put_line("user#interrupted", product, quantity)
    token = identity_provider.token(sub="interrupted")
    second = {"after": 1}
    if failure == "throttled":
        faults.add("TransactWriteItems", "error", response=lambda _: throttled(), times=99, **second)
    elif failure == "throttled transaction":
        faults.add(
            "TransactWriteItems",
            "error",
            response=lambda body: transaction_throttled(len(body["TransactItems"])),
            times=99,
            **second,
        )
    elif failure == "internal error":
        faults.add(
            "TransactWriteItems", "error", response=lambda _: internal_server_error(), times=99, **second
        )
    else:
        faults.add("TransactWriteItems", failure.replace(" ", "_").replace("killed", "kill"), **second)

    if failure.startswith("killed"):
        with pytest.raises(LambdaKilled):
            call("POST", "/cart/migrate", cart_id=cart_id, token=token)
    else:
        result = call("POST", "/cart/migrate", cart_id=cart_id, token=token)
        assert result.status == 503, result.body
        assert result.cart_id is None

    assert_no_line_half_migrated(aws, cart_id, "interrupted", anonymous, user)
    faults.clear()
    retried = call("POST", "/cart/migrate", cart_id=cart_id, token=token)  # the same cookie, again

    assert retried.status == 200, retried.body
    merged = {p: anonymous.get(p, 0) + user.get(p, 0) for p in {*anonymous, *user}}
    assert {line["productId"]: line["quantity"] for line in retried.body["products"]} == merged
    assert aws.quantities("user#interrupted") == merged
    assert call("GET", "/cart", cart_id=cart_id).body == {"products": []}
    aggregator(aws).poll()
    assert_totals_match_a_full_scan(aws)


def test_a_migration_transaction_whose_answer_is_lost_is_retried_once_and_queues_every_delete(
    call, aws, faults, identity_provider
):
    cart_id, anonymous = _anonymous_cart_of(aws, 60)
    lost = faults.add("TransactWriteItems", "applied_then_lost", after=1)

    result = call("POST", "/cart/migrate", cart_id=cart_id, token=identity_provider.token(sub="lossy"))

    assert lost.fired == 1
    assert result.status == 200
    assert aws.quantities("user#lossy") == anonymous
    assert len(aws.receive_all()) == 60  # every migrated line queued for deletion, once
    aggregator(aws).poll()
    assert_totals_match_a_full_scan(aws)


def test_a_checkout_transaction_whose_answer_is_lost_still_returns_everything_bought(
    call, aws, faults, identity_provider
):
    for number in range(130):  # two transactions: 100 and 30 lines
        aws.put_line("user#buyer", f"product-{number:03d}", 1)
    lost = faults.add("TransactWriteItems", "applied_then_lost", after=0)

    result = call("POST", "/cart/checkout", token=identity_provider.token(sub="buyer"))

    assert lost.fired == 1
    assert result.status == 200
    assert len(result.body["products"]) == 130
    assert aws.quantities("user#buyer") == {}
