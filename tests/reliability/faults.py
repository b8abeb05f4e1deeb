"""Fault injection for the in-process reliability tests: an AWS that fails the way AWS fails, and
Lambda's event sources as the construct configures them.

`FaultyAws` wraps moto's request processing (the unit suite's serialised one), so a fault sits exactly
where DynamoDB or SQS would produce it: inside botocore's send-and-retry loop. A throttle is answered
without touching the table (DynamoDB guarantees a throttled request did nothing) and botocore's retry
mode sees it as it would in AWS; a lost response is applied first and then the connection drops, which
is what makes a retry dangerous. It also does what moto does not: a TransactWriteItems repeated with
the ClientRequestToken of one that succeeded is answered with success and not applied again (DynamoDB
keeps tokens for 10 minutes; botocore fills one in and reuses it on its retries).

Requests from the tests' own clients (to arrange and inspect the table) are never faulted: they carry
the EXEMPT_HEADER, set by `exempt()`.
"""

from __future__ import annotations

import contextlib
import copy
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ReadTimeoutError
from moto.core.botocore_stubber import BotocoreStubber

EXEMPT_HEADER = "X-Reliability-Exempt"
DYNAMODB_ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"


class LambdaKilled(BaseException):
    """The execution environment dies here (a timeout or a crash): like Lambda's kill, it is a
    BaseException, so no `except Exception` in the runtime (Powertools' batch processor, the
    resolver's handlers) can catch it and carry on."""


Response = tuple[int, dict[str, str], str]


def dynamodb_error(code: str, status: int = 400, **extra: Any) -> Response:
    body = {"__type": DYNAMODB_ERROR_PREFIX + code, "message": f"injected {code}", **extra}
    headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": str(uuid.uuid4())}
    return status, headers, json.dumps(body)


def throttled() -> Response:
    return dynamodb_error("ThrottlingException")


def internal_server_error() -> Response:
    return dynamodb_error("InternalServerError", status=500)


def transaction_conflict() -> Response:
    return dynamodb_error("TransactionConflictException")


def transaction_throttled(actions: int) -> Response:
    """How DynamoDB answers a transaction when one of its items is throttled: a cancellation whose
    reasons say ThrottlingError, not a ThrottlingException (so botocore does not retry it)."""
    reasons = [{"Code": "ThrottlingError", "Message": "Throughput exceeds the current capacity"}]
    reasons += [{"Code": "None"}] * (actions - 1)
    message = (
        "Transaction cancelled, please refer cancellation reasons for specific reasons [ThrottlingError]"
    )
    return dynamodb_error("TransactionCanceledException", Message=message, CancellationReasons=reasons)


@dataclass
class Fault:
    """What happens to the matching requests: `times` of them, from the `after`-th match on."""

    operation: str
    kind: str  # error | applied_then_error | applied_then_lost | kill_before | kill_after
    response: Callable[[dict[str, Any]], Response] | None = None
    when: Callable[[dict[str, Any]], bool] = lambda _body: True
    after: int = 0
    times: int = 1
    matched: int = 0
    fired: int = 0

    def takes(self, operation: str, body: dict[str, Any]) -> bool:
        if operation != self.operation or not self.when(body):
            return False
        self.matched += 1
        if self.matched <= self.after or self.fired >= self.times:
            return False
        self.fired += 1
        return True


