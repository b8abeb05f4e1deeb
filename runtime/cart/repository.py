"""The only code that talks to DynamoDB and SQS.

Item layout (docs/DESIGN.md, "Table items"): cart lines live under `cart#<uuid>` (anonymous) or
`user#<sub>` (signed in) with sort key `product#<productId>`; totals under `totals`; aggregator batch
markers under `aggregator#<batch hash>#<chunk>`. Every write that depends on what was read carries a
condition, so concurrent requests can only ever make a write fail, never make it wrong.
"""

from __future__ import annotations

import functools
import json
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError

from .domain import CartLine, CartOwner, ProductTotal
from .errors import DependencyUnavailableError
from .settings import Settings, get_settings

CART_PK_PREFIXES = {"anonymous": "cart#", "user": "user#"}
PRODUCT_SK_PREFIX = "product#"
TOTALS_PK = "totals"
MARKER_SK = "marker"
# DynamoDB's limit on actions per TransactWriteItems, and SQS's on entries per SendMessageBatch.
MAX_TRANSACTION_ACTIONS = 100
MAX_MESSAGES_PER_BATCH = 10
# Cancellation reasons that mean "someone else changed these items first": read again and retry.
_RETRYABLE_CANCELLATIONS = {"ConditionalCheckFailed", "TransactionConflict"}

# Short timeouts: the API function has 10 s in all, and the SDK's standard retry mode retries throttling
# itself (max_attempts counts retries: 3 retries, 4 attempts). 4 x (0.5 + 1.5) s plus the SDK's backoff
# stays under 10 s, so a DynamoDB that does not answer gives a 503, not a Lambda timeout (a 502);
# DynamoDB answers in milliseconds.
_CONNECT_TIMEOUT_SECONDS = 0.5
_READ_TIMEOUT_SECONDS = 1.5
_AWS_CLIENT_CONFIG = Config(
    connect_timeout=_CONNECT_TIMEOUT_SECONDS,
    read_timeout=_READ_TIMEOUT_SECONDS,
    retries={"mode": "standard", "max_attempts": 3},
)
# The SDK also retries 5xx answers and lost connections. That is safe for reads, for writes of an
# absolute state and for transactions (botocore resends a transaction with the same ClientRequestToken,
# and DynamoDB does not apply a token twice), but not for a write that adds to or takes from a quantity:
# DynamoDB may have applied it before the answer was lost, and a resend would count it twice. Those go
# through a client that never resends by itself, and are retried only on answers that DynamoDB gives
# before it changes anything (see _write_at_most_once).
_SINGLE_ATTEMPT_CONFIG = Config(
    connect_timeout=_CONNECT_TIMEOUT_SECONDS,
    read_timeout=_READ_TIMEOUT_SECONDS,
    retries={"mode": "standard", "total_max_attempts": 1},
)
# Error codes with which DynamoDB refuses a request without applying it.
_NOT_APPLIED_CODES = {
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    # A single-item write on an item that a transaction is writing (a migration or a checkout).
    "TransactionConflictException",
}
# Cancellation reasons of a transaction that DynamoDB throttled (the SDK does not retry these: they
# arrive as a TransactionCanceledException, not as a throttling error).
_THROTTLED_CANCELLATIONS = {"ThrottlingError", "ProvisionedThroughputExceeded"}
# Attempts of our own retries, as many as the SDK makes elsewhere.
_ATTEMPTS = 4
_BUSY_MESSAGE = "the cart is busy, please try again"

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


@functools.cache
def _dynamodb() -> Any:
    # Created on first use, never at import, and reused by every invocation of the container.
    return boto3.client("dynamodb", config=_AWS_CLIENT_CONFIG)


@functools.cache
def _dynamodb_single_attempt() -> Any:
    return boto3.client("dynamodb", config=_SINGLE_ATTEMPT_CONFIG)


@functools.cache
def _sqs() -> Any:
    return boto3.client("sqs", config=_AWS_CLIENT_CONFIG)


# Tests replace it to retry without waiting.
_pause: Callable[[float], None] = time.sleep


