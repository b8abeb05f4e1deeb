"""Hooks for embedders: an existing table, props passthrough over our defaults, grants; Auth with an
existing user pool; Frontend's distribution props. What can be checked at synth time fails there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template
from infra_helpers import SKIP_BUNDLING, function_by_handler, ref, resources, role_statements

from shopping_cart import Auth, CartTable, Frontend, ShoppingCart

HANDLERS = ("cart.api.handler", "cart.aggregator.handler", "cart.delete_worker.handler")
STREAM_ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/carts/stream/2026-01-01T00:00:00.000"


def _cart_table(scope: Stack, construct_id: str = "Carts", **overrides: Any) -> dynamodb.Table:
    props: dict[str, Any] = {
        "partition_key": dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        "sort_key": dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
        "stream": dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
        "time_to_live_attribute": "expirationTime",
        **overrides,
    }
    return dynamodb.Table(scope, construct_id, **{k: v for k, v in props.items() if v is not None})


def _cart(stack: Stack, construct_id: str = "Cart", **props: Any) -> ShoppingCart:
    auth = stack.node.try_find_child("Auth") or Auth(stack, "Auth")
    assert isinstance(auth, Auth)
    return ShoppingCart(
        stack,
        construct_id,
        user_pool=auth.user_pool,
        user_pool_client=auth.user_pool_client,
        product_service_url="https://products.example.com",
        allowed_origins=[],
        monitoring=False,
        **props,
    )


@pytest.fixture(scope="module")
def embedded() -> dict[str, Any]:
    """One app: the embedder's table in a data stack, the cart (with props passthrough) in another."""
    app = App(context=SKIP_BUNDLING)
    data = Stack(app, "Data")
    table = _cart_table(data)
    shop = Stack(app, "Shop")
    cart = _cart(
        shop,
        existing_table=table,
        function_props={"memory_size": 1024, "environment": {"SHOP_TIER": "gold"}},
        api_function_props={"memory_size": 2048, "reserved_concurrent_executions": 7},
    )
    reporting = iam.Role(shop, "Reporting", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    cart.grant_read_totals(reporting)
    return {
        "cart": cart,
        "table": table,
        "shop": Template.from_stack(shop).to_json(),
        "data": Template.from_stack(data).to_json(),
        "reporting": shop.get_logical_id(reporting.node.default_child),
    }


def test_an_existing_table_is_used_and_none_of_ours_is_created(embedded: dict[str, Any]) -> None:
    shop = embedded["shop"]
    assert resources(shop, "AWS::DynamoDB::Table") == {}
    assert len(resources(embedded["data"], "AWS::DynamoDB::Table")) == 1
    assert embedded["cart"].table is embedded["table"]
    for handler in HANDLERS:
        table_name = function_by_handler(shop, handler)[1]["Properties"]["Environment"]["Variables"][
            "TABLE_NAME"
        ]
        assert "Fn::ImportValue" in table_name, handler  # the data stack's table, by export
    [mapping] = [
        m
        for m in resources(shop, "AWS::Lambda::EventSourceMapping").values()
        if "StartingPosition" in m["Properties"]
    ]
    assert "Fn::ImportValue" in mapping["Properties"]["EventSourceArn"]


def test_function_props_go_over_the_defaults_of_every_function(embedded: dict[str, Any]) -> None:
    shop = embedded["shop"]
    memory = {h: function_by_handler(shop, h)[1]["Properties"]["MemorySize"] for h in HANDLERS}
    assert memory == {
        "cart.api.handler": 2048,
        "cart.aggregator.handler": 1024,
        "cart.delete_worker.handler": 1024,
    }
    api = function_by_handler(shop, "cart.api.handler")[1]["Properties"]
    assert api["ReservedConcurrentExecutions"] == 7
    for handler in HANDLERS:
        variables = function_by_handler(shop, handler)[1]["Properties"]["Environment"]["Variables"]
        assert variables["SHOP_TIER"] == "gold"
        assert {"TABLE_NAME", "POWERTOOLS_SERVICE_NAME"} <= set(variables)


def test_grant_read_totals_reads_the_totals_items_only(embedded: dict[str, Any]) -> None:
    [statement] = role_statements(embedded["shop"], embedded["reporting"])
    assert sorted(statement["Action"]) == ["dynamodb:GetItem", "dynamodb:Query"]
    assert statement["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["totals"]}}


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"handler": "mine.handler"}, "handler cannot be overridden"),
        ({"runtime": None}, "runtime cannot be overridden"),
        ({"environment": {"TABLE_NAME": "other"}}, "TABLE_NAME set by this construct"),
    ],
)
def test_function_props_cannot_change_what_the_runtime_depends_on(
    props: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        _cart(Stack(App(context=SKIP_BUNDLING), "S"), function_props=props)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"stream": None}, "has no stream ARN"),
        ({"stream": dynamodb.StreamViewType.KEYS_ONLY}, "NEW_AND_OLD_IMAGES"),
        ({"time_to_live_attribute": None}, "TTL on expirationTime"),
        ({"time_to_live_attribute": "ttl"}, "TTL on expirationTime"),
        ({"sort_key": None}, "string sort key sk"),
        (
            {"partition_key": dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING)},
            "partition key pk",
        ),
        (
            {"sort_key": dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.NUMBER)},
            "string sort key sk",
        ),
    ],
)
def test_an_unfit_existing_table_fails_at_synth_time(overrides: dict[str, Any], message: str) -> None:
    stack = Stack(App(context=SKIP_BUNDLING), "S")
    with pytest.raises(ValueError, match=message):
        CartTable(stack, "Table", existing_table=_cart_table(stack, **overrides))


