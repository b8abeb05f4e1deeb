"""What the cart does when DynamoDB refuses, fails or loses a request (found by tests/reliability).

A refused request (throttling, a conflicting transaction) was not applied: it is retried. A failed
one (a 5xx, a lost answer) may have been applied: a write that adds to a quantity is then not sent
again (a 503 instead of a double count); writes of a state and transactions are (DynamoDB applies a
transaction's ClientRequestToken once). A transaction cancelled for throttling is retried, then a 503.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

import cart.aggregator
import cart.repository
from cart.errors import DependencyUnavailableError

from .support import LambdaContext

TENT = "dome-tent-2p"


def error(code: str, status: int = 400, **extra: Any) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": "injected"},
            "ResponseMetadata": {"HTTPStatusCode": status},
            **extra,
        },
        "Operation",
    )


def throttled_cancellation(actions: int) -> ClientError:
    reasons = [{"Code": "ThrottlingError"}] + [{"Code": "None"}] * (actions - 1)
    return error("TransactionCanceledException", CancellationReasons=reasons)


class Flaky:
    """A DynamoDB client whose `operation` fails with `failures` in turn, then works. `applied`: the
    failures come after the real call (the write happened, the answer was lost)."""

    def __init__(self, real: Any, operation: str, failures: list[Exception], applied: bool = False) -> None:
        self._real = real
        self._operation = operation
        self._failures = list(failures)
        self._applied = applied
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._real, name)
        if name != self._operation:
            return method

        def flaky(**request: Any) -> Any:
            self.calls += 1
            if not self._failures:
                return method(**request)
            if self._applied:
                method(**request)
            raise self._failures.pop(0)

        return flaky


@pytest.fixture(autouse=True)
def _no_waiting(monkeypatch):
    monkeypatch.setattr(cart.repository, "_pause", lambda seconds: None)


def install(monkeypatch, factory: str, flaky: Flaky) -> Flaky:
    monkeypatch.setattr(cart.repository, factory, lambda: flaky)
    return flaky


@pytest.mark.parametrize(
    "failure",
    [error("InternalServerError", 500), ReadTimeoutError(endpoint_url="https://dynamodb")],
    ids=["internal-error", "answer-lost"],
)
@pytest.mark.parametrize("quantity", [3, -1])
def test_an_add_whose_outcome_is_unknown_is_a_503_and_never_sent_twice(
    call, aws, monkeypatch, failure, quantity
):
    cart_id = str(uuid.uuid4())
    call("POST", "/cart", json_body={"productId": TENT, "quantity": 2}, cart_id=cart_id)
    real = cart.repository._dynamodb_single_attempt()
    flaky = install(
        monkeypatch, "_dynamodb_single_attempt", Flaky(real, "update_item", [failure], applied=True)
    )

    result = call("POST", "/cart", json_body={"productId": TENT, "quantity": quantity}, cart_id=cart_id)

    assert result.status == 503
    assert flaky.calls == 1
    assert aws.quantities(f"cart#{cart_id}") == {TENT: 2 + quantity}


def test_the_client_for_adds_makes_one_attempt():
    client = cart.repository._dynamodb_single_attempt()

    assert client.meta.config.retries["total_max_attempts"] == 1
    # The other client: botocore's max_attempts=3 counts retries, so 4 attempts in all.
    config = cart.repository._dynamodb().meta.config
    assert config.retries["total_max_attempts"] == 4
    # Every attempt timing out still ends inside the API function's 10 s, with time to answer 503.
    worst_case = config.retries["total_max_attempts"] * (config.connect_timeout + config.read_timeout)
    assert worst_case <= 8


@pytest.mark.parametrize(
    "code", ["ThrottlingException", "ProvisionedThroughputExceededException", "TransactionConflictException"]
)
def test_an_add_refused_by_dynamodb_is_retried_and_applied_once(call, aws, monkeypatch, code):
    cart_id = str(uuid.uuid4())
    real = cart.repository._dynamodb_single_attempt()
    flaky = install(monkeypatch, "_dynamodb_single_attempt", Flaky(real, "update_item", [error(code)] * 3))

    result = call("POST", "/cart", json_body={"productId": TENT, "quantity": 2}, cart_id=cart_id)

    assert result.status == 200
    assert flaky.calls == 4
    assert aws.quantities(f"cart#{cart_id}") == {TENT: 2}


def test_an_add_refused_beyond_the_retries_is_a_503(call, aws, monkeypatch):
    cart_id = str(uuid.uuid4())
    real = cart.repository._dynamodb_single_attempt()
    failures = [error("TransactionConflictException")] * 4
    flaky = install(monkeypatch, "_dynamodb_single_attempt", Flaky(real, "update_item", failures))

    result = call("POST", "/cart", json_body={"productId": TENT, "quantity": 2}, cart_id=cart_id)

    assert result.status == 503
    assert result.body == {"message": "the cart is busy, please try again"}
    assert flaky.calls == 4
    assert aws.quantities(f"cart#{cart_id}") == {}


def test_a_set_conflicting_with_a_transaction_is_retried(call, aws, monkeypatch):
    cart_id = str(uuid.uuid4())
    flaky = install(
        monkeypatch,
        "_dynamodb",
        Flaky(cart.repository._dynamodb(), "put_item", [error("TransactionConflictException")]),
    )

    result = call("PUT", f"/cart/{TENT}", json_body={"quantity": 4}, cart_id=cart_id)

    assert result.status == 200
    assert flaky.calls == 2
    assert aws.quantities(f"cart#{cart_id}") == {TENT: 4}


@pytest.mark.parametrize(("cancellations", "status"), [(3, 200), (4, 503)])
def test_a_migration_cancelled_for_throttling_is_retried_then_a_503(
    call, aws, monkeypatch, identity_provider, cancellations, status
):
    cart_id = str(uuid.uuid4())
    aws.put_line(f"cart#{cart_id}", TENT, 2)
    real = cart.repository._dynamodb()
    flaky = install(
        monkeypatch,
        "_dynamodb",
        Flaky(real, "transact_write_items", [throttled_cancellation(2)] * cancellations),
    )

    result = call("POST", "/cart/migrate", cart_id=cart_id, token=identity_provider.token(sub="throttled"))

    assert result.status == status
    assert flaky.calls == min(cancellations + 1, 4)
    assert aws.quantities("user#throttled") == ({TENT: 2} if status == 200 else {})


def test_a_checkout_cancelled_for_throttling_beyond_the_retries_is_a_503(
    call, aws, monkeypatch, identity_provider
):
    aws.put_line("user#buyer", TENT, 2)
    real = cart.repository._dynamodb()
    install(monkeypatch, "_dynamodb", Flaky(real, "transact_write_items", [throttled_cancellation(1)] * 4))

    result = call("POST", "/cart/checkout", token=identity_provider.token(sub="buyer"))

    assert result.status == 503
    assert aws.quantities("user#buyer") == {TENT: 2}


def test_the_aggregator_raises_when_throttling_outlasts_the_retries(aws, monkeypatch):
    aws.put_line(f"cart#{uuid.uuid4()}", TENT, 1)
    records = aws.stream_records()
    real = cart.repository._dynamodb()
    install(monkeypatch, "_dynamodb", Flaky(real, "transact_write_items", [throttled_cancellation(2)] * 4))

    with pytest.raises(DependencyUnavailableError):  # Lambda delivers the batch again
        cart.aggregator.handler({"Records": records}, LambdaContext())

    assert aws.stored_totals() == {}