def _backoff_seconds(attempt: int) -> float:
    """Full jitter, as the SDK's standard mode: up to 50 ms, 100 ms, 200 ms..., at most 1 s."""
    return random.uniform(0, min(1.0, 0.05 * 2**attempt))


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _write_at_most_once(operation: str, **request: Any) -> Any:
    """One single-item write that must not be applied twice (see _SINGLE_ATTEMPT_CONFIG).

    Retried only when DynamoDB refused it (throttling, a conflicting transaction) or when it never left
    (no connection); any other failure is raised, and the caller gets a 503 rather than a double count.
    """
    call = getattr(_dynamodb_single_attempt(), operation)
    for attempt in range(_ATTEMPTS):
        try:
            return call(**request)
        except ClientError as error:
            if _error_code(error) not in _NOT_APPLIED_CODES or attempt == _ATTEMPTS - 1:
                raise
        except (EndpointConnectionError, ConnectTimeoutError):
            if attempt == _ATTEMPTS - 1:
                raise
        _pause(_backoff_seconds(attempt))
    raise AssertionError("unreachable")


def _write_idempotent(operation: str, **request: Any) -> Any:
    """One single-item write that may be applied twice (it sets a state): the SDK retries what it
    retries, and a conflict with a transaction on the same item is retried too (the SDK does not)."""
    call = getattr(_dynamodb(), operation)
    for attempt in range(_ATTEMPTS):
        try:
            return call(**request)
        except ClientError as error:
            if _error_code(error) != "TransactionConflictException" or attempt == _ATTEMPTS - 1:
                raise
        _pause(_backoff_seconds(attempt))
    raise AssertionError("unreachable")


def _transact_write(actions: list[dict[str, Any]]) -> None:
    """TransactWriteItems, retried when DynamoDB cancelled it for throttling (nothing was applied).

    Raises DependencyUnavailableError (503) when the throttling outlasts the retries, and the
    ClientError of any other cancellation, for the caller to interpret.
    """
    for attempt in range(_ATTEMPTS):
        try:
            _dynamodb().transact_write_items(TransactItems=actions)
            return
        except ClientError as error:
            if not _THROTTLED_CANCELLATIONS.intersection(_cancellation_codes(error) or []):
                raise
            if attempt == _ATTEMPTS - 1:
                raise DependencyUnavailableError(_BUSY_MESSAGE) from None
        _pause(_backoff_seconds(attempt))


class LineChangedError(Exception):
    """A conditional write on one line failed; `current` is the line as it is now (None: no item)."""

    def __init__(self, current: CartLine | None) -> None:
        super().__init__("cart line changed")
        self.current = current


@dataclass(frozen=True)
class LineMove:
    """One anonymous line to merge into the user's cart, with the user line's state as read."""

    anonymous_line: CartLine
    user_line_is_live: bool
    user_expiration_time: int


def cart_pk(owner: CartOwner) -> str:
    return CART_PK_PREFIXES[owner.kind] + owner.id


def product_sk(product_id: str) -> str:
    return PRODUCT_SK_PREFIX + product_id


def to_plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; the API speaks JSON ints and floats."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: to_plain(item) for key, item in value.items()}
    if isinstance(value, list | set | tuple):
        return [to_plain(item) for item in value]
    return value