def test_an_imported_table_needs_its_stream_arn() -> None:
    stack = Stack(App(context=SKIP_BUNDLING), "S")
    with pytest.raises(ValueError, match="table_stream_arn"):
        CartTable(stack, "A", existing_table=dynamodb.Table.from_table_name(stack, "Named", "carts"))
    imported = dynamodb.Table.from_table_attributes(
        stack, "Imported", table_name="carts", table_stream_arn=STREAM_ARN
    )
    assert CartTable(stack, "B", existing_table=imported).table is imported


def test_table_props_go_over_the_defaults_but_not_the_keys() -> None:
    stack = Stack(App(context=SKIP_BUNDLING), "S")
    CartTable(stack, "Table", table_props={"table_name": "carts", "contributor_insights_enabled": True})
    [table] = resources(Template.from_stack(stack).to_json(), "AWS::DynamoDB::Table").values()
    assert table["Properties"]["TableName"] == "carts"
    assert table["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    with pytest.raises(ValueError, match="partition_key cannot be overridden"):
        CartTable(
            stack,
            "Other",
            table_props={"partition_key": dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING)},
        )
    with pytest.raises(ValueError, match="not both"):
        CartTable(stack, "Both", table_props={"table_name": "x"}, existing_table=_cart_table(stack))


def test_auth_with_an_existing_user_pool_adds_its_client_and_group_only() -> None:
    stack = Stack(App(), "S")
    pool = cognito.UserPool.from_user_pool_id(stack, "Pool", "eu-west-1_abcdefghi")
    auth = Auth(stack, "Auth", existing_user_pool=pool)
    template = Template.from_stack(stack).to_json()
    assert resources(template, "AWS::Cognito::UserPool") == {}
    [client] = resources(template, "AWS::Cognito::UserPoolClient").values()
    assert client["Properties"]["UserPoolId"] == "eu-west-1_abcdefghi"
    assert auth.user_pool is pool
    [group] = resources(template, "AWS::Cognito::UserPoolGroup").values()
    assert group["Properties"]["GroupName"] == "admin"


def test_auth_with_an_existing_client_and_group_creates_nothing() -> None:
    stack = Stack(App(), "S")
    pool = cognito.UserPool.from_user_pool_id(stack, "Pool", "eu-west-1_abcdefghi")
    client = cognito.UserPoolClient.from_user_pool_client_id(stack, "Client", "client-id")
    auth = Auth(
        stack, "Auth", existing_user_pool=pool, existing_user_pool_client=client, create_admin_group=False
    )
    assert auth.user_pool_client is client
    assert auth.admin_group is None
    assert Template.from_stack(stack).to_json().get("Resources", {}) == {}


def test_auth_refuses_new_pool_settings_with_an_existing_pool() -> None:
    stack = Stack(App(), "S")
    pool = cognito.UserPool.from_user_pool_id(stack, "Pool", "eu-west-1_abcdefghi")
    with pytest.raises(ValueError, match="ses_"):
        Auth(stack, "Auth", existing_user_pool=pool, ses_from_address="shop@example.com")
    with pytest.raises(ValueError, match="existing_user_pool"):
        Auth(
            stack,
            "Other",
            existing_user_pool_client=cognito.UserPoolClient.from_user_pool_client_id(stack, "C", "c"),
        )


def test_frontend_distribution_props(storefront: Path) -> None:
    stack = Stack(App(), "S")
    auth = Auth(stack, "Auth")
    common: dict[str, Any] = {
        "asset_path": storefront,
        "cart_api_url": "https://cart.example.com/prod",
        "product_api_url": "https://products.example.com/prod",
        "user_pool": auth.user_pool,
        "user_pool_client": auth.user_pool_client,
    }
    Frontend(stack, "Shop", distribution_props={"enable_ipv6": False, "comment": "my shop"}, **common)
    [distribution] = resources(Template.from_stack(stack).to_json(), "AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    assert config["IPV6Enabled"] is False
    assert config["Comment"] == "my shop"
    assert ref(config["DefaultCacheBehavior"]["ResponseHeadersPolicyId"])  # our headers stay
    with pytest.raises(ValueError, match="web_acl_id cannot be overridden"):
        Frontend(stack, "Other", distribution_props={"web_acl_id": "arn:aws:wafv2:acl"}, **common)