@dataclass
class FaultyAws:
    faults: list[Fault] = field(default_factory=list)
    operations: list[str] = field(default_factory=list)
    _tokens: dict[str, Response] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, operation: str, kind: str, **options: Any) -> Fault:
        fault = Fault(operation, kind, **options)
        self.faults.append(fault)
        return fault

    def clear(self) -> None:
        self.faults.clear()

    def count(self, operation: str) -> int:
        return sum(1 for name in self.operations if name == operation)

    def wrap(self, process_request: Callable[[BotocoreStubber, Any], Any]) -> Callable[..., Any]:
        def faulty_process_request(stubber: BotocoreStubber, request: Any) -> Any:
            target = request.headers.get("X-Amz-Target")
            if request.headers.get(EXEMPT_HEADER) or not target:
                return process_request(stubber, request)
            target = target.decode() if isinstance(target, bytes) else target
            operation = target.rsplit(".", 1)[-1]
            raw = request.body or b"{}"
            body = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
            with self._lock:
                self.operations.append(operation)
                fault = next((f for f in self.faults if f.takes(operation, body)), None)
                token = body.get("ClientRequestToken") if operation == "TransactWriteItems" else None
                # A fault comes first: a DynamoDB that fails a request fails it before looking at tokens.
                if fault is None and token and token in self._tokens:
                    return self._tokens[token]  # DynamoDB's idempotent answer to a repeated token
            if fault is None:
                return self._remember(token, process_request(stubber, request))
            if fault.kind == "error":
                assert fault.response is not None
                return fault.response(body)
            if fault.kind == "kill_before":
                raise LambdaKilled(f"killed before {operation}")
            self._remember(token, process_request(stubber, request))  # the request is applied
            if fault.kind == "applied_then_error":
                assert fault.response is not None
                return fault.response(body)
            if fault.kind == "applied_then_lost":
                raise ReadTimeoutError(endpoint_url=request.url)
            if fault.kind == "kill_after":
                raise LambdaKilled(f"killed after {operation}")
            raise AssertionError(f"unknown fault kind {fault.kind}")

        return faulty_process_request

    def _remember(self, token: str | None, response: Any) -> Any:
        if token and response is not None and response[0] == 200:
            with self._lock:
                self._tokens[token] = response
        return response


@contextlib.contextmanager
def faulty_aws() -> Iterator[FaultyAws]:
    """Install a FaultyAws around moto's (already serialised) request processing."""
    faults = FaultyAws()
    original = BotocoreStubber.process_request
    BotocoreStubber.process_request = faults.wrap(original)  # type: ignore[method-assign]
    try:
        yield faults
    finally:
        BotocoreStubber.process_request = original  # type: ignore[method-assign]


def exempt(*clients: Any) -> None:
    """Mark the requests of these (the tests' own) clients as never faulted."""

    def mark(request: Any, **_kwargs: Any) -> None:
        request.headers[EXEMPT_HEADER] = "1"

    for client in clients:
        client.meta.events.register("before-send", mark, unique_id="reliability-exempt")


# -- Lambda's event sources ----------------------------------------------------------------------------


@dataclass
class StreamDelivery:
    """The aggregator's DynamoDB stream event source as the construct configures it: batches of up to
    100 records in stream order; a batch whose invocation fails (an exception, or the environment
    killed) is delivered again whole, the same records in the same order (no bisect, no partial
    batch response), up to `max_retries` times; then it goes to the on-failure destination."""

    read_records: Callable[[], list[dict[str, Any]]]
    handler: Callable[[dict[str, Any], Any], Any]
    context: Any
    batch_size: int = 100
    max_retries: int = 10
    invocations: int = 0
    failed_invocations: int = 0
    on_failure: list[list[dict[str, Any]]] = field(default_factory=list)

    def drain(self) -> None:
        records = self.read_records()
        for start in range(0, len(records), self.batch_size):
            self._deliver(records[start : start + self.batch_size])

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        for _attempt in range(self.max_retries + 1):
            self.invocations += 1
            try:
                # A fresh copy each time, as each delivery is a fresh JSON event.
                self.handler({"Records": copy.deepcopy(batch)}, self.context)
            except (Exception, LambdaKilled):
                self.failed_invocations += 1
                continue
            return
        self.on_failure.append(batch)


@dataclass
class QueueDelivery:
    """The delete worker's SQS event source: batches of up to 10 messages, partial batch responses
    (only the reported messages stay on the queue), a failed invocation leaves the whole batch. The
    queue's own redrive policy moves a message to the DLQ once it was received maxReceiveCount times."""

    sqs: Any
    queue_url: str
    handler: Callable[[dict[str, Any], Any], Any]
    context: Any
    invocations: int = 0

    def drain(self, max_polls: int = 50) -> None:
        for _ in range(max_polls):
            messages = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
            ).get("Messages", [])
            if not messages:
                return
            records = [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m.get("Attributes", {}),
                    "messageAttributes": {},
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:delete-queue",
                    "awsRegion": "us-east-1",
                }
                for m in messages
            ]
            self.invocations += 1
            try:
                response = self.handler({"Records": records}, self.context)
                failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
            except (Exception, LambdaKilled):
                failed = {record["messageId"] for record in records}
            done = [r for r in records if r["messageId"] not in failed]
            if done:
                self.sqs.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[{"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(done)],
                )
        raise AssertionError(f"queue {self.queue_url} did not drain in {max_polls} polls")
