"""TotalsAggregator: the function that keeps the per-product totals, fed by the table's stream."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs

from constructs import Construct

from . import functions
from .queues import terminal_queue
from .table import grant_table_access

AGGREGATOR_TIMEOUT = Duration.seconds(60)

#: The aggregator only sees cart lines: its own writes (``totals``, ``aggregator#...`` markers) never
#: invoke it. One filter, two prefixes (a list inside a pattern is an OR).
CART_LINE_FILTER = {"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "cart#"}, {"prefix": "user#"}]}}}}

_STREAM_AND_XRAY = (
    "dynamodb:ListStreams does not support resource-level permissions (the stream itself is granted by "
    "ARN), and active X-Ray tracing needs xray:PutTraceSegments/PutTelemetryRecords on '*'."
)


class TotalsAggregator(Construct):
    """Reads the cart table's stream (cart lines only) and adds each change to the ``totals`` item.

    Keyword properties:
        table: the cart table (string ``pk``/``sk``, a NEW_AND_OLD_IMAGES stream); the function may
            write the ``totals`` and ``aggregator#`` items only.
        failure_queue: where the metadata of a batch goes once its retries are spent (default: a new
            terminal queue, ``FailureQueue``).
        batch_size, batching_window, retry_attempts, max_record_age: the stream mapping's.
        reserved_concurrency: the function's reserved concurrency (0 or None: none).
        options: what every function of the cart shares (:class:`shopping_cart.functions.FunctionOptions`).
        function_props: ``aws_lambda.Function`` keyword properties of this function, over the defaults
            and ``options.function_props`` (see :func:`shopping_cart.functions.service_function`).

    Attributes: ``function``, ``failure_queue``, ``event_source``.

    The function is this construct's ``Default`` child: under the id ``AggregatorFunction`` (as
    :class:`shopping_cart.ShoppingCart` creates it) the function and its stream mapping keep the logical
    ids of earlier releases. A new mapping would start again at TRIM_HORIZON and count up to a day of
    stream records a second time (the batch markers only recognise the same batch).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: dynamodb.ITable,
        failure_queue: sqs.IQueue | None = None,
        batch_size: int = 100,
        batching_window: Duration = Duration.seconds(60),
        retry_attempts: int = 10,
        max_record_age: Duration = Duration.days(1),
        reserved_concurrency: int | None = None,
        options: functions.FunctionOptions | None = None,
        function_props: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        options = options or functions.FunctionOptions()
        self.failure_queue = failure_queue or terminal_queue(
            self, "FailureQueue", "the on-failure destination of the totals aggregator"
        )
        self.function = functions.cart_function(
            self,
            "Default",
            handler=functions.AGGREGATOR_HANDLER,
            description="Shopping cart totals aggregator (table stream)",
            timeout=AGGREGATOR_TIMEOUT,
            settings={"table_name": table.table_name},
            options=options,
            function_props=function_props,
            reserved_concurrency=reserved_concurrency,
            dead_letter_reason="Invoked by the table's stream event source mapping, never asynchronously: a "
            "batch that fails its retries goes to the mapping's on-failure destination, TotalsFailureQueue.",
            wildcard_reason=_STREAM_AND_XRAY,
        )
        # Writes only: one TransactWriteItems of UpdateItem (ADD) per product plus a conditional PutItem
        # of the batch marker. Stream read is granted by the event source below.
        grant_table_access(table, self.function, "aggregator")
        # Retries are of the WHOLE batch: no bisect and no partial batch response (ReportBatchItemFailures).
        # The runtime makes a batch idempotent with a marker keyed by a hash of the batch's ordered event
        # ids (docs/DESIGN.md, "Totals"); bisecting or resuming from a failed item would deliver the same
        # records again grouped differently, which that marker cannot recognise, and totals would be
        # counted twice. After the retry cap (or the maximum record age) the batch's metadata goes to the
        # on-failure queue.
        self.event_source = event_sources.DynamoEventSource(
            table,
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=batch_size,
            max_batching_window=batching_window,
            filters=[lambda_.FilterCriteria.filter(CART_LINE_FILTER)],
            retry_attempts=retry_attempts,
            max_record_age=max_record_age,
            bisect_batch_on_error=False,
            report_batch_item_failures=False,
            parallelization_factor=1,
            on_failure=event_sources.SqsDlq(self.failure_queue),
        )
        self.function.add_event_source(self.event_source)
