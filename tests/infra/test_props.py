"""The constructs embedded in one stack with non-default props: every prop reaches the template."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template
from infra_helpers import (
    SHOP_ORIGIN,
    SKIP_BUNDLING,
    WEB_ACL_ARN,
    Synthesized,
    asset_dir,
    files_in,
    function_by_handler,
    only,
    ref,
    resources,
)

from shopping_cart import Auth, ShoppingCart, functions


@pytest.fixture(scope="module")
def embedded(custom: Synthesized) -> dict[str, Any]:
    return custom.json["Embedded"]


def _env(template: dict[str, Any], handler: str) -> dict[str, Any]:
    return function_by_handler(template, handler)[1]["Properties"]["Environment"]["Variables"]


def _mapping(template: dict[str, Any], handler: str) -> dict[str, Any]:
    function = function_by_handler(template, handler)[0]
    [mapping] = [
        r["Properties"]
        for r in resources(template, "AWS::Lambda::EventSourceMapping").values()
        if ref(r["Properties"]["FunctionName"]) == function
    ]
    return mapping


def test_one_powertools_parameter_per_stack(embedded: dict[str, Any]) -> None:
    assert len(resources(embedded, "AWS::Lambda::Function")) == 4
    powertools = [name for name in embedded["Parameters"] if "powertools" in name]
    assert len(powertools) == 1


def test_destroy_removal_policy(embedded: dict[str, Any]) -> None:
    for resource_type in ("AWS::DynamoDB::Table", "AWS::Cognito::UserPool", "AWS::Logs::LogGroup"):
        for resource in resources(embedded, resource_type).values():
            assert resource["DeletionPolicy"] == "Delete", resource_type


def test_log_retention(embedded: dict[str, Any]) -> None:
    groups = resources(embedded, "AWS::Logs::LogGroup")
    assert len(groups) == 7  # four functions, two access logs, the web ACL's
    assert {g["Properties"]["RetentionInDays"] for g in groups.values()} == {7}


def test_auth_props(embedded: dict[str, Any]) -> None:
    client = only(embedded, "AWS::Cognito::UserPoolClient")[1]["Properties"]
    assert "ALLOW_USER_PASSWORD_AUTH" in client["ExplicitAuthFlows"]
    assert only(embedded, "AWS::Cognito::UserPoolGroup")[1]["Properties"]["GroupName"] == "shop-admins"
    pool = only(embedded, "AWS::Cognito::UserPool")[1]["Properties"]
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] == 12


def test_cart_environment_from_props(embedded: dict[str, Any]) -> None:
    env = _env(embedded, "cart.api.handler")
    pool = only(embedded, "AWS::Cognito::UserPool")[0]
    assert env["TOKEN_ISSUER"] == {"Fn::GetAtt": [pool, "ProviderURL"]}
    assert env["JWKS_URL"] == {
        "Fn::Join": ["", [{"Fn::GetAtt": [pool, "ProviderURL"]}, "/.well-known/jwks.json"]]
    }
    assert env["USER_POOL_CLIENT_ID"] == {"Ref": only(embedded, "AWS::Cognito::UserPoolClient")[0]}
    literal = {k: v for k, v in env.items() if isinstance(v, str)}
    assert literal == {
        "PRODUCT_SERVICE_URL": "https://products.example.com/v1",  # trailing slash removed
        "ADMIN_GROUP": "shop-admins",
        "ANONYMOUS_CART_TTL_SECONDS": "7200",
        "USER_CART_TTL_SECONDS": "2592000",
        "MAX_QUANTITY": "50",
        "ALLOWED_ORIGINS": SHOP_ORIGIN,
        "PRODUCT_CACHE_SECONDS": "30",
        "PRODUCT_SERVICE_TIMEOUT_SECONDS": "2",
        # An embedder's own product service without product_service_invoke_arn: plain calls.
        "PRODUCT_SERVICE_AUTH": "none",
        "POWERTOOLS_SERVICE_NAME": "shopping-cart",
        "POWERTOOLS_METRICS_NAMESPACE": "ShoppingCart",
        "POWERTOOLS_LOG_LEVEL": "DEBUG",
    }
    assert _env(embedded, "cart.aggregator.handler")["POWERTOOLS_LOG_LEVEL"] == "DEBUG"


def test_trigger_props(embedded: dict[str, Any]) -> None:
    stream = _mapping(embedded, "cart.aggregator.handler")
    assert stream["BatchSize"] == 25
    assert stream["MaximumBatchingWindowInSeconds"] == 5
    assert stream["MaximumRetryAttempts"] == 3
    assert stream["MaximumRecordAgeInSeconds"] == 3600
    worker = _mapping(embedded, "cart.delete_worker.handler")
    assert worker["BatchSize"] == 5
    assert worker["ScalingConfig"] == {"MaximumConcurrency": 7}
    [delete] = [
        q for q in resources(embedded, "AWS::SQS::Queue").values() if "RedrivePolicy" in q["Properties"]
    ]
    assert delete["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 3


def test_stage_props_and_web_acl(embedded: dict[str, Any]) -> None:
    stages = resources(embedded, "AWS::ApiGateway::Stage")
    [(cart_stage_id, cart_stage)] = [
        (k, s) for k, s in stages.items() if s["Properties"]["StageName"] == "v1"
    ]
    [settings] = cart_stage["Properties"]["MethodSettings"]
    assert (settings["ThrottlingRateLimit"], settings["ThrottlingBurstLimit"]) == (10, 20)
    [association] = [
        a["Properties"]
        for a in resources(embedded, "AWS::WAFv2::WebACLAssociation").values()
        if a["Properties"]["WebACLArn"] == WEB_ACL_ARN
    ]
    assert cart_stage_id in json.dumps(association["ResourceArn"])


def test_one_origin_also_on_gateway_errors(embedded: dict[str, Any]) -> None:
    responses = resources(embedded, "AWS::ApiGateway::GatewayResponse")
    types = sorted(r["Properties"]["ResponseType"] for r in responses.values())
    assert types == ["DEFAULT_4XX", "DEFAULT_4XX", "DEFAULT_5XX", "DEFAULT_5XX"]  # two APIs
    for response in responses.values():
        headers = response["Properties"]["ResponseParameters"]
        assert headers["gatewayresponse.header.Access-Control-Allow-Origin"] == f"'{SHOP_ORIGIN}'"
        assert headers["gatewayresponse.header.Access-Control-Allow-Credentials"] == "'true'"


def test_one_account_role_when_only_the_cart_asks(embedded: dict[str, Any]) -> None:
    assert len(resources(embedded, "AWS::ApiGateway::Account")) == 1


# --- Assets ------------------------------------------------------------------------------------------


def test_cart_asset_has_the_cart_code_only(custom: Synthesized, embedded: dict[str, Any]) -> None:
    codes = {
        json.dumps(function_by_handler(embedded, h)[1]["Properties"]["Code"], sort_keys=True)
        for h in ("cart.api.handler", "cart.aggregator.handler", "cart.delete_worker.handler")
    }
    assert len(codes) == 1  # one asset for the three cart functions
    files = files_in(asset_dir(custom, json.loads(codes.pop())))
    assert files == {
        "__init__.py",
        "cart/__init__.py",
        "cart/api.py",
        "cart/aggregator.py",
        "cart/delete_worker.py",
    }


def test_product_asset_has_the_product_code_only(custom: Synthesized, embedded: dict[str, Any]) -> None:
    code = function_by_handler(embedded, "products.api.handler")[1]["Properties"]["Code"]
    assert files_in(asset_dir(custom, code)) == {
        "__init__.py",
        "products/__init__.py",
        "products/api.py",
        "products/catalogue.json",
    }


def _asset_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api_code: str) -> tuple[str, str]:
    """(layer S3Key, cart API S3Key) of a cart synthesized over a fake runtime with this api.py."""
    runtime = tmp_path / api_code.split()[-1]
    (runtime / "cart").mkdir(parents=True)
    (runtime / "requirements.txt").write_text("PyJWT[crypto]==2.15.1\n")
    (runtime / "cart" / "api.py").write_text(api_code)
    monkeypatch.setattr(functions, "runtime_root", lambda: runtime)
    stack = Stack(App(context=SKIP_BUNDLING), "S")
    auth = Auth(stack, "Auth")
    cart = ShoppingCart(
        stack,
        "Cart",
        user_pool=auth.user_pool,
        user_pool_client=auth.user_pool_client,
        product_service_url="https://products.example.com",
        allowed_origins=[],
    )
    template = Template.from_stack(stack).to_json()
    layer = template["Resources"][stack.get_logical_id(cart.dependencies_layer.node.default_child)]
    function = template["Resources"][stack.get_logical_id(cart.api_function.node.default_child)]
    return layer["Properties"]["Content"]["S3Key"], function["Properties"]["Code"]["S3Key"]


def test_editing_handler_code_does_not_rebuild_the_dependencies_layer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layer_a, code_a = _asset_keys(tmp_path, monkeypatch, "VERSION = 'a'")
    layer_b, code_b = _asset_keys(tmp_path, monkeypatch, "VERSION = 'b'")
    assert code_a != code_b
    assert layer_a == layer_b


# --- Public API of the construct ---------------------------------------------------------------------


def test_public_attributes(custom: Synthesized) -> None:
    cart = custom.app.node.find_child("Embedded").node.find_child("Cart")
    assert isinstance(cart, ShoppingCart)
    assert isinstance(cart.table, dynamodb.Table)
    for queue in (cart.delete_queue, cart.delete_dead_letter_queue, cart.totals_failure_queue):
        assert isinstance(queue, sqs.Queue)
    assert cart.delete_queue.dead_letter_queue.queue is cart.delete_dead_letter_queue
    assert isinstance(cart.api, apigw.RestApi)
    assert isinstance(cart.authorizer, apigw.CognitoUserPoolsAuthorizer)
    for function in (cart.api_function, cart.aggregator_function, cart.delete_worker_function):
        assert isinstance(function, lambda_.Function)
    assert isinstance(cart.dependencies_layer, lambda_.LayerVersion)
    resolved = Stack.of(cart).resolve(cart.api_url)
    assert resolved["Fn::Join"][1][-1] == {
        "Ref": Stack.of(cart).get_logical_id(cart.api.deployment_stage.node.default_child)
    }


@pytest.mark.parametrize(
    ("prop", "value", "message"),
    [
        ("totals_batch_size", 0, "totals_batch_size"),
        ("totals_batch_size", 10_001, "totals_batch_size"),
        ("totals_batching_window", Duration.seconds(301), "totals_batching_window"),
        ("delete_max_concurrency", 1, "delete_max_concurrency"),
        ("delete_batch_size", 11, "delete_batch_size"),
        ("anonymous_cart_ttl", Duration.seconds(0), "anonymous_cart_ttl"),
        ("max_quantity", 0, "max_quantity"),
        ("allowed_origins", ["*"], "allowed_origins"),
    ],
)
def test_invalid_props_fail_at_synth_time(prop: str, value: Any, message: str) -> None:
    stack = Stack(App(), "S")
    auth = Auth(stack, "Auth")
    with pytest.raises(ValueError, match=message):
        ShoppingCart(
            stack,
            "Cart",
            user_pool=auth.user_pool,
            user_pool_client=auth.user_pool_client,
            product_service_url="https://products.example.com",
            **{"allowed_origins": [], prop: value},
        )
