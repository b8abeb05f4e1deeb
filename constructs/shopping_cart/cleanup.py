"""MigratedLineCleanup: deletes the anonymous cart lines that a sign-in migrated to the user's cart."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs

from constructs import Construct

from . import functions
from .queues import terminal_queue
from .table import grant_table_access

DELETE_WORKER_TIMEOUT = Duration.seconds(30)
#: SQS guidance: the visibility timeout of a Lambda-triggering queue is at least 6x the function timeout.
VISIBILITY_TIMEOUT_FACTOR = 6


class MigratedLineCleanup(Construct):
    """The delete queue (the cart API sends it the keys of migrated anonymous lines), its dead-letter
    queue and the worker that deletes those lines, with partial batch responses.

    Keyword properties:
        table: the cart table; the worker may delete ``cart#`` (anonymous) lines only.
        dead_letter_queue: where a message goes after ``max_receive_count`` receives (default: a new
            terminal queue, ``DeadLetterQueue``).
        batch_size, max_concurrency: the SQS mapping's (no batching window).
        max_receive_count: receives before a message moves to the dead-letter queue.
        reserved_concurrency: the worker's reserved concurrency (0 or None: none).
        options: what every function of the cart shares (:class:`shopping_cart.functions.FunctionOptions`).
        function_props: ``aws_lambda.Function`` keyword properties of this worker, over the defaults
            and ``options.function_props`` (see :func:`shopping_cart.functions.service_function`).

    Attributes: ``queue`` (grant the sender ``queue.grant_send_messages``), ``dead_letter_queue``,
    ``function``, ``event_source``.

    The delete queue is this construct's ``Default`` child: under the id ``DeleteQueue`` (as
    :class:`shopping_cart.ShoppingCart` creates it) it keeps the logical id of earlier releases, and
    the deletions waiting in it survive an upgrade.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: dynamodb.ITable,
        dead_letter_queue: sqs.IQueue | None = None,
        batch_size: int = 10,
        max_concurrency: int = 5,
        max_receive_count: int = 5,
        reserved_concurrency: int | None = None,
        options: functions.FunctionOptions | None = None,
        function_props: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        options = options or functions.FunctionOptions()
        self.dead_letter_queue = dead_letter_queue or terminal_queue(
            self, "DeadLetterQueue", "the dead-letter queue of the delete queue"
        )
        self.queue = sqs.Queue(
            self,
            "Default",
            visibility_timeout=Duration.seconds(
                DELETE_WORKER_TIMEOUT.to_seconds() * VISIBILITY_TIMEOUT_FACTOR
            ),
            retention_period=Duration.days(4),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letter_queue, max_receive_count=max_receive_count
            ),
        )
        self.function = functions.cart_function(
            self,
            "Worker",
            handler=functions.DELETE_WORKER_HANDLER,
            description="Shopping cart delete worker (migrated anonymous lines)",
            timeout=DELETE_WORKER_TIMEOUT,
            settings={"table_name": table.table_name},
            options=options,
            function_props=function_props,
            reserved_concurrency=reserved_concurrency,
            dead_letter_reason="Invoked by the delete queue's SQS event source mapping, never asynchronously: "
            "a message that keeps failing moves to DeleteDeadLetterQueue by the queue's redrive policy.",
        )
        grant_table_access(table, self.function, "delete_worker")
        # Consume permissions on the queue are granted by the event source.
        self.event_source = event_sources.SqsEventSource(
            self.queue,
            batch_size=batch_size,
            report_batch_item_failures=True,
            max_concurrency=max_concurrency,
        )
        self.function.add_event_source(self.event_source)
        _acknowledge_no_destination(self.function)


def _acknowledge_no_destination(function: lambda_.Function) -> None:
    for child in function.node.children:
        if isinstance(child, lambda_.EventSourceMapping):
            Validations.of(child).acknowledge(
                Acknowledgment(
                    id="Serverless-LambdaEventSourceMappingDestination",
                    reason="Lambda supports no on-failure destination for SQS event source mappings; "
                    "the delete queue's redrive policy moves failing messages to DeleteDeadLetterQueue.",
                )
            )
