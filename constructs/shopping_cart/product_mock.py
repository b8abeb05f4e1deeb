"""ProductMock: a read-only product catalogue behind a REST API, standing in for a real product service."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns

from constructs import Construct

from . import functions
from .api import acknowledge_open_method, acknowledge_preflight, api_base_url, rest_api
from .monitoring import Monitoring
from .runtime.shared import config

_PUBLIC_CATALOGUE = (
    "The product catalogue is public: anyone may browse it without signing in, "
    "exactly like the storefront's product pages."
)


_SERVICE_ROUTE = (
    "Service-to-service route: AWS_IAM authorization (SigV4), only callers granted execute-api:Invoke on "
    "this method (the cart's function role) may call it; a Cognito user pool authorizer is for shoppers."
)


class ProductMock(Construct):
    """``GET /product`` and ``GET /product/{product_id}`` on one Lambda (``products.api.handler``), and
    ``GET /internal/product/{product_id}`` for services: AWS_IAM authorization, so only roles granted
    ``execute-api:Invoke`` on :attr:`internal_invoke_arn` may call it (SigV4-signed), and the web ACL's
    shopper rate rules leave it out (see :class:`shopping_cart.ApiWebAcl`).

    Keyword properties:
        allowed_origins: browser origins allowed by CORS (empty: same origin only).
        log_retention, removal_policy (of the log groups), log_level, stage_name,
        throttling_rate_limit / throttling_burst_limit: stage defaults.
        cloud_watch_role: create the account-level role API Gateway needs for execution logs.
        web_acl_arn: optional WAFv2 web ACL for the stage.
        reserved_concurrency: of the function (0 or None: none reserved).
        powertools_layer_arn: the Powertools layer's ARN where its public SSM parameter is missing.
        monitoring: alarms (no dashboard) to ``alarm_topic`` (a new topic when omitted) on the API's 5xx
            (``server_error_alarm_threshold`` per 5 minutes) and the function's errors and throttles.

    Attributes: ``api``, ``api_url`` (no trailing slash), ``internal_url`` (base URL of the service
    route: ``{internal_url}/product/{id}``), ``internal_invoke_arn`` (the execute-api ARN of that
    method, for a grant), ``function``, ``powertools_layer``, ``access_log_group``, ``monitoring``
    (None when off).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        allowed_origins: Sequence[str] = (),
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        log_level: str = "INFO",
        stage_name: str = "prod",
        throttling_rate_limit: float = 100,
        throttling_burst_limit: int = 200,
        cloud_watch_role: bool = True,
        web_acl_arn: str | None = None,
        service_name: str = "product-mock",
        metrics_namespace: str = "ShoppingCart",
        monitoring: bool = True,
        alarm_topic: sns.ITopic | None = None,
        server_error_alarm_threshold: int = 1,
        reserved_concurrency: int | None = None,
        powertools_layer_arn: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.powertools_layer = functions.powertools_layer(self, arn=powertools_layer_arn)
        self.function = functions.service_function(
            self,
            "Function",
            handler=functions.PRODUCT_HANDLER,
            code=functions.product_code(),
            description="Product mock: the product catalogue",
            timeout=Duration.seconds(10),
            environment=config.environment(
                "products",
                {
                    "allowed_origins": tuple(allowed_origins),
                    **functions.FunctionOptions(service_name, metrics_namespace, log_level).values,
                },
            ),
            layers=[self.powertools_layer],
            log_retention=log_retention,
            removal_policy=removal_policy,
            reserved_concurrency=reserved_concurrency,
        )
        self.api, self.access_log_group = rest_api(
            self,
            "Api",
            name=service_name,
            description="Product mock service",
            allowed_origins=allowed_origins,
            allow_methods=["GET", "OPTIONS"],
            stage_name=stage_name,
            log_retention=log_retention,
            removal_policy=removal_policy,
            throttling_rate_limit=throttling_rate_limit,
            throttling_burst_limit=throttling_burst_limit,
            cloud_watch_role=cloud_watch_role,
            web_acl_arn=web_acl_arn,
        )
        self.internal_invoke_arn = self._add_routes()
        acknowledge_preflight(self.api)
        self.api_url = api_base_url(self.api)
        self.internal_url = f"{self.api_url}/internal"
        self.monitoring: Monitoring | None = (
            self._monitor(alarm_topic, server_error_alarm_threshold) if monitoring else None
        )

    def _monitor(self, alarm_topic: sns.ITopic | None, server_error_alarm_threshold: int) -> Monitoring:
        """Alarms only (no dashboard): the API's 5xx, the function's errors and throttles."""
        monitoring = Monitoring(self, "Monitoring", alarm_topic=alarm_topic, dashboard=False)
        monitoring.alarm_on_api("Products", self.api, server_error_alarm_threshold)
        monitoring.alarm_on_function("ProductsFunction", self.function)
        return monitoring

    def _add_routes(self) -> str:
        """The public catalogue routes and the service route; returns the service route's invoke ARN."""
        validator = self.api.add_request_validator(
            "RequestValidator", validate_request_parameters=True, validate_request_body=True
        )
        integration = apigw.LambdaIntegration(self.function, allow_test_invoke=False)
        products = self.api.root.add_resource("product")
        product = products.add_resource("{product_id}")
        for method in (
            products.add_method("GET", integration, request_validator=validator),
            product.add_method(
                "GET",
                integration,
                request_validator=validator,
                request_parameters={"method.request.path.product_id": True},
            ),
        ):
            acknowledge_open_method(method, _PUBLIC_CATALOGUE)
        internal = self.api.root.add_resource("internal")
        internal_method = (
            internal.add_resource("product")
            .add_resource("{product_id}")
            .add_method(
                "GET",
                integration,
                authorization_type=apigw.AuthorizationType.IAM,
                request_validator=validator,
                request_parameters={"method.request.path.product_id": True},
            )
        )
        Validations.of(internal_method).acknowledge(
            Acknowledgment(id="AwsSolutions-COG4", reason=_SERVICE_ROUTE)
        )
        return internal_method.method_arn
