"""Fault injection for the in-process reliability tests: an AWS that fails the way AWS fails, and
Lambda's event sources: the local stack's pollers (local/event_sources.py), configured from the
synthesized event source mappings, invoking the handlers in this process.

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
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ReadTimeoutError
from moto.core.botocore_stubber import BotocoreStubber

from local.cloud import EventSourceMapping, Table
from local.event_sources import DynamoDbStreamPoller, Invoke, SqsPoller, TtlDeletions

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


# -- Lambda's event sources, as synthesized -----------------------------------------------------------

# The cart stack's template as synthesized (tests/infra/test_snapshots.py keeps it equal to `cdk synth`).
CART_TEMPLATE = (
    Path(__file__).resolve().parents[1]
    / "infra/__snapshots__/test_snapshots/test_template_snapshot[ShoppingCart-Cart].json"
)
REGION = "us-east-1"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:123456789012:function:in-process"


def synthesized_mapping(source: str) -> dict[str, Any]:
    """The properties of the cart stack's event source mapping that reads a "stream" or a "queue"."""
    resources = json.loads(CART_TEMPLATE.read_text())["Resources"]
    for resource in resources.values():
        if resource["Type"] != "AWS::Lambda::EventSourceMapping":
            continue
        origin, attribute = resource["Properties"]["EventSourceArn"]["Fn::GetAtt"]
        kind = "stream" if attribute == "StreamArn" else resources[origin]["Type"].split("::")[-1].lower()
        if kind == source:
            return resource["Properties"]
    raise AssertionError(f"no event source mapping reads a {source} in {CART_TEMPLATE.name}")


def in_process(handler: Callable[[dict[str, Any], Any], Any], context: Any) -> Invoke:
    """Lambda running `handler` here: each invocation gets its own JSON copy of the event, and an
    exception or the environment killed (LambdaKilled) is a function error."""

    def invoke(_function_arn: str, event: dict[str, Any]) -> tuple[Any, dict[str, Any] | None]:
        try:
            return handler(json.loads(json.dumps(event)), context), None
        except (Exception, LambdaKilled) as error:
            return None, {"errorType": type(error).__name__, "errorMessage": str(error)}

    return invoke


def stream_poller(
    dynamodb: Any, streams: Any, sqs: Any, table_name: str, invoke: Invoke
) -> DynamoDbStreamPoller:
    """The local stack's stream poller, configured as the synthesized mapping configures the table's
    stream; retries without the backoff (tests count attempts, they do not time them). A batch that
    exhausts its retries is counted in `failed_batches` (no destination queue here)."""
    stream_arn = dynamodb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
    properties = {
        **synthesized_mapping("stream"),
        "EventSourceArn": stream_arn,
        "DestinationConfig": {"OnFailure": {"Destination": f"arn:aws:sqs:{REGION}:123456789012:none"}},
    }
    mapping = EventSourceMapping(function_arn=FUNCTION_ARN, source_arn=stream_arn, properties=properties)
    table = Table(table_name, stream_arn.split("/stream/")[0], stream_arn, None, ("pk", "sk"))
    return DynamoDbStreamPoller(
        mapping,
        table,
        streams=streams,
        sqs=sqs,
        queue_urls={},
        invoke=invoke,
        ttl_deletions=TtlDeletions(),
        region=REGION,
        retry_backoff=(0.0,),
    )


def queue_poller(sqs: Any, queue_url: str, invoke: Invoke) -> SqsPoller:
    """The local stack's queue poller, configured as the synthesized mapping configures the queue."""
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    properties = {**synthesized_mapping("queue"), "EventSourceArn": queue_arn}
    mapping = EventSourceMapping(function_arn=FUNCTION_ARN, source_arn=queue_arn, properties=properties)
    return SqsPoller(mapping, queue_url, sqs=sqs, invoke=invoke, region=REGION)


def drain_queue(poller: SqsPoller, max_polls: int = 50) -> None:
    """Polls until a receive finds the queue empty (failed messages come back: VisibilityTimeout 0)."""
    for _ in range(max_polls):
        if poller.poll() == 0:
            return
    raise AssertionError(f"queue {poller.queue_url} did not drain in {max_polls} polls")
