"""Event source mappings, emulated: DynamoDB Streams -> Lambda and SQS -> Lambda, plus DynamoDB's TTL.

Each poller reads its settings from the mapping's CloudFormation properties: batch size, batching
window, filter criteria (evaluated by moto's EventBridge pattern matcher, the syntax Lambda uses),
partial batch responses, retry cap, bisect on error, maximum record age, maximum concurrency and the
on-failure destination. moto never expires TTL items, so the TTL sweeper does, and the REMOVE records
it causes carry DynamoDB's service identity, as TTL deletes do.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from moto.events.models import EventPattern

from .cloud import EventSourceMapping, Table

Invoke = Callable[[str, dict[str, Any]], tuple[Any, dict[str, Any] | None]]
log = logging.getLogger("local.event_sources")

TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
RETRY_BACKOFF_SECONDS = (0.2, 0.5, 1.0, 2.0)
SCAN_PAGE_ITEMS = 500


class RecordFilter:
    """Lambda filter criteria: a record is delivered when any filter pattern matches it."""

    def __init__(self, properties: dict[str, Any]) -> None:
        filters = (properties.get("FilterCriteria") or {}).get("Filters") or []
        self._patterns = [EventPattern.load(f["Pattern"]) for f in filters if f.get("Pattern")]

    def matches(self, record: dict[str, Any]) -> bool:
        if not self._patterns:
            return True
        return any(pattern.matches_event(record) for pattern in self._patterns)


def _batch_item_failures(payload: Any) -> list[str] | None:
    """The item identifiers of a partial batch response; None when the response is not valid."""
    if payload is None:
        return []
    if not isinstance(payload, dict):
        return None
    failures = payload.get("batchItemFailures")
    if failures is None:
        return []
    if not isinstance(failures, list):
        return None
    identifiers = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier:
            return None
        identifiers.append(str(identifier))
    return identifiers


class _Poller(threading.Thread):
    def __init__(self, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.stopping = threading.Event()
        self.idle = threading.Event()

    def stop(self) -> None:
        self.stopping.set()


# --- DynamoDB Streams -------------------------------------------------------------------------


class TtlDeletions:
    """Keys that the TTL sweeper deleted, so their REMOVE records can carry the service identity."""

    def __init__(self) -> None:
        self._keys: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    @staticmethod
    def _key(table: str, keys: dict[str, Any]) -> tuple[str, str]:
        return table, json.dumps(keys, sort_keys=True)

    def add(self, table: str, keys: dict[str, Any]) -> None:
        with self._lock:
            self._keys.add(self._key(table, keys))

    def pop(self, table: str, keys: dict[str, Any]) -> bool:
        with self._lock:
            key = self._key(table, keys)
            if key in self._keys:
                self._keys.remove(key)
                return True
            return False


def _epoch(value: Any) -> float:
    if isinstance(value, dt.datetime):
        return value.timestamp()
    return float(value)


class DynamoDbStreamPoller(_Poller):
    def __init__(
        self,
        mapping: EventSourceMapping,
        table: Table,
        *,
        streams: Any,
        sqs: Any,
        queue_urls: dict[str, str],
        invoke: Invoke,
        ttl_deletions: TtlDeletions,
        region: str,
        poll_interval: float = 0.25,
        retry_backoff: tuple[float, ...] = RETRY_BACKOFF_SECONDS,
    ) -> None:
        super().__init__(f"stream->{mapping.function_arn.rsplit(':', 1)[-1]}")
        self.mapping = mapping
        self.table = table
        props = mapping.properties
        self.batch_size = int(props.get("BatchSize", 100))
        self.window = float(props.get("MaximumBatchingWindowInSeconds", 0))
        self.max_retries = int(props.get("MaximumRetryAttempts", -1))
        self.max_record_age = int(props.get("MaximumRecordAgeInSeconds", -1))
        self.bisect = bool(props.get("BisectBatchOnFunctionError", False))
        self.partial = "ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or [])
        self.on_failure = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        self.starting_position = props.get("StartingPosition", "LATEST")
        self.filter = RecordFilter(props)
        self._streams = streams
        self._sqs = sqs
        self._queue_urls = queue_urls
        self._invoke = invoke
        self._ttl_deletions = ttl_deletions
        self._region = region
        self._poll_interval = poll_interval
        self._retry_backoff = retry_backoff or (0.0,)
        self._positions: dict[str, str | None] = {}  # shard id -> last sequence number read
        self.invocations = 0
        self.failed_invocations = 0  # an error, or records reported failed
        self.failed_batches = 0  # sent to the on-failure destination (or dropped without one)

    def _read(self) -> list[dict[str, Any]]:
        """New records of every shard since the last read.

        A fresh iterator is taken on every read, after the last sequence number seen: moto replaces a
        table (and its stream) when it rolls back a cancelled transaction, and an iterator taken before
        that keeps reading the discarded copy.
        """
        description = self._streams.describe_stream(StreamArn=self.table.stream_arn)["StreamDescription"]
        records: list[dict[str, Any]] = []
        for shard in description["Shards"]:
            shard_id = shard["ShardId"]
            first_read = shard_id not in self._positions
            position = self._positions.get(shard_id)
            request: dict[str, Any] = {"StreamArn": self.table.stream_arn, "ShardId": shard_id}
            if position is None:
                request["ShardIteratorType"] = "TRIM_HORIZON"
            else:
                request.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=position)
            iterator = self._streams.get_shard_iterator(**request)["ShardIterator"]
            shard_records: list[dict[str, Any]] = []
            while iterator:
                response = self._streams.get_records(ShardIterator=iterator, Limit=1000)
                shard_records.extend(response["Records"])
                if not response["Records"]:
                    break
                iterator = response.get("NextShardIterator")
            if shard_records:
                self._positions[shard_id] = shard_records[-1]["dynamodb"]["SequenceNumber"]
            elif first_read:
                self._positions[shard_id] = None
            # LATEST: what a shard held before the mapping existed is skipped, as Lambda does.
            if first_read and self.starting_position != "TRIM_HORIZON":
                continue
            records.extend(self._lambda_record(r) for r in shard_records)
        return records

    def _lambda_record(self, record: dict[str, Any]) -> dict[str, Any]:
        stream_record = dict(record["dynamodb"])
        if "ApproximateCreationDateTime" in stream_record:
            stream_record["ApproximateCreationDateTime"] = _epoch(
                stream_record["ApproximateCreationDateTime"]
            )
        converted = {
            "eventID": record["eventID"],
            "eventName": record["eventName"],
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": self._region,
            "dynamodb": _plain(stream_record),
            "eventSourceARN": self.table.stream_arn,
        }
        if record["eventName"] == "REMOVE" and self._ttl_deletions.pop(
            self.table.name, converted["dynamodb"]["Keys"]
        ):
            converted["userIdentity"] = dict(TTL_IDENTITY)
        return converted

    def poll(self) -> int:
        """Reads what is new and delivers all of it now, in batches of the mapping's size, as if its
        batching window had passed: for whoever drives the poller instead of its thread (tests)."""
        records = [r for r in self._read() if self.filter.matches(r)]
        for start in range(0, len(records), self.batch_size):
            self._deliver(records[start : start + self.batch_size])
        return len(records)

    def run(self) -> None:
        pending: list[dict[str, Any]] = []
        first_arrival = 0.0
        while not self.stopping.is_set():
            try:
                fresh = [r for r in self._read() if self.filter.matches(r)]
            except Exception:
                if self.stopping.is_set():
                    return
                log.exception("reading %s failed", self.table.stream_arn)
                self.stopping.wait(1)
                continue
            if fresh and not pending:
                first_arrival = time.monotonic()
            pending.extend(fresh)
            if pending:
                self.idle.clear()
            while pending and (
                len(pending) >= self.batch_size or time.monotonic() - first_arrival >= self.window
            ):
                batch, pending = pending[: self.batch_size], pending[self.batch_size :]
                self._deliver(batch)
                first_arrival = time.monotonic()
            if not pending:
                self.idle.set()
            self.stopping.wait(self._poll_interval)

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        attempts = 0
        while batch and not self.stopping.is_set():
            self.invocations += 1
            payload, error = self._invoke(self.mapping.function_arn, {"Records": batch})
            failed_from = 0 if error is not None else self._first_failed(batch, payload)
            if failed_from is None:
                return
            self.failed_invocations += 1
            if error is not None and self.bisect and len(batch) > 1:
                middle = len(batch) // 2
                self._deliver(batch[:middle])
                self._deliver(batch[middle:])
                return
            batch = batch[failed_from:]
            attempts += 1
            oldest = min(r["dynamodb"].get("ApproximateCreationDateTime", time.time()) for r in batch)
            too_old = 0 <= self.max_record_age < time.time() - oldest
            if (0 <= self.max_retries < attempts) or too_old:
                self._send_to_on_failure(
                    batch, attempts, "RecordAgeExceeded" if too_old else "RetryAttemptsExhausted"
                )
                return
            self.stopping.wait(self._retry_backoff[min(attempts - 1, len(self._retry_backoff) - 1)])

    def _first_failed(self, batch: list[dict[str, Any]], payload: Any) -> int | None:
        """Where to retry a batch from after an invocation that returned: None when all of it is done."""
        if not self.partial:
            return None
        failures = _batch_item_failures(payload)
        if failures == []:
            return None
        reported = set(failures or ())
        failed = [i for i, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] in reported]
        if not failed:
            log.warning("invalid partial batch response from %s", self.mapping.function_arn)
            return 0  # the whole batch again
        return min(failed)  # Lambda checkpoints before the first failed record and retries from there

    def _send_to_on_failure(self, batch: list[dict[str, Any]], attempts: int, condition: str) -> None:
        self.failed_batches += 1
        if not self.on_failure or self.on_failure not in self._queue_urls:
            log.warning("dropping a failed batch of %d records from %s", len(batch), self.table.stream_arn)
            return
        now = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
        first, last = batch[0]["dynamodb"], batch[-1]["dynamodb"]
        record = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.mapping.function_arn,
                "condition": condition,
                "approximateInvokeCount": attempts,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "version": "1.0",
            "timestamp": now,
            "DDBStreamBatchInfo": {
                "shardId": next(iter(self._positions), ""),
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(first.get("ApproximateCreationDateTime")),
                "approximateArrivalOfLastRecord": _iso(last.get("ApproximateCreationDateTime")),
                "batchSize": len(batch),
                "streamArn": self.table.stream_arn,
            },
        }
        self._sqs.send_message(QueueUrl=self._queue_urls[self.on_failure], MessageBody=json.dumps(record))


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat().replace("+00:00", "Z")


def _plain(value: Any) -> Any:
    """boto3 returns binary attributes as bytes and numbers as Decimal: Lambda's JSON has strings."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, bytes | bytearray):
        import base64

        return base64.b64encode(value).decode()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


