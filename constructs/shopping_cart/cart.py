"""ShoppingCart: the cart table, its REST API, the totals aggregator and the migrated-line cleanup.

Composed of small constructs, each usable alone: :class:`shopping_cart.CartTable`,
:class:`shopping_cart.CartApi`, :class:`shopping_cart.TotalsAggregator`,
:class:`shopping_cart.MigratedLineCleanup` and :class:`shopping_cart.CartMonitoring`. See
docs/DESIGN.md for the contract with the runtime (handlers, environment, item layout).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from constructs import Construct

from . import functions
from .cart_api import API_TIMEOUT, CartApi, CartRules
from .cart_monitoring import CartMonitoring
from .cleanup import DELETE_WORKER_TIMEOUT, VISIBILITY_TIMEOUT_FACTOR, MigratedLineCleanup
from .queues import terminal_queue
from .runtime.shared import config
from .table import (
    ANONYMOUS_LINE_KEYS,
    CART_LINE_KEYS,
    MARKER_KEYS,
    TABLE_ACCESS,
    TOTALS_KEYS,
    TTL_ATTRIBUTE,
    CartTable,
)
from .totals import AGGREGATOR_TIMEOUT, CART_LINE_FILTER, TotalsAggregator

__all__ = [
    "AGGREGATOR_TIMEOUT",
    "ANONYMOUS_LINE_KEYS",
    "API_TIMEOUT",
    "CART_LINE_FILTER",
    "CART_LINE_KEYS",
    "DELETE_WORKER_TIMEOUT",
    "MARKER_KEYS",
    "TABLE_ACCESS",
    "TOTALS_KEYS",
    "TTL_ATTRIBUTE",
    "VISIBILITY_TIMEOUT_FACTOR",
    "ShoppingCart",
    "ShoppingCartProps",
]


# Durations are immutable: one instance serves as the default of every field that uses it.
_BATCHING_WINDOW = Duration.seconds(config.APP["totalsBatchingWindowSeconds"].default)
_FIVE_MINUTES = Duration.minutes(5)
_ONE_DAY = Duration.days(1)


@dataclass(frozen=True, kw_only=True)
class ShoppingCartProps:
    """The keyword properties of :class:`ShoppingCart` (documented there), each with its default.

    Invalid values fail here, at synth time, with the property's name in the message.
    """

    user_pool: cognito.IUserPool
    user_pool_client: cognito.IUserPoolClient
    product_service_url: str
    allowed_origins: Sequence[str]
    anonymous_cart_ttl: Duration = CartRules.anonymous_cart_ttl
    user_cart_ttl: Duration = CartRules.user_cart_ttl
    totals_batch_size: int = config.APP["totalsBatchSize"].default
    totals_batching_window: Duration = _BATCHING_WINDOW
    totals_retry_attempts: int = 10
    totals_max_record_age: Duration = _ONE_DAY
    delete_batch_size: int = 10
    delete_max_concurrency: int = 5
    delete_max_receive_count: int = 5
    admin_group: str = CartRules.admin_group
    max_quantity: int = CartRules.max_quantity
    product_cache_ttl: Duration = CartRules.product_cache_ttl
    product_service_timeout: Duration = CartRules.product_service_timeout
    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN
    deletion_protection: bool | None = None
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH
    log_level: str = functions.FunctionOptions.log_level
    stage_name: str = "prod"
    throttling_rate_limit: float = 100
    throttling_burst_limit: int = 200
    cloud_watch_role: bool = True
    web_acl_arn: str | None = None
    service_name: str = functions.FunctionOptions.service_name
    metrics_namespace: str = functions.FunctionOptions.metrics_namespace
    monitoring: bool = True
    alarm_topic: sns.ITopic | None = None
    iterator_age_alarm_threshold: Duration = _FIVE_MINUTES
    server_error_alarm_threshold: int = 1
    dashboard_name: str | None = None
    product_service_invoke_arn: str | None = None
    api_reserved_concurrency: int | None = None
    aggregator_reserved_concurrency: int | None = None
    delete_worker_reserved_concurrency: int | None = None
    totals_stream_shards: int = 4
    powertools_layer_arn: str | None = None
    existing_table: dynamodb.ITable | None = None
    table_props: Mapping[str, Any] | None = None
    function_props: Mapping[str, Any] | None = None
    api_function_props: Mapping[str, Any] | None = None
    aggregator_function_props: Mapping[str, Any] | None = None
    delete_worker_function_props: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        _validate_concurrency(
            aggregator=self.aggregator_reserved_concurrency,
            delete_worker=self.delete_worker_reserved_concurrency,
            totals_stream_shards=self.totals_stream_shards,
            delete_max_concurrency=self.delete_max_concurrency,
        )
        _validate(self)

    @property
    def function_options(self) -> functions.FunctionOptions:
        return functions.FunctionOptions(
            service_name=self.service_name,
            metrics_namespace=self.metrics_namespace,
            log_level=self.log_level,
            log_retention=self.log_retention,
            removal_policy=self.removal_policy,
            powertools_layer_arn=self.powertools_layer_arn,
            function_props=self.function_props,
        )


class ShoppingCart(Construct):
    """The shopping cart microservice: a :class:`CartTable`, a :class:`MigratedLineCleanup`, a
    :class:`TotalsAggregator`, a :class:`CartApi` and a :class:`CartMonitoring`.

    Properties: keyword arguments, or ``props=`` a :class:`ShoppingCartProps` (keyword arguments then
    override its fields).

    Required keyword properties:
        user_pool: the Cognito user pool of the shoppers (tokens are verified against it).
        user_pool_client: its app client (the expected ``aud`` of ID tokens).
        product_service_url: base URL of the product service, no trailing slash (``{url}/product/{id}``).
        allowed_origins: browser origins allowed by CORS, with credentials (empty: same origin only).

    Product service calls: with ``product_service_invoke_arn`` (the execute-api ARN of an AWS_IAM
    method, such as :attr:`shopping_cart.ProductMock.internal_invoke_arn`), the cart signs its calls with
    SigV4 and its role may ``execute-api:Invoke`` that ARN only; without it, it calls
    ``product_service_url`` unsigned (an embedder's own public product service). Both carry a
    User-Agent (AWS WAF's Common Rule Set blocks requests without one).

    Reserved concurrency (0 or None: none reserved): ``api_reserved_concurrency``,
    ``aggregator_reserved_concurrency`` (at least ``totals_stream_shards``, the stream shards it may need
    to read at once with parallelization factor 1), ``delete_worker_reserved_concurrency`` (at least
    ``delete_max_concurrency``, the SQS mapping's maximum concurrency).

    Optional keyword properties (defaults in the signature): cart TTLs, the aggregator's batch size,
    batching window, retry cap and maximum record age, the delete worker's batch size and maximum
    concurrency, the DLQ's maxReceiveCount, the admin group's name, the bound on quantities, the product
    client's cache and timeout, log retention and level, the removal policy of the table and log groups,
    the stage name and throttling, whether to create API Gateway's account-level CloudWatch role, and an
    optional WAFv2 web ACL (see :class:`shopping_cart.ApiWebAcl`).

    Data protection: the table is retained and has deletion protection on by default.
    ``removal_policy=RemovalPolicy.DESTROY`` deletes the table and log groups with the stack and turns
    deletion protection off unless ``deletion_protection=True`` is given.

    Operations (``monitoring=True``, the default): a :class:`shopping_cart.CartMonitoring` with alarms to
    ``alarm_topic`` (a new topic when omitted) on both dead-letter queues, the aggregator's iterator age
    (``iterator_age_alarm_threshold``), API 5xx (``server_error_alarm_threshold`` per 5 minutes), and
    errors and throttles of every function; and a dashboard (``dashboard_name``) of requests, latency,
    errors, carts updated, migrated and checked out, queue depths and the table's capacity.

    Hooks for embedders (AWS Solutions Constructs style):
        existing_table: an ``ITable`` to use instead of creating one: string ``pk``/``sk``, a
            NEW_AND_OLD_IMAGES stream, TTL on ``expirationTime`` (checked at synth time where the app
            defines the table; an imported one needs its ``table_stream_arn``). Not with ``table_props``.
        table_props: ``dynamodb.Table`` keyword properties over the defaults (not the keys, stream or
            TTL attribute).
        function_props: ``aws_lambda.Function`` keyword properties (``memory_size``, ``vpc``,
            ``reserved_concurrent_executions``, ``environment`` to add variables, ``layers`` to add
            layers...) over the defaults of all three functions; ``api_function_props``,
            ``aggregator_function_props`` and ``delete_worker_function_props`` go over those for one.
            ``handler``, ``code``, ``runtime`` and ``architecture`` cannot change.
        :meth:`grant_read_totals`, :meth:`grant_read_cart_lines`: read access for the app's own code.

    Parts: ``cart_table`` (:class:`CartTable`), ``cleanup`` (:class:`MigratedLineCleanup`), ``totals``
    (:class:`TotalsAggregator`), ``cart_api`` (:class:`CartApi`), ``monitoring`` (:class:`CartMonitoring`).

    Attributes: ``table``, ``delete_queue``, ``delete_dead_letter_queue``, ``totals_failure_queue``,
    ``api``, ``api_url`` (no trailing slash), ``authorizer``, ``access_log_group``, ``api_function``,
    ``aggregator_function``, ``delete_worker_function``, ``aggregator_event_source``,
    ``delete_worker_event_source``, ``powertools_layer``, ``dependencies_layer``, ``monitoring``
    (None when off).
    """

    def __init__(
        self, scope: Construct, construct_id: str, props: ShoppingCartProps | None = None, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id)
        if props is None:
            props = ShoppingCartProps(**kwargs)
        elif kwargs:
            props = dataclasses.replace(props, **kwargs)
        self.props = props
        self.totals_stream_shards = props.totals_stream_shards
        # Construct ids are those of earlier releases' resources (each part's main resource is its
        # Default child), so that an upgrade replaces no table, queue, stream mapping or API.
        self.cart_table = CartTable(
            self,
            "Table",
            removal_policy=props.removal_policy,
            deletion_protection=props.deletion_protection,
            table_props=props.table_props,
            existing_table=props.existing_table,
        )
        self.powertools_layer = functions.powertools_layer(self, arn=props.powertools_layer_arn)
        self.dependencies_layer = functions.dependencies_layer(self)
        options = dataclasses.replace(props.function_options, powertools_layer=self.powertools_layer)
        self.cleanup = MigratedLineCleanup(
            self,
            "DeleteQueue",
            table=self.table,
            dead_letter_queue=terminal_queue(
                self, "DeleteDeadLetterQueue", "the dead-letter queue of the delete queue"
            ),
            batch_size=props.delete_batch_size,
            max_concurrency=props.delete_max_concurrency,
            max_receive_count=props.delete_max_receive_count,
            reserved_concurrency=props.delete_worker_reserved_concurrency,
            options=options,
            function_props=props.delete_worker_function_props,
        )
        self.totals = TotalsAggregator(
            self,
            "AggregatorFunction",
            table=self.table,
            failure_queue=terminal_queue(
                self, "TotalsFailureQueue", "the on-failure destination of the totals aggregator"
            ),
            batch_size=props.totals_batch_size,
            batching_window=props.totals_batching_window,
            retry_attempts=props.totals_retry_attempts,
            max_record_age=props.totals_max_record_age,
            reserved_concurrency=props.aggregator_reserved_concurrency,
            options=options,
            function_props=props.aggregator_function_props,
        )
        self.cart_api = self._cart_api(props, options)
        self.monitoring: CartMonitoring | None = self._monitoring(props) if props.monitoring else None

    def _cart_api(self, props: ShoppingCartProps, options: functions.FunctionOptions) -> CartApi:
        return CartApi(
            self,
            "Api",
            table=self.table,
            delete_queue=self.delete_queue,
            user_pool=props.user_pool,
            user_pool_client=props.user_pool_client,
            product_service_url=props.product_service_url,
            product_service_invoke_arn=props.product_service_invoke_arn,
            allowed_origins=props.allowed_origins,
            rules=CartRules(
                anonymous_cart_ttl=props.anonymous_cart_ttl,
                user_cart_ttl=props.user_cart_ttl,
                admin_group=props.admin_group,
                max_quantity=props.max_quantity,
                product_cache_ttl=props.product_cache_ttl,
                product_service_timeout=props.product_service_timeout,
            ),
            stage_name=props.stage_name,
            throttling_rate_limit=props.throttling_rate_limit,
            throttling_burst_limit=props.throttling_burst_limit,
            cloud_watch_role=props.cloud_watch_role,
            web_acl_arn=props.web_acl_arn,
            reserved_concurrency=props.api_reserved_concurrency,
            dependencies_layer=self.dependencies_layer,
            options=options,
            function_props=props.api_function_props,
        )

    def _monitoring(self, props: ShoppingCartProps) -> CartMonitoring:
        return CartMonitoring(
            self,
            "Monitoring",
            table=self.table,
            api=self.cart_api,
            totals=self.totals,
            cleanup=self.cleanup,
            service_name=props.service_name,
            metrics_namespace=props.metrics_namespace,
            iterator_age_alarm_threshold=props.iterator_age_alarm_threshold,
            server_error_alarm_threshold=props.server_error_alarm_threshold,
            alarm_topic=props.alarm_topic,
            dashboard_name=props.dashboard_name,
        )

    # --- Grants for the embedding app ----------------------------------------------------------------

    def grant_read_totals(self, grantee: iam.IGrantable) -> None:
        """Read the per-product totals (``pk = totals``) and nothing else of the table."""
        self.cart_table.grant_read_totals(grantee)

    def grant_read_cart_lines(self, grantee: iam.IGrantable) -> None:
        """Read every cart's lines (``cart#``/``user#`` items), not the totals."""
        self.cart_table.grant_read_cart_lines(grantee)

    # --- The parts' resources, by the names of earlier releases -------------------------------------

    @property
    def table(self) -> dynamodb.ITable:
        return self.cart_table.table

    @property
    def delete_queue(self) -> sqs.Queue:
        return self.cleanup.queue

    @property
    def delete_dead_letter_queue(self) -> sqs.IQueue:
        return self.cleanup.dead_letter_queue

    @property
    def totals_failure_queue(self) -> sqs.IQueue:
        return self.totals.failure_queue

    @property
    def api(self) -> apigw.RestApi:
        return self.cart_api.api

    @property
    def api_url(self) -> str:
        """The stage URL, no trailing slash."""
        return self.cart_api.url

    @property
    def authorizer(self) -> apigw.CognitoUserPoolsAuthorizer:
        return self.cart_api.authorizer

    @property
    def access_log_group(self) -> logs.LogGroup:
        return self.cart_api.access_log_group

    @property
    def api_function(self) -> lambda_.Function:
        return self.cart_api.function

    @property
    def aggregator_function(self) -> lambda_.Function:
        return self.totals.function

    @property
    def delete_worker_function(self) -> lambda_.Function:
        return self.cleanup.function

    @property
    def aggregator_event_source(self) -> event_sources.DynamoEventSource:
        return self.totals.event_source

    @property
    def delete_worker_event_source(self) -> event_sources.SqsEventSource:
        return self.cleanup.event_source


def _validate_concurrency(
    *,
    aggregator: int | None,
    delete_worker: int | None,
    totals_stream_shards: int,
    delete_max_concurrency: int,
) -> None:
    """Reservations that Lambda would accept but that starve an event source mapping.

    An SQS mapping polls with up to its MaximumConcurrency: a smaller reservation throttles its
    invocations (messages return to the queue and count towards the DLQ). A stream mapping runs one
    batch per shard (times the parallelization factor, 1 here) at once.
    """
    checks = [
        (
            not delete_worker or delete_worker >= delete_max_concurrency,
            f"delete_worker_reserved_concurrency must be at least delete_max_concurrency ({delete_max_concurrency})",
        ),
        (
            not aggregator or aggregator >= totals_stream_shards,
            f"aggregator_reserved_concurrency must be at least totals_stream_shards ({totals_stream_shards})",
        ),
        (totals_stream_shards >= 1, "totals_stream_shards must be at least 1"),
    ]
    for value in (aggregator, delete_worker):
        checks.append((value is None or value >= 0, "reserved concurrency must be 0 (none) or more"))
    errors = [message for ok, message in checks if not ok]
    if errors:
        raise ValueError("; ".join(errors))


def _validate(props: ShoppingCartProps) -> None:
    """Fail at synth time, with a clear message, on values AWS would reject at deploy time; the bounds
    of the shop's settings are ``shared.config``'s."""
    p = props
    found = config.problems(
        [
            (config.APP["totalsBatchSize"], p.totals_batch_size, "totals_batch_size"),
            (
                config.APP["totalsBatchingWindowSeconds"],
                p.totals_batching_window.to_seconds(),
                "totals_batching_window",
            ),
            (
                config.ENV["ANONYMOUS_CART_TTL_SECONDS"],
                p.anonymous_cart_ttl.to_seconds(),
                "anonymous_cart_ttl",
            ),
            (config.ENV["USER_CART_TTL_SECONDS"], p.user_cart_ttl.to_seconds(), "user_cart_ttl"),
            (config.ENV["MAX_QUANTITY"], p.max_quantity, "max_quantity"),
        ]
    )
    checks = [
        (0 <= p.totals_retry_attempts <= 10_000, "totals_retry_attempts must be 0..10000"),
        (1 <= p.delete_batch_size <= 10, "delete_batch_size must be 1..10 (no batching window)"),
        (2 <= p.delete_max_concurrency <= 1000, "delete_max_concurrency must be 2..1000"),
        (1 <= p.delete_max_receive_count <= 1000, "delete_max_receive_count must be 1..1000"),
        ("*" not in p.allowed_origins, "allowed_origins cannot contain '*' (credentials are allowed)"),
    ]
    found += [message for ok, message in checks if not ok]
    if found:
        raise ValueError("; ".join(found))