def _to_storable(value: Any) -> Any:
    """boto3 refuses floats (they are inexact); store them as the Decimal of their shortest repr."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {key: _to_storable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_to_storable(item) for item in value]
    return value


def _values(**values: Any) -> dict[str, Any]:
    return {f":{name}": _serializer.serialize(_to_storable(value)) for name, value in values.items()}


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def line_from_item(item: dict[str, Any]) -> CartLine:
    """A cart line from an item in DynamoDB JSON (also the format of stream images)."""
    values = {name: _deserializer.deserialize(value) for name, value in item.items()}
    return CartLine(
        product_id=str(values["sk"]).removeprefix(PRODUCT_SK_PREFIX),
        quantity=int(values.get("quantity", 0)),
        product_detail=to_plain(values.get("productDetail") or {}),
        expiration_time=int(values.get("expirationTime", 0)),
        migrated_to=values.get("migratedTo"),
    )


def _line_item(owner: CartOwner, line: CartLine) -> dict[str, Any]:
    return {
        **_key(cart_pk(owner), product_sk(line.product_id)),
        "productId": {"S": line.product_id},
        "quantity": {"N": str(line.quantity)},
        "productDetail": _serializer.serialize(_to_storable(line.product_detail)),
        "expirationTime": {"N": str(line.expiration_time)},
    }


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _is_conditional_check_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _cancellation_codes(error: ClientError) -> list[str] | None:
    """The per-action reasons of a cancelled transaction, or None for any other error."""
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return None
    return [reason.get("Code", "None") for reason in error.response.get("CancellationReasons", [])]


def _current_line_of(error: ClientError) -> CartLine | None:
    item = error.response.get("Item")
    return line_from_item(item) if item else None


class CartRepository:
    """Cart lines, totals and the delete queue, in the layout DESIGN.md fixes."""

    def __init__(self, settings: Settings) -> None:
        # Settings are read when a method needs them: the aggregator has no DELETE_QUEUE_URL.
        self._settings = settings

    @property
    def _table(self) -> str:
        return self._settings.table_name

    # -- reads -------------------------------------------------------------------------------------------

    def _query_all(self, **query: Any) -> Iterator[dict[str, Any]]:
        """Every item of a Query, one request per 1 MB page."""
        client = _dynamodb()
        request: dict[str, Any] = {"TableName": self._table, **query}
        while True:
            page = client.query(**request)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def read_cart(self, owner: CartOwner) -> list[CartLine]:
        """All of the owner's lines as stored, dead ones included: the caller decides what is live.

        Strongly consistent, so a read right after a write (or a migration's re-read) sees it.
        """
        items = self._query_all(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :product)",
            ExpressionAttributeValues=_values(pk=cart_pk(owner), product=PRODUCT_SK_PREFIX),
            ConsistentRead=True,
        )
        return [line_from_item(item) for item in items]

    def get_total(self, product_id: str) -> int:
        response = _dynamodb().get_item(
            TableName=self._table,
            Key=_key(TOTALS_PK, product_sk(product_id)),
            ProjectionExpression="quantity",
        )
        item = response.get("Item")
        return int(item["quantity"]["N"]) if item and "quantity" in item else 0

    def list_totals(self) -> list[ProductTotal]:
        items = self._query_all(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=_values(pk=TOTALS_PK),
            ProjectionExpression="sk, quantity",
        )
        return [
            ProductTotal(
                product_id=item["sk"]["S"].removeprefix(PRODUCT_SK_PREFIX),
                quantity=int(item.get("quantity", {"N": "0"})["N"]),
            )
            for item in items
        ]

    # -- single-line writes ------------------------------------------------------------------------------

    def increase_line(
        self,
        owner: CartOwner,
        product_id: str,
        amount: int,
        product_detail: dict[str, Any],
        expiration_time: int,
        now: int,
        max_quantity: int,
    ) -> int:
        """Add to a live line, or create an absent one; returns the new quantity (one UpdateItem).

        Raises LineChangedError when the line exists but is dead (expired or migrated: the caller
        replaces it) or when the sum would exceed max_quantity.
        """
        try:
            response = _write_at_most_once(
                "update_item",
                TableName=self._table,
                Key=_key(cart_pk(owner), product_sk(product_id)),
                UpdateExpression=(
                    "SET quantity = if_not_exists(quantity, :zero) + :amount, productId = :productId, "
                    "productDetail = :detail, expirationTime = :expires"
                ),
                ConditionExpression=(
                    "attribute_not_exists(pk) OR (attribute_not_exists(migratedTo) "
                    "AND expirationTime > :now AND quantity <= :room)"
                ),
                ExpressionAttributeValues=_values(
                    zero=0,
                    amount=amount,
                    productId=product_id,
                    detail=product_detail,
                    expires=expiration_time,
                    now=now,
                    room=max_quantity - amount,
                ),
                ReturnValues="UPDATED_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if _is_conditional_check_failure(error):
                raise LineChangedError(_current_line_of(error)) from None
            raise
        return int(response["Attributes"]["quantity"]["N"])

    def replace_dead_line(self, owner: CartOwner, line: CartLine, now: int) -> None:
        """Write a fresh line over an absent, expired or migrated one (never over a live one).

        At most once: resent after it was applied, its condition would fail on the line it created,
        and the caller would then add the quantity to that line a second time.
        """
        try:
            _write_at_most_once(
                "put_item",
                TableName=self._table,
                Item=_line_item(owner, line),
                ConditionExpression=(
                    "attribute_not_exists(pk) OR attribute_exists(migratedTo) OR expirationTime <= :now"
                ),
                ExpressionAttributeValues=_values(now=now),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if _is_conditional_check_failure(error):
                raise LineChangedError(_current_line_of(error)) from None
            raise

    def decrease_line(
        self, owner: CartOwner, product_id: str, amount: int, expiration_time: int, now: int
    ) -> int:
        """Take `amount` off a live line that holds more than that; returns the new quantity.

        Raises LineChangedError when the line is absent, dead, or would reach zero or below (the
        caller deletes it instead: a line at zero must not exist).
        """
        try:
            response = _write_at_most_once(
                "update_item",
                TableName=self._table,
                Key=_key(cart_pk(owner), product_sk(product_id)),
                UpdateExpression="SET quantity = quantity - :amount, expirationTime = :expires",
                ConditionExpression=(
                    "attribute_exists(pk) AND attribute_not_exists(migratedTo) "
                    "AND expirationTime > :now AND quantity > :amount"
                ),
                ExpressionAttributeValues=_values(amount=amount, expires=expiration_time, now=now),
                ReturnValues="UPDATED_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if _is_conditional_check_failure(error):
                raise LineChangedError(_current_line_of(error)) from None
            raise
        return int(response["Attributes"]["quantity"]["N"])

    def delete_line_if_unchanged(self, owner: CartOwner, line: CartLine, now: int) -> None:
        """Delete a live line on condition that it still holds the quantity that was read."""
        try:
            # Idempotent in effect: resent after it was applied, its condition fails on the absent line,
            # which the caller reads as "already gone".
            _write_idempotent(
                "delete_item",
                TableName=self._table,
                Key=_key(cart_pk(owner), product_sk(line.product_id)),
                ConditionExpression=(
                    "quantity = :quantity AND attribute_not_exists(migratedTo) AND expirationTime > :now"
                ),
                ExpressionAttributeValues=_values(quantity=line.quantity, now=now),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if _is_conditional_check_failure(error):
                raise LineChangedError(_current_line_of(error)) from None
            raise

    def put_line(self, owner: CartOwner, line: CartLine) -> None:
        """Set a line whatever it was before: a set does not depend on the previous quantity.

        Replacing a migrated line is right too: its quantity already counts in the user's cart, and
        the delete worker leaves a line alone once it is no longer marked.
        """
        _write_idempotent("put_item", TableName=self._table, Item=_line_item(owner, line))

    def delete_line(self, owner: CartOwner, product_id: str) -> None:
        _write_idempotent(
            "delete_item", TableName=self._table, Key=_key(cart_pk(owner), product_sk(product_id))
        )

    # -- transactions ------------------------------------------------------------------------------------

    def _transact(self, actions: list[dict[str, Any]]) -> bool:
        """Run one transaction; False when a condition or a concurrent transaction cancelled it."""
        try:
            _transact_write(actions)
        except ClientError as error:
            codes = _cancellation_codes(error)
            if codes is not None and set(codes) - {"None"} <= _RETRYABLE_CANCELLATIONS:
                return False
            raise
        return True

    def move_lines(self, anonymous: CartOwner, user: CartOwner, moves: Sequence[LineMove], now: int) -> bool:
        """Merge anonymous lines into the user's cart atomically (at most 50 moves: 100 actions).

        Each anonymous line is marked `migratedTo` on condition that it is live and still holds the
        quantity that was read, in the same transaction that adds that quantity to the user's line.
        A second migration of the same line therefore cancels instead of counting it twice.
        Returns False when cancelled (the caller reads again and retries).
        """
        if len(moves) * 2 > MAX_TRANSACTION_ACTIONS:
            raise ValueError("too many lines for one transaction")
        actions: list[dict[str, Any]] = []
        for move in moves:
            line = move.anonymous_line
            actions.append(
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": _key(cart_pk(anonymous), product_sk(line.product_id)),
                        "UpdateExpression": "SET migratedTo = :sub",
                        "ConditionExpression": (
                            "quantity = :quantity AND attribute_not_exists(migratedTo) "
                            "AND expirationTime > :now"
                        ),
                        "ExpressionAttributeValues": _values(sub=user.id, quantity=line.quantity, now=now),
                    }
                }
            )
            if move.user_line_is_live:
                actions.append(
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": _key(cart_pk(user), product_sk(line.product_id)),
                            "UpdateExpression": "SET quantity = quantity + :quantity, expirationTime = :expires",
                            "ConditionExpression": "attribute_exists(pk) AND expirationTime > :now",
                            "ExpressionAttributeValues": _values(
                                quantity=line.quantity, expires=move.user_expiration_time, now=now
                            ),
                        }
                    }
                )
            else:
                user_line = CartLine(
                    product_id=line.product_id,
                    quantity=line.quantity,
                    product_detail=line.product_detail,
                    expiration_time=move.user_expiration_time,
                )
                actions.append(
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": _line_item(user, user_line),
                            # Replaces an expired line that DynamoDB has not deleted yet, never a live one.
                            "ConditionExpression": "attribute_not_exists(pk) OR expirationTime <= :now",
                            "ExpressionAttributeValues": _values(now=now),
                        }
                    }
                )
        return self._transact(actions)

    def delete_lines_if_unchanged(self, owner: CartOwner, lines: Sequence[CartLine]) -> bool:
        """Delete up to 100 lines atomically, each on condition that it holds the quantity read."""
        if len(lines) > MAX_TRANSACTION_ACTIONS:
            raise ValueError("too many lines for one transaction")
        actions = [
            {
                "Delete": {
                    "TableName": self._table,
                    "Key": _key(cart_pk(owner), product_sk(line.product_id)),
                    "ConditionExpression": "quantity = :quantity AND attribute_not_exists(migratedTo)",
                    "ExpressionAttributeValues": _values(quantity=line.quantity),
                }
            }
            for line in lines
        ]
        return self._transact(actions)

    def add_to_totals(
        self, marker_pk: str, deltas: Sequence[tuple[str, int]], marker_expiration_time: int
    ) -> bool:
        """ADD each delta to its product's total, together with the batch chunk's marker.

        The marker Put is conditional (attribute_not_exists), so a chunk that was already applied
        cancels as a whole and changes nothing. Returns False in that case.
        """
        if len(deltas) + 1 > MAX_TRANSACTION_ACTIONS:
            raise ValueError("too many products for one transaction")
        actions: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": _key(TOTALS_PK, product_sk(product_id)),
                    "UpdateExpression": "ADD quantity :delta SET productId = :productId",
                    "ExpressionAttributeValues": _values(delta=delta, productId=product_id),
                }
            }
            for product_id, delta in deltas
        ]
        actions.append(
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {
                        **_key(marker_pk, MARKER_SK),
                        "expirationTime": {"N": str(marker_expiration_time)},
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        )
        try:
            _transact_write(actions)
        except ClientError as error:
            codes = _cancellation_codes(error)
            # Only the marker (the last action) has a condition: its failure means "already applied".
            if codes and codes[-1] == "ConditionalCheckFailed":
                return False
            raise
        return True

    # -- migrated lines: the delete queue and the delete worker ---------------------------------------------

    def enqueue_migrated_line_deletes(self, owner: CartOwner, product_ids: Iterable[str]) -> list[str]:
        """Queue one message per migrated line, ten per SendMessageBatch; returns the ids not queued."""
        product_ids = list(product_ids)
        failed: list[str] = []
        for chunk in _chunks(product_ids, MAX_MESSAGES_PER_BATCH):
            entries = [
                {
                    "Id": str(index),
                    "MessageBody": json.dumps({"pk": cart_pk(owner), "sk": product_sk(product_id)}),
                }
                for index, product_id in enumerate(chunk)
            ]
            response = _sqs().send_message_batch(QueueUrl=self._settings.delete_queue_url, Entries=entries)
            failed.extend(chunk[int(entry["Id"])] for entry in response.get("Failed", []))
        return failed

    def delete_migrated_line(self, pk: str, sk: str) -> bool:
        """Delete a line only while it is still marked as migrated; False when there was nothing to do.

        A line that was deleted already, or revived by an add after its migration, is left alone: this
        makes the delete worker idempotent and safe against stale messages.
        """
        try:
            _dynamodb().delete_item(
                TableName=self._table,
                Key=_key(pk, sk),
                ConditionExpression="attribute_exists(migratedTo)",
            )
        except ClientError as error:
            if _is_conditional_check_failure(error):
                return False
            raise
        return True


@functools.cache
def get_repository() -> CartRepository:
    return CartRepository(get_settings())
