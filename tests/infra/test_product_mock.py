"""ProductMock as the app deploys it."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match, Template
from infra_helpers import (
    COMMON_ENV,
    Synthesized,
    all_actions,
    api_methods,
    asset_dir,
    files_in,
    function_by_handler,
    only,
    ref,
    resources,
    role_statements,
)

from shopping_cart.functions import POWERTOOLS_LAYER_PARAMETER

HANDLER = "products.api.handler"
ROUTES = {("GET", "/product"), ("GET", "/product/{product_id}")}


@pytest.fixture(scope="module")
def products(synth: Synthesized) -> dict[str, Any]:
    return synth.by_suffix("-ProductMock")[1]


@pytest.fixture(scope="module")
def template(synth: Synthesized) -> Template:
    return synth.templates[synth.by_suffix("-ProductMock")[0]]


def test_one_function_with_the_library_defaults(template: Template, products: dict[str, Any]) -> None:
    template.resource_count_is("AWS::Lambda::Function", 1)
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": HANDLER,
            "Runtime": "python3.13",
            "Architectures": ["arm64"],
            "TracingConfig": {"Mode": "Active"},
            "Timeout": 10,
            "Layers": [{"Ref": Match.string_like_regexp("^SsmParameterValueawsservicepowertools")}],
        },
    )
    [parameter] = [p for p in products["Parameters"].values() if p["Default"] == POWERTOOLS_LAYER_PARAMETER]
    assert parameter["Type"] == "AWS::SSM::Parameter::Value<String>"


def test_environment(products: dict[str, Any]) -> None:
    env = function_by_handler(products, HANDLER)[1]["Properties"]["Environment"]["Variables"]
    assert env == {
        "ALLOWED_ORIGINS": "",
        "POWERTOOLS_SERVICE_NAME": "product-mock",
        "POWERTOOLS_METRICS_NAMESPACE": "ShoppingCart",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }
    assert set(env) == {"ALLOWED_ORIGINS"} | COMMON_ENV


def test_log_group_retention_and_role(products: dict[str, Any]) -> None:
    props = function_by_handler(products, HANDLER)[1]["Properties"]
    group = ref(props["LoggingConfig"]["LogGroup"])
    assert products["Resources"][group]["Properties"]["RetentionInDays"] == 30
    role = ref(props["Role"])
    assert "ManagedPolicyArns" not in products["Resources"][role]["Properties"]
    assert all_actions(role_statements(products, role)) == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }


def test_the_service_route_needs_sigv4_and_the_same_function(products: dict[str, Any]) -> None:
    method = api_methods(products)[("GET", "/internal/product/{product_id}")]
    assert method["AuthorizationType"] == "AWS_IAM"
    assert method["Integration"]["Type"] == "AWS_PROXY"
    function = function_by_handler(products, HANDLER)[0]
    assert {"Fn::GetAtt": [function, "Arn"]} in method["Integration"]["Uri"]["Fn::Join"][1]
    assert method["RequestParameters"] == {"method.request.path.product_id": True}


def test_routes_are_public_and_proxy_to_the_function(products: dict[str, Any]) -> None:
    methods = api_methods(products)
    assert {key for key in methods if key[0] != "OPTIONS"} == ROUTES | {
        ("GET", "/internal/product/{product_id}")
    }
    function = function_by_handler(products, HANDLER)[0]
    for route in ROUTES:
        method = methods[route]
        assert method["AuthorizationType"] == "NONE"
        assert method["Integration"]["Type"] == "AWS_PROXY"
        assert {"Fn::GetAtt": [function, "Arn"]} in method["Integration"]["Uri"]["Fn::Join"][1]
    assert methods[("GET", "/product/{product_id}")]["RequestParameters"] == {
        "method.request.path.product_id": True
    }
    assert not resources(products, "AWS::ApiGateway::Authorizer")


def test_cors(dev: Synthesized) -> None:
    for (verb, _), method in api_methods(dev.by_suffix("-ProductMock")[1]).items():
        if verb == "OPTIONS":
            headers = method["Integration"]["IntegrationResponses"][0]["ResponseParameters"]
            assert headers["method.response.header.Access-Control-Allow-Methods"] == "'GET,OPTIONS'"
            assert headers["method.response.header.Access-Control-Allow-Credentials"] == "'true'"


def test_stage(template: Template) -> None:
    template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "StageName": "prod",
            "TracingEnabled": True,
            "AccessLogSetting": {
                "DestinationArn": Match.any_value(),
                "Format": Match.string_like_regexp("^{"),
            },
            "MethodSettings": [
                Match.object_like(
                    {"LoggingLevel": "ERROR", "ThrottlingRateLimit": 100, "ThrottlingBurstLimit": 200}
                )
            ],
        },
    )
    template.has_resource_properties(
        "AWS::ApiGateway::RestApi", {"EndpointConfiguration": {"Types": ["REGIONAL"]}}
    )


def test_sets_the_account_cloudwatch_role(products: dict[str, Any]) -> None:
    account = only(products, "AWS::ApiGateway::Account")[1]
    role = products["Resources"][ref(account["Properties"]["CloudWatchRoleArn"])]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "apigateway.amazonaws.com"
    }
    stage = only(products, "AWS::ApiGateway::Stage")[1]
    assert only(products, "AWS::ApiGateway::Account")[0] in stage["DependsOn"]


def test_output_url_without_trailing_slash(products: dict[str, Any]) -> None:
    url = products["Outputs"]["ProductApiUrl"]["Value"]["Fn::Join"][1]
    assert url[0] == "https://"
    assert url[-1] == {"Ref": only(products, "AWS::ApiGateway::Stage")[0]}


def test_product_asset_holds_the_product_code_only(synth: Synthesized, products: dict[str, Any]) -> None:
    files = files_in(asset_dir(synth, function_by_handler(products, HANDLER)[1]["Properties"]["Code"]))
    if "products/api.py" not in files:
        pytest.skip("runtime/products/api.py does not exist yet")
    assert not [f for f in files if f.startswith("cart/") or "__pycache__" in f]


def test_request_validation(products: dict[str, Any]) -> None:
    validator_id, validator = only(products, "AWS::ApiGateway::RequestValidator")
    assert validator["Properties"]["ValidateRequestParameters"] is True
    for route in ROUTES:
        assert api_methods(products)[route]["RequestValidatorId"] == {"Ref": validator_id}
