"""CartApi: the cart's REST API and the function behind every route."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration, Token
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs

from constructs import Construct

from . import functions
from .api import acknowledge_open_method, acknowledge_preflight, api_base_url, rest_api
from .runtime.shared import config
from .table import grant_table_access

API_TIMEOUT = Duration.seconds(10)

_ANONYMOUS_ROUTE = (
    "Anonymous carts by design: shoppers add to and read their cart before signing in, keyed by the "
    "HttpOnly cartId cookie; when an Authorization header is present the handler verifies the Cognito "
    "ID token itself (JWKS, issuer, audience) and answers 401 if it is invalid."
)


def _seconds(duration: Duration) -> int:
    return int(duration.to_seconds())


_ENV = config.ENV


@dataclass(frozen=True, kw_only=True)
class CartRules:
    """The cart's rules, which the API function reads from its environment (defaults and bounds:
    ``shared.config``, the variables named in each field's comment).

    ``anonymous_cart_ttl`` / ``user_cart_ttl``: how long lines of an anonymous (and its cookie) or a
    signed-in cart live; ``admin_group``: the Cognito group that may read the totals; ``max_quantity``:
    the bound on one line's quantity; ``product_cache_ttl`` / ``product_service_timeout``: the product
    client's cache and timeout.
    """

    # Durations are immutable: one instance per default is shared by every CartRules.
    anonymous_cart_ttl: Duration = Duration.seconds(_ENV["ANONYMOUS_CART_TTL_SECONDS"].default)  # noqa: RUF009
    user_cart_ttl: Duration = Duration.seconds(_ENV["USER_CART_TTL_SECONDS"].default)  # noqa: RUF009
    admin_group: str = _ENV["ADMIN_GROUP"].default
    max_quantity: int = _ENV["MAX_QUANTITY"].default
    product_cache_ttl: Duration = Duration.seconds(_ENV["PRODUCT_CACHE_SECONDS"].default)  # noqa: RUF009
    product_service_timeout: Duration = Duration.seconds(_ENV["PRODUCT_SERVICE_TIMEOUT_SECONDS"].default)  # noqa: RUF009

    @property
    def values(self) -> dict[str, str | int]:
        """By ``shared.config`` attribute name; durations in whole seconds."""
        return {
            "admin_group": self.admin_group,
            "anonymous_cart_ttl_seconds": _seconds(self.anonymous_cart_ttl),
            "user_cart_ttl_seconds": _seconds(self.user_cart_ttl),
            "max_quantity": self.max_quantity,
            "product_cache_seconds": _seconds(self.product_cache_ttl),
            "product_service_timeout_seconds": _seconds(self.product_service_timeout),
        }


class CartApi(Construct):
    """The cart API: ``/cart`` routes on a regional REST API, all served by one function.

    Anonymous routes (``GET``/``POST /cart``, ``PUT /cart/{product_id}``) are open (the handler
    verifies an Authorization header when one is sent); ``migrate``, ``checkout`` and the totals need a
    Cognito ID token (the API's Cognito authorizer).

    Keyword properties:
        table: the cart table; the function reads it and writes cart lines only.
        delete_queue: where the function sends the keys of migrated anonymous lines.
        user_pool, user_pool_client: whose ID tokens are accepted (issuer and audience).
        product_service_url, product_service_invoke_arn: the product service (see
            :class:`shopping_cart.ShoppingCart`).
        allowed_origins: browser origins allowed by CORS, with credentials.
        rules: the cart's rules (:class:`CartRules`), handed to the function.
        stage_name, throttling_rate_limit, throttling_burst_limit, cloud_watch_role, web_acl_arn: the
            REST API's (see :func:`shopping_cart.api.rest_api`).
        reserved_concurrency: the function's (0 or None: none).
        dependencies_layer: the layer with PyJWT (default: built here, ``DependenciesLayer``).
        options: what every function of the cart shares (:class:`shopping_cart.functions.FunctionOptions`).
        function_props: ``aws_lambda.Function`` keyword properties of this function, over the defaults
            and ``options.function_props`` (see :func:`shopping_cart.functions.service_function`).

    Attributes: ``api`` (the RestApi), ``url`` (the stage URL, no trailing slash), ``function``,
    ``authorizer``, ``access_log_group``, ``dependencies_layer``.

    The RestApi is this construct's ``Default`` child: under the id ``Api`` (as
    :class:`shopping_cart.ShoppingCart` creates it) the API keeps the logical id, and so the URL, of
    earlier releases.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: dynamodb.ITable,
        delete_queue: sqs.IQueue,
        user_pool: cognito.IUserPool,
        user_pool_client: cognito.IUserPoolClient,
        product_service_url: str,
        allowed_origins: Sequence[str],
        product_service_invoke_arn: str | None = None,
        rules: CartRules | None = None,
        stage_name: str = "prod",
        throttling_rate_limit: float = 100,
        throttling_burst_limit: int = 200,
        cloud_watch_role: bool = True,
        web_acl_arn: str | None = None,
        reserved_concurrency: int | None = None,
        dependencies_layer: lambda_.ILayerVersion | None = None,
        options: functions.FunctionOptions | None = None,
        function_props: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        options = options or functions.FunctionOptions()
        self.dependencies_layer = dependencies_layer or functions.dependencies_layer(self)
        self.function = self._function(
            table=table,
            delete_queue=delete_queue,
            user_pool=user_pool,
            user_pool_client=user_pool_client,
            product_service_url=product_service_url,
            product_service_invoke_arn=product_service_invoke_arn,
            allowed_origins=allowed_origins,
            rules=rules or CartRules(),
            reserved_concurrency=reserved_concurrency,
            options=options,
            function_props=function_props,
        )
        self.api, self.access_log_group = rest_api(
            self,
            "Default",
            parts_prefix="",
            name=options.service_name,
            description="Shopping cart service",
            allowed_origins=allowed_origins,
            allow_methods=["GET", "POST", "PUT", "OPTIONS"],
            stage_name=stage_name,
            log_retention=options.log_retention,
            removal_policy=options.removal_policy,
            throttling_rate_limit=throttling_rate_limit,
            throttling_burst_limit=throttling_burst_limit,
            cloud_watch_role=cloud_watch_role,
            web_acl_arn=web_acl_arn,
        )
        self.authorizer = apigw.CognitoUserPoolsAuthorizer(
            self, "Authorizer", cognito_user_pools=[user_pool], authorizer_name="CognitoUserPool"
        )
        self._add_routes()
        self.url = api_base_url(self.api)

    def _function(
        self,
        *,
        table: dynamodb.ITable,
        delete_queue: sqs.IQueue,
        user_pool: cognito.IUserPool,
        user_pool_client: cognito.IUserPoolClient,
        product_service_url: str,
        product_service_invoke_arn: str | None,
        allowed_origins: Sequence[str],
        rules: CartRules,
        reserved_concurrency: int | None,
        options: functions.FunctionOptions,
        function_props: Mapping[str, Any] | None,
    ) -> lambda_.Function:
        """The function behind every route, with what it may do: cart lines, the delete queue, and
        (signed) the product service."""
        if not Token.is_unresolved(product_service_url):
            product_service_url = product_service_url.rstrip("/")
        token_issuer = user_pool.user_pool_provider_url
        function = functions.cart_function(
            self,
            "Function",
            handler=functions.CART_API_HANDLER,
            description="Shopping cart API",
            timeout=API_TIMEOUT,
            memory_size=512,
            settings={
                "table_name": table.table_name,
                "delete_queue_url": delete_queue.queue_url,
                "product_service_url": product_service_url,
                "user_pool_client_id": user_pool_client.user_pool_client_id,
                "token_issuer": token_issuer,
                "jwks_url": f"{token_issuer}/.well-known/jwks.json",
                "allowed_origins": tuple(allowed_origins),
                "product_service_auth": "iam" if product_service_invoke_arn else "none",
                **rules.values,
            },
            options=options,
            function_props=function_props,
            extra_layers=[self.dependencies_layer],
            reserved_concurrency=reserved_concurrency,
        )
        grant_table_access(table, function, "api")
        delete_queue.grant_send_messages(function)
        if product_service_invoke_arn:
            _allow_product_service(function, product_service_invoke_arn)
        return function

    def _add_routes(self) -> None:
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
        integration = apigw.LambdaIntegration(self.function, allow_test_invoke=False)
        path_id = {"method.request.path.product_id": True}
        signed_in = {"authorizer": self.authorizer, "authorization_type": apigw.AuthorizationType.COGNITO}
        body = {"request_validator": validator}

        cart = self.api.root.add_resource("cart")
        item = cart.add_resource("{product_id}")
        anonymous_methods = [
            cart.add_method("GET", integration),
            cart.add_method("POST", integration, **body, request_models={"application/json": add_model}),
            item.add_method(
                "PUT",
                integration,
                **body,
                request_parameters=path_id,
                request_models={"application/json": set_model},
            ),
        ]
        cart.add_resource("migrate").add_method("POST", integration, **signed_in)
        cart.add_resource("checkout").add_method("POST", integration, **signed_in)
        cart.add_resource("totals").add_method("GET", integration, **signed_in)
        item.add_resource("total").add_method(
            "GET", integration, **body, request_parameters=path_id, **signed_in
        )
        for method in anonymous_methods:
            acknowledge_open_method(method, _ANONYMOUS_ROUTE)
        acknowledge_preflight(self.api)

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


def _allow_product_service(function: lambda_.Function, invoke_arn: str) -> None:
    """SigV4-signed product lookups: ``execute-api:Invoke`` on that one method."""
    function.add_to_role_policy(iam.PolicyStatement(actions=["execute-api:Invoke"], resources=[invoke_arn]))
    role = function.role
    assert role is not None
    functions.acknowledge_wildcard_resource(
        role.node.find_child("DefaultPolicy").node.default_child,
        invoke_arn,
        "execute-api:Invoke on the product service's one AWS_IAM method; the trailing '*' is its "
        "{product_id} path parameter, which an execute-api ARN can only match with a wildcard.",
    )
