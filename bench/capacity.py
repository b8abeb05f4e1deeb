"""What the runtime's AWS calls are billed for: DynamoDB capacity units and SQS requests.

The bench asks DynamoDB for its own figure (``ReturnConsumedCapacity="TOTAL"`` is added to every
request of the runtime's DynamoDB clients by a botocore hook, not by the runtime), but moto does not
compute it: it answers a constant whatever the item size and read consistency (1.0 for PutItem,
DeleteItem and Query, 0.5 for GetItem and for UpdateItem, which is below any write's floor) and an
empty list for TransactWriteItems. So the units are computed here by DynamoDB's published rules, from
each request's parameters and the sizes of the items it touches, read before and after the call with a
client the hooks do not see; moto's figure is kept beside them to show the difference.

Rules (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html and
.../CapacityUnitCalculations.html, .../transaction-apis.html, https://aws.amazon.com/sqs/pricing/):
see RULES.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

KB = 1024
READ_UNIT_BYTES = 4 * KB
WRITE_UNIT_BYTES = KB
SQS_CHUNK_BYTES = 64 * KB

RULES = (
    "DynamoDB item size: attribute names + values (string: UTF-8 bytes; number: 1 byte per 2 "
    "significant digits + 1; binary: bytes; boolean/null: 1; list/map: 3 + 1 per element + the "
    "elements; sets: the elements)",
    "write (PutItem, UpdateItem, DeleteItem, also a failed condition): ceil(larger of the item "
    "before and after / 1 KB) WRU, at least 1",
    "TransactWriteItems: 2 WRU per started KB of each item (the larger of before and after; a "
    "ConditionCheck counts as a write), at least 2 per item",
    "GetItem: ceil(item / 4 KB) RRU, at least 1, halved when eventually consistent; Query: the full "
    "size of every item read (before any projection) summed, rounded up to 4 KB, at least 1, halved "
    "when eventually consistent; TransactGetItems: 2 RRU per 4 KB item",
    "SQS: one request per call and per started 64 KB of payload (a SendMessageBatch of ten small "
    "messages is one request)",
    "DynamoDB Streams: one record per item a write changes (none when the item is left as it was: a "
    "failed condition, a delete of an absent item), counted when the item passes the aggregator's "
    "event filter (cart lines: pk cart#... or user#...)",
)


# -- sizes and units ---------------------------------------------------------------------------------------


def _number_size(text: str) -> int:
    value = Decimal(text)
    digits = len(value.normalize().as_tuple().digits) if value else 1
    return math.ceil(digits / 2) + 1


def value_size(value: Mapping[str, Any]) -> int:
    """Bytes of one attribute value in DynamoDB JSON (``{"S": "..."}``), without its name."""
    [(kind, content)] = value.items()
    if kind == "S":
        return len(content.encode())
    if kind == "N":
        return _number_size(content)
    if kind == "B":
        return len(content)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(item.encode()) for item in content)
    if kind == "NS":
        return sum(_number_size(item) for item in content)
    if kind == "BS":
        return sum(len(item) for item in content)
    if kind == "L":
        return 3 + sum(1 + value_size(item) for item in content)
    if kind == "M":
        return 3 + sum(1 + len(name.encode()) + value_size(item) for name, item in content.items())
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def item_size(item: Mapping[str, Any] | None) -> int:
    """Bytes DynamoDB bills an item for (no per-item storage overhead: that is for storage only)."""
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def write_units(before: int, after: int, *, transactional: bool = False) -> int:
    """WRU of one item write: the larger of its sizes before and after, per started KB, at least 1."""
    units = max(1, math.ceil(max(before, after) / WRITE_UNIT_BYTES))
    return 2 * units if transactional else units


def read_units(size: int, *, consistent: bool, transactional: bool = False) -> float:
    """RRU of one read of ``size`` bytes (a GetItem's item, or a Query's items summed)."""
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    if transactional:
        return 2.0 * units
    return float(units) if consistent else units / 2


def sqs_requests(payload_bytes: int) -> int:
    """Billed SQS requests of one call that carries ``payload_bytes``."""
    return max(1, math.ceil(payload_bytes / SQS_CHUNK_BYTES))


def _message_bytes(message: Mapping[str, Any]) -> int:
    size = len(str(message.get("MessageBody", message.get("Body", ""))).encode())
    for name, attribute in (message.get("MessageAttributes") or {}).items():
        size += len(name.encode()) + len(str(attribute.get("DataType", "")).encode())
        size += len(str(attribute.get("StringValue", "")).encode()) + len(attribute.get("BinaryValue", b""))
    return size


# -- the meter -------------------------------------------------------------------------------------------------


@dataclass
class Usage:
    """What the metered calls of one window are billed for."""

    read_units: float = 0.0
    write_units: float = 0.0
    stream_records: int = 0
    sqs_requests: float = 0.0
    messages_sent: int = 0
    calls: Counter[str] = field(default_factory=Counter)
    moto_capacity: float = 0.0
    details: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return "; ".join(self.details) or "no AWS calls"


_NAME = re.compile(r"#[A-Za-z0-9_]+")


class CapacityMeter:
    """botocore hooks on the runtime's clients: every DynamoDB request asks for ReturnConsumedCapacity,
    and every call adds its computed units (and moto's reported ones) to the current window.

    ``peek`` is a DynamoDB client without the hooks, used to read the items a call touches (strongly
    consistent GetItem before and after each write; the Query again without its projection).
    ``streamed`` says whether a change to the item of this key reaches the stream's consumer (its
    event filter); by default every change does.
    """

    def __init__(self, peek: Any, streamed: Callable[[Mapping[str, Any]], bool] | None = None) -> None:
        self._peek = peek
        self._streamed = streamed or (lambda _key: True)
        self._key_names: dict[str, list[str]] = {}
        self.usage = Usage()
        self.active = False

    def attach(self, *clients: Any) -> None:
        # Kept on self: botocore holds event handlers by weak reference.
        self._handlers = (self._before, self._after)
        for client in clients:
            events = client.meta.events
            events.register("before-parameter-build", self._handlers[0], unique_id="bench-capacity-before")
            events.register("after-call", self._handlers[1], unique_id="bench-capacity-after")

    @contextlib.contextmanager
    def measuring(self) -> Iterator[Usage]:
        """Meter the calls made inside the block (outside it the hooks only add ReturnConsumedCapacity,
        so that timed calls pay for no extra reads)."""
        self.usage = Usage()
        self.active = True
        try:
            yield self.usage
        finally:
            self.active = False

    # -- hooks
    def _before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        service = model.service_model.service_id.hyphenize()
        if service == "dynamodb" and "ReturnConsumedCapacity" in model.input_shape.members:
            params.setdefault("ReturnConsumedCapacity", "TOTAL")
        if not self.active:
            return
        if service == "dynamodb":
            context["bench_before"] = [
                (table, key, self._item(table, key)) for table, key in self._written_keys(model.name, params)
            ]
        context["bench_params"] = dict(params)

    def _after(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if not self.active or "bench_params" not in context:
            return
        service = model.service_model.service_id.hyphenize()
        operation = model.name
        params = context["bench_params"]
        self.usage.calls[f"{model.service_model.service_id} {operation}"] += 1
        if service == "dynamodb":
            self._dynamodb(operation, params, parsed, context.get("bench_before", []))
        elif service == "sqs":
            self._sqs(operation, params, parsed)

    # -- DynamoDB
    def _key_of(self, table: str, item: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        if table not in self._key_names:
            schema = self._peek.describe_table(TableName=table)["Table"]["KeySchema"]
            self._key_names[table] = [entry["AttributeName"] for entry in schema]
        return table, {name: item[name] for name in self._key_names[table]}

    def _written_keys(self, operation: str, params: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            requests = [params]
        elif operation == "TransactWriteItems":
            requests = [next(iter(action.values())) for action in params["TransactItems"]]
        elif operation == "BatchWriteItem":
            requests = [
                {"TableName": table, **next(iter(write.values()))}
                for table, writes in params["RequestItems"].items()
                for write in writes
            ]
        else:
            return []
        return [self._key_of(r["TableName"], r.get("Key") or r["Item"]) for r in requests]

    def _item(self, table: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
        return self._peek.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")

    def _dynamodb(
        self,
        operation: str,
        params: Mapping[str, Any],
        parsed: Mapping[str, Any],
        before: list[tuple[str, dict[str, Any], dict[str, Any] | None]],
    ) -> None:
        usage = self.usage
        reported = parsed.get("ConsumedCapacity")
        for entry in reported if isinstance(reported, list) else [reported] if reported else []:
            usage.moto_capacity += float(entry.get("CapacityUnits", 0))
        failed = "Error" in parsed and parsed["Error"].get("Code")
        if before:
            transactional = operation == "TransactWriteItems"
            changes = [(key, old, self._item(table, key)) for table, key, old in before]
            sizes = [(item_size(old), item_size(new)) for _, old, new in changes]
            units = sum(write_units(old, new, transactional=transactional) for old, new in sizes)
            usage.write_units += units
            usage.stream_records += sum(1 for key, old, new in changes if old != new and self._streamed(key))
            largest = max(max(pair) for pair in sizes)
            what = f"{len(sizes)} items" if transactional or len(sizes) > 1 else "1 item"
            suffix = f", {failed}" if failed else ""
            usage.details.append(
                f"{operation} ({what}, largest {largest} B{suffix}): {units} WRU"
                + (", 2 a KB per item" if transactional else "")
            )
        elif operation == "GetItem":
            item = self._peek.get_item(TableName=params["TableName"], Key=params["Key"]).get("Item")
            consistent = bool(params.get("ConsistentRead"))
            units = read_units(item_size(item), consistent=consistent)
            usage.read_units += units
            usage.details.append(f"GetItem ({item_size(item)} B, {_consistency(consistent)}): {units:g} RRU")
        elif operation == "Query":
            consistent = bool(params.get("ConsistentRead"))
            items = self._full_query(params)
            size = sum(item_size(item) for item in items)
            units = read_units(size, consistent=consistent)
            usage.read_units += units
            usage.details.append(
                f"Query ({len(items)} items, {size} B, {_consistency(consistent)}): {units:g} RRU"
            )
        elif operation == "TransactGetItems":
            for action in params["TransactItems"]:
                get = action["Get"]
                item = self._peek.get_item(TableName=get["TableName"], Key=get["Key"]).get("Item")
                usage.read_units += read_units(item_size(item), consistent=True, transactional=True)
            usage.details.append(f"TransactGetItems ({len(params['TransactItems'])} items)")
        else:
            raise NotImplementedError(f"no capacity rule for DynamoDB {operation} in bench/capacity.py")

    def _full_query(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The items the Query read, whole: the same page again without its projection."""
        if "FilterExpression" in params or "QueryFilter" in params:
            raise NotImplementedError("a filtered Query: add its items read before the filter")
        query = {
            key: value
            for key, value in params.items()
            if key not in ("ProjectionExpression", "Select", "AttributesToGet", "ReturnConsumedCapacity")
        }
        if "ExpressionAttributeNames" in query:
            used = set(_NAME.findall(query.get("KeyConditionExpression", "")))
            names = {name: value for name, value in query["ExpressionAttributeNames"].items() if name in used}
            if names:
                query["ExpressionAttributeNames"] = names
            else:
                del query["ExpressionAttributeNames"]
        return self._peek.query(**query).get("Items", [])

    # -- SQS
    def _sqs(self, operation: str, params: Mapping[str, Any], parsed: Mapping[str, Any]) -> None:
        usage = self.usage
        if operation == "SendMessageBatch":
            payload = sum(_message_bytes(entry) for entry in params["Entries"])
            sent = len(parsed.get("Successful", []))
        elif operation == "SendMessage":
            payload = _message_bytes(params)
            sent = 1 if "MessageId" in parsed else 0
        elif operation == "ReceiveMessage":
            payload = sum(_message_bytes(message) for message in parsed.get("Messages", []))
            sent = 0
        else:
            payload, sent = 0, 0
        requests = sqs_requests(payload)
        usage.sqs_requests += requests
        usage.messages_sent += sent
        usage.details.append(f"{operation} ({payload} B payload): {requests} SQS request(s)")


def _consistency(consistent: bool) -> str:
    return "strongly consistent" if consistent else "eventually consistent"