# --- SQS ----------------------------------------------------------------------------------------


@dataclass
class _InFlight:
    receipt_handle: str
    visible_at: float


class SqsPoller(_Poller):
    def __init__(
        self,
        mapping: EventSourceMapping,
        queue_url: str,
        *,
        sqs: Any,
        invoke: Invoke,
        region: str,
        worker_index: int = 0,
    ) -> None:
        super().__init__(f"sqs->{mapping.function_arn.rsplit(':', 1)[-1]}#{worker_index}")
        self.mapping = mapping
        self.queue_url = queue_url
        props = mapping.properties
        self.batch_size = int(props.get("BatchSize", 10))
        self.window = float(props.get("MaximumBatchingWindowInSeconds", 0))
        self.partial = "ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or [])
        self.filter = RecordFilter(props)
        self._sqs = sqs
        self._invoke = invoke
        self._region = region
        self._in_flight: dict[str, _InFlight] = {}
        self._lock = threading.Lock()
        self.invocations = 0
        self.failed_invocations = 0  # an error, or messages reported failed

    @functools.cached_property
    def visibility_timeout(self) -> int:
        # A queue's attributes do not change while the local stack runs: read once, not per failure.
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["VisibilityTimeout"]
        )
        return int(attributes["Attributes"].get("VisibilityTimeout", 30))

    def _lambda_record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {
                name: {
                    "stringValue": value.get("StringValue"),
                    "binaryValue": value.get("BinaryValue"),
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": value["DataType"],
                }
                for name, value in (message.get("MessageAttributes") or {}).items()
            },
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": self.mapping.source_arn,
            "awsRegion": self._region,
        }

    def _matches(self, record: dict[str, Any]) -> bool:
        candidate = dict(record)
        with contextlib.suppress(ValueError):
            candidate["body"] = json.loads(record["body"])
        return self.filter.matches(candidate)

    def _receive(self, wait_seconds: int = 1) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + self.window
        while len(messages) < self.batch_size and not self.stopping.is_set():
            response = self._sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(10, self.batch_size - len(messages)),
                WaitTimeSeconds=wait_seconds if not messages else 0,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            received = response.get("Messages", [])
            messages.extend(received)
            if not received and (not messages or time.monotonic() >= deadline):
                break
            if time.monotonic() >= deadline and messages:
                break
        return messages

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                messages = self._receive()
            except Exception:
                if self.stopping.is_set():
                    return
                log.exception("receiving from %s failed", self.queue_url)
                self.stopping.wait(1)
                continue
            if not messages:
                self.idle.set()
                continue
            self.idle.clear()
            self._handle(messages)

    def poll(self, wait_seconds: int = 0) -> int:
        """Receives one batch and delivers it: for whoever drives the poller instead of its thread
        (tests). The number of messages received; 0 when the queue had none to give."""
        messages = self._receive(wait_seconds)
        if messages:
            self._handle(messages)
        return len(messages)

    def _handle(self, messages: list[dict[str, Any]]) -> None:
        records = [self._lambda_record(m) for m in messages]
        delivered = [r for r in records if self._matches(r)]
        # Lambda deletes messages that its filter criteria drop.
        self._delete_messages([r for r in records if r not in delivered])
        if delivered:
            self._deliver(delivered)

    def _deliver(self, records: list[dict[str, Any]]) -> None:
        self.invocations += 1
        payload, error = self._invoke(self.mapping.function_arn, {"Records": records})
        failed_ids: set[str]
        if error is not None:
            failed_ids = {r["messageId"] for r in records}
        elif self.partial:
            failures = _batch_item_failures(payload)
            known = {r["messageId"] for r in records}
            # An identifier that is not in the batch makes Lambda treat the whole batch as failed.
            failed_ids = known if failures is None or not set(failures) <= known else set(failures)
        else:
            failed_ids = set()
        self.failed_invocations += bool(failed_ids)
        self._delete_messages([r for r in records if r["messageId"] not in failed_ids])
        visibility = self.visibility_timeout
        with self._lock:
            for record in records:
                if record["messageId"] in failed_ids:
                    self._in_flight[record["messageId"]] = _InFlight(
                        record["receiptHandle"], time.time() + visibility
                    )
                else:
                    self._in_flight.pop(record["messageId"], None)

    def queue_depths(self) -> tuple[int, int]:
        """The queue's visible messages, and those received and not yet deleted or released."""
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        visible = int(attributes["ApproximateNumberOfMessages"])
        return visible, int(attributes["ApproximateNumberOfMessagesNotVisible"])

    @property
    def failed_in_flight(self) -> int:
        """Messages this poller's function failed, invisible on the queue until their timeout ends."""
        with self._lock:
            return len(self._in_flight)

    def _delete_messages(self, records: list[dict[str, Any]]) -> None:
        for start in range(0, len(records), 10):
            chunk = records[start : start + 10]
            if chunk:
                self._sqs.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(chunk)
                    ],
                )

    def advance_time(self, seconds: float) -> int:
        """Makes the failed messages whose visibility timeout would end within `seconds` visible now."""
        horizon = time.time() + seconds
        with self._lock:
            due = {k: v for k, v in self._in_flight.items() if v.visible_at <= horizon}
            for key in due:
                del self._in_flight[key]
        released = 0
        for in_flight in due.values():
            try:
                self._sqs.change_message_visibility(
                    QueueUrl=self.queue_url, ReceiptHandle=in_flight.receipt_handle, VisibilityTimeout=0
                )
                released += 1
            except Exception:  # already visible again and received by someone else
                log.debug("message no longer in flight", exc_info=True)
        return released


