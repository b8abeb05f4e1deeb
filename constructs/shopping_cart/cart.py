"""ShoppingCart: the cart table, its REST API, the totals aggregator and the delete worker.

See docs/DESIGN.md for the contract with the runtime (handlers, environment, item layout).
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Token, Validations
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
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
from .api import acknowledge_open_method, acknowledge_preflight, api_base_url, rest_api
from .monitoring import CART_METRICS, FIVE_MINUTES, Monitoring

#: Timeouts of the functions (docs/DESIGN.md). The delete queue's visibility timeout derives from
#: the worker's.
API_TIMEOUT = Duration.seconds(10)
AGGREGATOR_TIMEOUT = Duration.seconds(60)
DELETE_WORKER_TIMEOUT = Duration.seconds(30)
#: SQS guidance: the visibility timeout of a Lambda-triggering queue is at least 6x the function timeout.
VISIBILITY_TIMEOUT_FACTOR = 6

#: The aggregator only sees cart lines: its own writes (``totals``, ``aggregator#...`` markers) never
#: invoke it. One filter, two prefixes (a list inside a pattern is an OR).
CART_LINE_FILTER = {"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "cart#"}, {"prefix": "user#"}]}}}}

TTL_ATTRIBUTE = "expirationTime"

#: Partition keys each function writes (docs/DESIGN.md, "Table items"), as dynamodb:LeadingKeys
#: patterns: cart lines of anonymous (``cart#``) and signed-in (``user#``) carts, the totals, the
#: aggregator's batch markers.
CART_LINE_KEYS = ("cart#*", "user#*")
ANONYMOUS_LINE_KEYS = ("cart#*",)
TOTALS_KEYS = ("totals",)
MARKER_KEYS = ("aggregator#*",)

#: Exactly the DynamoDB actions each function's code calls on the table, and on which partition keys
#: it may write. A TransactWriteItems is authorized action by action (PutItem, UpdateItem, DeleteItem,
#: ConditionCheckItem). tests/infra/test_least_privilege.py derives the actions from runtime/ (an AST
#: scan of each handler's code) and fails when this table and the code differ: a new call in runtime/
#: needs its action here, with the keys it writes.
TABLE_ACCESS: dict[str, dict[str, tuple[str, ...] | dict[str, tuple[str, ...]]]] = {
    "api": {
        "reads": ("dynamodb:GetItem", "dynamodb:Query"),
        "writes": {
            "dynamodb:PutItem": CART_LINE_KEYS,
            "dynamodb:UpdateItem": CART_LINE_KEYS,
            "dynamodb:DeleteItem": CART_LINE_KEYS,
        },
    },
    "aggregator": {
        "reads": (),
        "writes": {"dynamodb:UpdateItem": TOTALS_KEYS, "dynamodb:PutItem": MARKER_KEYS},
    },
    "delete_worker": {"reads": (), "writes": {"dynamodb:DeleteItem": ANONYMOUS_LINE_KEYS}},
}

_ANONYMOUS_ROUTE = (
    "Anonymous carts by design: shoppers add to and read their cart before signing in, keyed by the "
    "HttpOnly cartId cookie; when an Authorization header is present the handler verifies the Cognito "
    "ID token itself (JWKS, issuer, audience) and answers 401 if it is invalid."
)
_STREAM_AND_XRAY = (
    "dynamodb:ListStreams does not support resource-level permissions (the stream itself is granted by "
    "ARN), and active X-Ray tracing needs xray:PutTraceSegments/PutTelemetryRecords on '*'."
)


def _seconds(duration: Duration) -> str:
    return str(int(duration.to_seconds()))


class ShoppingCart(Construct):
    """The shopping cart microservice.

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

    Operations (``monitoring=True``, the default): a :class:`shopping_cart.Monitoring` with alarms to
    ``alarm_topic`` (a new topic when omitted) on both dead-letter queues, the aggregator's iterator age
    (``iterator_age_alarm_threshold``), API 5xx (``server_error_alarm_threshold`` per 5 minutes), and
    errors and throttles of every function; and a dashboard (``dashboard_name``) of requests, latency,
    errors, carts updated, migrated and checked out, queue depths and the table's capacity.

    Attributes: ``table``, ``delete_queue``, ``delete_dead_letter_queue``, ``totals_failure_queue``,
    ``api``, ``api_url`` (no trailing slash), ``authorizer``, ``access_log_group``, ``api_function``,
    ``aggregator_function``, ``delete_worker_function``, ``aggregator_event_source``,
    ``delete_worker_event_source``, ``powertools_layer``, ``dependencies_layer``, ``monitoring``
    (None when off).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        user_pool: cognito.IUserPool,
        user_pool_client: cognito.IUserPoolClient,
        product_service_url: str,
        allowed_origins: Sequence[str],
        anonymous_cart_ttl: Duration = Duration.days(1),
        user_cart_ttl: Duration = Duration.days(7),
        totals_batch_size: int = 100,
        totals_batching_window: Duration = Duration.seconds(60),
        totals_retry_attempts: int = 10,
        totals_max_record_age: Duration = Duration.days(1),
        delete_batch_size: int = 10,
        delete_max_concurrency: int = 5,
        delete_max_receive_count: int = 5,
        admin_group: str = "admin",
        max_quantity: int = 1000,
        product_cache_ttl: Duration = Duration.minutes(5),
        product_service_timeout: Duration = Duration.seconds(3),
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        deletion_protection: bool | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        log_level: str = "INFO",
        stage_name: str = "prod",
        throttling_rate_limit: float = 100,
        throttling_burst_limit: int = 200,
        cloud_watch_role: bool = True,
        web_acl_arn: str | None = None,
        service_name: str = "shopping-cart",
        metrics_namespace: str = "ShoppingCart",
        monitoring: bool = True,
        alarm_topic: sns.ITopic | None = None,
        iterator_age_alarm_threshold: Duration = Duration.minutes(5),
        server_error_alarm_threshold: int = 1,
        dashboard_name: str | None = None,
        product_service_invoke_arn: str | None = None,
        api_reserved_concurrency: int | None = None,
        aggregator_reserved_concurrency: int | None = None,
        delete_worker_reserved_concurrency: int | None = None,
        totals_stream_shards: int = 4,
        powertools_layer_arn: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.totals_stream_shards = totals_stream_shards
        _validate_concurrency(
            aggregator=aggregator_reserved_concurrency,
            delete_worker=delete_worker_reserved_concurrency,
            totals_stream_shards=totals_stream_shards,
            delete_max_concurrency=delete_max_concurrency,
        )
        _validate(
            totals_batch_size=totals_batch_size,
            totals_batching_window=totals_batching_window,
            totals_retry_attempts=totals_retry_attempts,
            delete_batch_size=delete_batch_size,
            delete_max_concurrency=delete_max_concurrency,
            delete_max_receive_count=delete_max_receive_count,
            anonymous_cart_ttl=anonymous_cart_ttl,
            user_cart_ttl=user_cart_ttl,
            max_quantity=max_quantity,
            allowed_origins=allowed_origins,
        )
        if not Token.is_unresolved(product_service_url):
            product_service_url = product_service_url.rstrip("/")

        # --- Table ---------------------------------------------------------------------------------
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            time_to_live_attribute=TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=removal_policy,
            deletion_protection=(
                removal_policy != RemovalPolicy.DESTROY
                if deletion_protection is None
                else deletion_protection
            ),
        )

        # --- Queues --------------------------------------------------------------------------------
        self.delete_dead_letter_queue = sqs.Queue(
            self,
            "DeleteDeadLetterQueue",
            retention_period=Duration.days(14),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        self.delete_queue = sqs.Queue(
            self,
            "DeleteQueue",
            visibility_timeout=Duration.seconds(
                DELETE_WORKER_TIMEOUT.to_seconds() * VISIBILITY_TIMEOUT_FACTOR
            ),
            retention_period=Duration.days(4),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.delete_dead_letter_queue, max_receive_count=delete_max_receive_count
            ),
        )
        self.totals_failure_queue = sqs.Queue(
            self,
            "TotalsFailureQueue",
            retention_period=Duration.days(14),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        for queue, what in (
            (self.delete_dead_letter_queue, "the dead-letter queue of the delete queue"),
            (self.totals_failure_queue, "the on-failure destination of the totals aggregator"),
        ):
            terminal = (
                f"This queue is {what}: a terminal queue kept 14 days for inspection and "
                "redrive; giving it a DLQ of its own would only move the same messages again."
            )
            Validations.of(queue).acknowledge(
                Acknowledgment(id="AwsSolutions-SQS3", reason=terminal),
                Acknowledgment(id="Serverless-SQSRedrivePolicy", reason=terminal),
            )

        # --- Functions -----------------------------------------------------------------------------
        self.powertools_layer = functions.powertools_layer(self, arn=powertools_layer_arn)
        self.dependencies_layer = functions.dependencies_layer(self)
        common = {
            "POWERTOOLS_SERVICE_NAME": service_name,
            "POWERTOOLS_METRICS_NAMESPACE": metrics_namespace,
            "POWERTOOLS_LOG_LEVEL": log_level,
        }
        token_issuer = user_pool.user_pool_provider_url
        code = functions.cart_code()

        self.api_function = functions.service_function(
            self,
            "ApiFunction",
            handler=functions.CART_API_HANDLER,
            code=code,
            description="Shopping cart API",
            timeout=API_TIMEOUT,
            memory_size=512,
            environment={
                "TABLE_NAME": self.table.table_name,
                "DELETE_QUEUE_URL": self.delete_queue.queue_url,
                "PRODUCT_SERVICE_URL": product_service_url,
                "USER_POOL_CLIENT_ID": user_pool_client.user_pool_client_id,
                "TOKEN_ISSUER": token_issuer,
                "JWKS_URL": f"{token_issuer}/.well-known/jwks.json",
                "ADMIN_GROUP": admin_group,
                "ANONYMOUS_CART_TTL_SECONDS": _seconds(anonymous_cart_ttl),
                "USER_CART_TTL_SECONDS": _seconds(user_cart_ttl),
                "MAX_QUANTITY": str(max_quantity),
                "ALLOWED_ORIGINS": ",".join(allowed_origins),
                "PRODUCT_CACHE_SECONDS": _seconds(product_cache_ttl),
                "PRODUCT_SERVICE_TIMEOUT_SECONDS": _seconds(product_service_timeout),
                "PRODUCT_SERVICE_AUTH": "iam" if product_service_invoke_arn else "none",
                **common,
            },
            layers=[self.powertools_layer, self.dependencies_layer],
            log_retention=log_retention,
            removal_policy=removal_policy,
            reserved_concurrency=api_reserved_concurrency,
        )
        self._grant_table(self.api_function, "api")
        self.delete_queue.grant_send_messages(self.api_function)
        if product_service_invoke_arn:
            self.api_function.add_to_role_policy(
                iam.PolicyStatement(actions=["execute-api:Invoke"], resources=[product_service_invoke_arn])
            )
            role = self.api_function.role
            assert role is not None
            functions.acknowledge_wildcard_resource(
                role.node.find_child("DefaultPolicy").node.default_child,
                product_service_invoke_arn,
                "execute-api:Invoke on the product service's one AWS_IAM method; the trailing '*' is its "
                "{product_id} path parameter, which an execute-api ARN can only match with a wildcard.",
            )

        self.aggregator_function = functions.service_function(
            self,
            "AggregatorFunction",
            handler=functions.AGGREGATOR_HANDLER,
            code=code,
            description="Shopping cart totals aggregator (table stream)",
            timeout=AGGREGATOR_TIMEOUT,
            environment={"TABLE_NAME": self.table.table_name, **common},
            layers=[self.powertools_layer],
            log_retention=log_retention,
            removal_policy=removal_policy,
            reserved_concurrency=aggregator_reserved_concurrency,
            dead_letter_reason="Invoked by the table's stream event source mapping, never asynchronously: a "
            "batch that fails its retries goes to the mapping's on-failure destination, TotalsFailureQueue.",
            wildcard_reason=_STREAM_AND_XRAY,
        )
        # Writes only: one TransactWriteItems of UpdateItem (ADD) per product plus a conditional PutItem
        # of the batch marker. Stream read is granted by the event source below.
        self._grant_table(self.aggregator_function, "aggregator")
        # Retries are of the WHOLE batch: no bisect and no partial batch response (ReportBatchItemFailures).
        # The runtime makes a batch idempotent with a marker keyed by a hash of the batch's ordered event
        # ids (docs/DESIGN.md, "Totals"); bisecting or resuming from a failed item would deliver the same
        # records again grouped differently, which that marker cannot recognise, and totals would be
        # counted twice. After the retry cap (or the maximum record age) the batch's metadata goes to the
        # on-failure queue.
        self.aggregator_event_source = event_sources.DynamoEventSource(
            self.table,
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=totals_batch_size,
            max_batching_window=totals_batching_window,
            filters=[lambda_.FilterCriteria.filter(CART_LINE_FILTER)],
            retry_attempts=totals_retry_attempts,
            max_record_age=totals_max_record_age,
            bisect_batch_on_error=False,
            report_batch_item_failures=False,
            parallelization_factor=1,
            on_failure=event_sources.SqsDlq(self.totals_failure_queue),
        )
        self.aggregator_function.add_event_source(self.aggregator_event_source)

        self.delete_worker_function = functions.service_function(
            self,
            "DeleteWorkerFunction",
            handler=functions.DELETE_WORKER_HANDLER,
            code=code,
            description="Shopping cart delete worker (migrated anonymous lines)",
            timeout=DELETE_WORKER_TIMEOUT,
            environment={"TABLE_NAME": self.table.table_name, **common},
            layers=[self.powertools_layer],
            log_retention=log_retention,
            removal_policy=removal_policy,
            reserved_concurrency=delete_worker_reserved_concurrency,
            dead_letter_reason="Invoked by the delete queue's SQS event source mapping, never asynchronously: "
            "a message that keeps failing moves to DeleteDeadLetterQueue by the queue's redrive policy.",
        )
        self._grant_table(self.delete_worker_function, "delete_worker")
        # Consume permissions on the queue are granted by the event source.
        self.delete_worker_event_source = event_sources.SqsEventSource(
            self.delete_queue,
            batch_size=delete_batch_size,
            report_batch_item_failures=True,
            max_concurrency=delete_max_concurrency,
        )
        self.delete_worker_function.add_event_source(self.delete_worker_event_source)
        for child in self.delete_worker_function.node.children:
            if isinstance(child, lambda_.EventSourceMapping):
                Validations.of(child).acknowledge(
                    Acknowledgment(
                        id="Serverless-LambdaEventSourceMappingDestination",
                        reason="Lambda supports no on-failure destination for SQS event source mappings; "
                        "the delete queue's redrive policy moves failing messages to DeleteDeadLetterQueue.",
                    )
                )

        # --- REST API ------------------------------------------------------------------------------
        self.api, self.access_log_group = rest_api(
            self,
            "Api",
            name=service_name,
            description="Shopping cart service",
            allowed_origins=allowed_origins,
            allow_methods=["GET", "POST", "PUT", "OPTIONS"],
            stage_name=stage_name,
            log_retention=log_retention,
            removal_policy=removal_policy,
            throttling_rate_limit=throttling_rate_limit,
            throttling_burst_limit=throttling_burst_limit,
            cloud_watch_role=cloud_watch_role,
            web_acl_arn=web_acl_arn,
        )
        self.authorizer = apigw.CognitoUserPoolsAuthorizer(
            self, "Authorizer", cognito_user_pools=[user_pool], authorizer_name="CognitoUserPool"
        )
        validator = self.api.add_request_validator(
            "RequestValidator", validate_request_body=True, validate_request_parameters=True
        )
        add_model = self._json_model(
            "AddToCartModel",
            # No "quantity": clients of the original sample may leave it out to add one.
            required=["productId"],
            properties={
                "productId": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, min_length=1),
                "quantity": apigw.JsonSchema(type=apigw.JsonSchemaType.INTEGER),
            },
        )
        set_model = self._json_model(
            "SetQuantityModel",
            required=["quantity"],
            properties={"quantity": apigw.JsonSchema(type=apigw.JsonSchemaType.INTEGER)},
        )
        integration = apigw.LambdaIntegration(self.api_function, allow_test_invoke=False)
        path_id = {"method.request.path.product_id": True}
        signed_in = {"authorizer": self.authorizer, "authorization_type": apigw.AuthorizationType.COGNITO}

        cart = self.api.root.add_resource("cart")
        item = cart.add_resource("{product_id}")
        anonymous_methods = [
            cart.add_method("GET", integration),
            cart.add_method(
                "POST",
                integration,
                request_validator=validator,
                request_models={"application/json": add_model},
            ),
            item.add_method(
                "PUT",
                integration,
                request_validator=validator,
                request_parameters=path_id,
                request_models={"application/json": set_model},
            ),
        ]
        cart.add_resource("migrate").add_method("POST", integration, **signed_in)
        cart.add_resource("checkout").add_method("POST", integration, **signed_in)
        cart.add_resource("totals").add_method("GET", integration, **signed_in)
        item.add_resource("total").add_method(
            "GET", integration, request_validator=validator, request_parameters=path_id, **signed_in
        )
        for method in anonymous_methods:
            acknowledge_open_method(method, _ANONYMOUS_ROUTE)
        acknowledge_preflight(self.api)
        self.api_url = api_base_url(self.api)

        # --- Operations ----------------------------------------------------------------------------
        self.monitoring: Monitoring | None = None
        if monitoring:
            self.monitoring = self._monitor(
                Monitoring(self, "Monitoring", alarm_topic=alarm_topic, dashboard_name=dashboard_name),
                service_name=service_name,
                metrics_namespace=metrics_namespace,
                iterator_age_alarm_threshold=iterator_age_alarm_threshold,
                server_error_alarm_threshold=server_error_alarm_threshold,
            )

    def _grant_table(self, function: lambda_.Function, name: str) -> None:
        """TABLE_ACCESS[name] on the table: its reads, and each write on its partition keys only."""
        access = TABLE_ACCESS[name]
        reads = access["reads"]
        if reads:
            function.add_to_role_policy(
                iam.PolicyStatement(actions=list(reads), resources=[self.table.table_arn])
            )
        writes = access["writes"]
        assert isinstance(writes, dict)
        by_keys: dict[tuple[str, ...], list[str]] = {}
        for action, keys in writes.items():
            by_keys.setdefault(keys, []).append(action)
        for keys, actions in by_keys.items():
            function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=sorted(actions),
                    resources=[self.table.table_arn],
                    conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": list(keys)}},
                )
            )

    def _monitor(
        self,
        monitoring: Monitoring,
        *,
        service_name: str,
        metrics_namespace: str,
        iterator_age_alarm_threshold: Duration,
        server_error_alarm_threshold: int,
    ) -> Monitoring:
        functions = [
            ("CartApi", self.api_function),
            ("TotalsAggregator", self.aggregator_function),
            ("DeleteWorker", self.delete_worker_function),
        ]
        queues = [
            (
                "DeleteDeadLetterQueue",
                self.delete_dead_letter_queue,
                "the delete queue's dead-letter queue (migrated lines the worker could not delete)",
            ),
            (
                "TotalsFailureQueue",
                self.totals_failure_queue,
                "the totals aggregator's on-failure queue (stream batches whose totals were not applied)",
            ),
        ]
        for label, queue, what in queues:
            monitoring.alarm_on_dead_letter_queue(label, queue, what)
        monitoring.alarm_on_iterator_age(
            "TotalsAggregator", self.aggregator_function, iterator_age_alarm_threshold
        )
        for label, function in functions:
            monitoring.alarm_on_function(label, function)
        monitoring.alarm_on_api("Cart", self.api, server_error_alarm_threshold)

        def cart_metric(name: str, **options: object) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=metrics_namespace,
                metric_name=name,
                dimensions_map={"service": service_name},
                statistic="Sum",
                period=FIVE_MINUTES,
                **options,
            )

        monitoring.add_widgets(
            cloudwatch.TextWidget(
                markdown=f"# Shopping cart ({service_name})\n"
                "Requests, latency and errors of the cart API; carts updated, migrated at sign-in and "
                "checked out (Powertools metrics of the cart API); dead-letter queues (should stay at 0).",
                width=24,
                height=2,
            ),
            cloudwatch.SingleValueWidget(
                title="Carts in the time range",
                metrics=[cart_metric(name, label=name) for name in CART_METRICS],
                set_period_to_time_range=True,
                width=12,
                height=6,
            ),
            cloudwatch.GraphWidget(
                title="Carts updated, migrated, checked out",
                left=[cart_metric(name, label=name) for name in CART_METRICS],
                width=12,
            ),
        )
        monitoring.add_api_widgets("Cart", self.api)
        monitoring.add_widgets(
            cloudwatch.GraphWidget(
                title="Dead-letter queues (messages)",
                left=[
                    queue.metric_approximate_number_of_messages_visible(
                        period=FIVE_MINUTES, statistic="Maximum", label=label
                    )
                    for label, queue, _ in queues
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Delete queue",
                left=[
                    self.delete_queue.metric_approximate_number_of_messages_visible(
                        period=FIVE_MINUTES, statistic="Maximum", label="visible"
                    )
                ],
                right=[
                    self.delete_queue.metric_approximate_age_of_oldest_message(
                        period=FIVE_MINUTES, statistic="Maximum", label="oldest (s)"
                    )
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Totals aggregator iterator age (ms)",
                left=[
                    self.aggregator_function.metric(
                        "IteratorAge", period=FIVE_MINUTES, statistic="Maximum", label="maximum"
                    )
                ],
                left_annotations=[
                    cloudwatch.HorizontalAnnotation(
                        value=iterator_age_alarm_threshold.to_milliseconds(), label="alarm"
                    )
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Table: consumed capacity units",
                left=[
                    self.table.metric_consumed_read_capacity_units(
                        period=FIVE_MINUTES, statistic="Sum", label="read"
                    ),
                    self.table.metric_consumed_write_capacity_units(
                        period=FIVE_MINUTES, statistic="Sum", label="write"
                    ),
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Table: throttle events",
                left=[
                    self.table.metric(name, period=FIVE_MINUTES, statistic="Sum", label=name)
                    for name in ("ReadThrottleEvents", "WriteThrottleEvents")
                ],
                width=12,
            ),
        )
        monitoring.add_function_widgets(functions)
        monitoring.add_alarm_status()
        return monitoring

    def _json_model(
        self, construct_id: str, *, required: list[str], properties: dict[str, apigw.JsonSchema]
    ) -> apigw.Model:
        """A request body shape check; the handler still applies every rule (ranges, bounds)."""
        return self.api.add_model(
            construct_id,
            content_type="application/json",
            schema=apigw.JsonSchema(
                schema=apigw.JsonSchemaVersion.DRAFT4,
                type=apigw.JsonSchemaType.OBJECT,
                required=required,
                properties=properties,
            ),
        )


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


def _validate(
    *,
    totals_batch_size: int,
    totals_batching_window: Duration,
    totals_retry_attempts: int,
    delete_batch_size: int,
    delete_max_concurrency: int,
    delete_max_receive_count: int,
    anonymous_cart_ttl: Duration,
    user_cart_ttl: Duration,
    max_quantity: int,
    allowed_origins: Sequence[str],
) -> None:
    """Fail at synth time, with a clear message, on values AWS would reject at deploy time."""
    checks = [
        (1 <= totals_batch_size <= 10_000, "totals_batch_size must be 1..10000"),
        (0 <= totals_batching_window.to_seconds() <= 300, "totals_batching_window must be 0..300 s"),
        (0 <= totals_retry_attempts <= 10_000, "totals_retry_attempts must be 0..10000"),
        (1 <= delete_batch_size <= 10, "delete_batch_size must be 1..10 (no batching window)"),
        (2 <= delete_max_concurrency <= 1000, "delete_max_concurrency must be 2..1000"),
        (1 <= delete_max_receive_count <= 1000, "delete_max_receive_count must be 1..1000"),
        (anonymous_cart_ttl.to_seconds() > 0, "anonymous_cart_ttl must be positive"),
        (user_cart_ttl.to_seconds() > 0, "user_cart_ttl must be positive"),
        (max_quantity >= 1, "max_quantity must be at least 1"),
        ("*" not in allowed_origins, "allowed_origins cannot contain '*' (credentials are allowed)"),
    ]
    errors = [message for ok, message in checks if not ok]
    if errors:
        raise ValueError("; ".join(errors))