# --- TTL --------------------------------------------------------------------------------------


class TtlSweeper(_Poller):
    """Deletes items whose TTL attribute is in the past, as DynamoDB's TTL process does."""

    def __init__(
        self, tables: list[Table], *, dynamodb: Any, deletions: TtlDeletions, interval: float = 5.0
    ) -> None:
        super().__init__("ttl-sweeper")
        self.tables = [t for t in tables if t.ttl_attribute]
        self._dynamodb = dynamodb
        self._deletions = deletions
        self._interval = interval
        self._lock = threading.Lock()
        self.deleted = 0

    def run(self) -> None:
        wait = self._interval
        while not self.stopping.wait(wait):
            started = time.monotonic()
            try:
                self.sweep(time.time())
            except Exception:
                if not self.stopping.is_set():
                    log.exception("TTL sweep failed")
            # DynamoDB's TTL deletes within days, not seconds, and moto answers one DynamoDB request
            # at a time: a sweep of a large table takes at most a tenth of its time from the others.
            wait = max(self._interval, 9 * (time.monotonic() - started))

    def sweep(self, now: float) -> int:
        with self._lock:
            deleted = 0
            for table in self.tables:
                deleted += self._sweep_table(table, now)
            self.deleted += deleted
            return deleted

    def _sweep_table(self, table: Table, now: float) -> int:
        assert table.ttl_attribute is not None
        deleted = 0
        paginator = self._dynamodb.get_paginator("scan")
        key_names = {f"#key{number}": name for number, name in enumerate(table.key_names)}
        for page in paginator.paginate(
            TableName=table.name,
            FilterExpression="#ttl < :now",
            ProjectionExpression=", ".join([*key_names, "#ttl"]),
            ExpressionAttributeNames={**key_names, "#ttl": table.ttl_attribute},
            ExpressionAttributeValues={":now": {"N": str(int(now))}},
            # Small pages: each is one request that every other DynamoDB request waits for.
            PaginationConfig={"PageSize": SCAN_PAGE_ITEMS},
        ):
            for item in page["Items"]:
                keys = {name: item[name] for name in table.key_names}
                self._deletions.add(table.name, _plain(keys))
                try:
                    self._dynamodb.delete_item(
                        TableName=table.name,
                        Key=keys,
                        # Only if nobody refreshed the item since the scan read it.
                        ConditionExpression="#ttl = :seen",
                        ExpressionAttributeNames={"#ttl": table.ttl_attribute},
                        ExpressionAttributeValues={":seen": item[table.ttl_attribute]},
                    )
                    deleted += 1
                except self._dynamodb.exceptions.ConditionalCheckFailedException:
                    self._deletions.pop(table.name, _plain(keys))
        return deleted
