"""ShoppingCart as the app deploys it: table, queues, functions, permissions, triggers, REST API."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template
from infra_helpers import (
    CART_API_ENV,
    COMMON_ENV,
    Synthesized,
    actions_on,
    all_actions,
    api_methods,
    as_list,
    asset_dir,
    files_in,
    function_by_handler,
    only,
    ref,
    resolve_cross_stack,
    resources,
    role_statements,
)

from shopping_cart.cart import CART_LINE_FILTER, VISIBILITY_TIMEOUT_FACTOR
from shopping_cart.functions import POWERTOOLS_LAYER_PARAMETER

API = "cart.api.handler"
AGGREGATOR = "cart.aggregator.handler"
WORKER = "cart.delete_worker.handler"
ORIGINS = ""  # cdk.json: production has no cross-origin caller (the storefront is same-origin)


@pytest.fixture(scope="module")
def cart(synth: Synthesized) -> dict[str, Any]:
    return synth.by_suffix("-Cart")[1]


@pytest.fixture(scope="module")
def template(synth: Synthesized) -> Template:
    return synth.templates[synth.by_suffix("-Cart")[0]]


def _queue_ids(cart: dict[str, Any]) -> dict[str, str]:
    queues = resources(cart, "AWS::SQS::Queue")
    [delete] = [q for q, r in queues.items() if "RedrivePolicy" in r["Properties"]]
    [dlq] = [ref(queues[delete]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])]
    [failure] = [q for q in queues if q not in (delete, dlq)]
    return {"delete": delete, "dlq": dlq, "failure": failure}


# --- Table -------------------------------------------------------------------------------------------


def test_table_keys_billing_stream_ttl_pitr(template: Template) -> None:
    template.resource_count_is("AWS::DynamoDB::Table", 1)
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": Match.array_with(
                [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}]
            ),
            "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
            "TimeToLiveSpecification": {"AttributeName": "expirationTime", "Enabled": True},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        },
    )


def test_table_is_retained_by_default(template: Template) -> None:
    # cdk.json's removalPolicy is "retain"; tests/infra/test_props.py checks "destroy".
    template.has_resource(
        "AWS::DynamoDB::Table", {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
    )


# --- Functions ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("handler", "timeout"), [(API, 10), (AGGREGATOR, 60), (WORKER, 30)], ids=["api", "aggregator", "worker"]
)
def test_function_defaults(cart: dict[str, Any], handler: str, timeout: int) -> None:
    _, function = function_by_handler(cart, handler)
    props = function["Properties"]
    assert props["Runtime"] == "python3.13"
    assert props["Architectures"] == ["arm64"]
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["Timeout"] == timeout
    # Public layers first: the project's own layer (the API's dependencies) is extracted last.
    powertools = ref(props["Layers"][0])
    assert cart["Parameters"][powertools] == {
        "Type": "AWS::SSM::Parameter::Value<String>",
        "Default": POWERTOOLS_LAYER_PARAMETER,
    }


def test_only_the_api_gets_the_dependencies_layer(cart: dict[str, Any]) -> None:
    layer_id, layer = only(cart, "AWS::Lambda::LayerVersion")
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    layers = {h: function_by_handler(cart, h)[1]["Properties"]["Layers"] for h in (API, AGGREGATOR, WORKER)}
    assert {"Ref": layer_id} in layers[API]
    assert len(layers[API]) == 2
    assert len(layers[AGGREGATOR]) == len(layers[WORKER]) == 1


def test_each_function_has_its_own_log_group_with_retention_and_its_own_role(cart: dict[str, Any]) -> None:
    log_groups = resources(cart, "AWS::Logs::LogGroup")
    seen_groups, seen_roles = set(), set()
    for handler in (API, AGGREGATOR, WORKER):
        props = function_by_handler(cart, handler)[1]["Properties"]
        group = ref(props["LoggingConfig"]["LogGroup"])
        assert log_groups[group]["Properties"]["RetentionInDays"] == 30
        seen_groups.add(group)
        seen_roles.add(ref(props["Role"]))
    assert len(seen_groups) == len(seen_roles) == 3
    for role in seen_roles:
        assert "ManagedPolicyArns" not in cart["Resources"][role]["Properties"]


def test_cart_api_environment(synth: Synthesized, cart: dict[str, Any]) -> None:
    env = function_by_handler(cart, API)[1]["Properties"]["Environment"]["Variables"]
    assert set(env) == CART_API_ENV | COMMON_ENV
    queues = _queue_ids(cart)
    assert ref(env["TABLE_NAME"]) == only(cart, "AWS::DynamoDB::Table")[0]
    assert ref(env["DELETE_QUEUE_URL"]) == queues["delete"]
    literal = {key: value for key, value in env.items() if isinstance(value, str)}
    assert literal == {
        "ADMIN_GROUP": "admin",
        "ANONYMOUS_CART_TTL_SECONDS": "86400",
        "USER_CART_TTL_SECONDS": "604800",
        "MAX_QUANTITY": "1000",
        "ALLOWED_ORIGINS": ORIGINS,
        "PRODUCT_CACHE_SECONDS": "300",
        "PRODUCT_SERVICE_TIMEOUT_SECONDS": "3",
        "PRODUCT_SERVICE_AUTH": "iam",
        "POWERTOOLS_SERVICE_NAME": "shopping-cart",
        "POWERTOOLS_METRICS_NAMESPACE": "ShoppingCart",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }
    auth_name, auth = synth.by_suffix("-Auth")
    pool = only(auth, "AWS::Cognito::UserPool")[0]
    client = only(auth, "AWS::Cognito::UserPoolClient")[0]
    issuer = {"Producer": auth_name, "Value": {"Fn::GetAtt": [pool, "ProviderURL"]}}
    assert resolve_cross_stack(env["TOKEN_ISSUER"], synth) == issuer
    assert resolve_cross_stack(env["JWKS_URL"], synth) == {
        "Fn::Join": ["", [issuer, "/.well-known/jwks.json"]]
    }
    assert resolve_cross_stack(env["USER_POOL_CLIENT_ID"], synth) == {
        "Producer": auth_name,
        "Value": {"Ref": client},
    }
    # The product service URL is the product mock's stage URL, without a trailing slash.
    # The product service URL is the product mock's stage URL plus its AWS_IAM service route, signed.
    _, products = synth.by_suffix("-ProductMock")
    product_url = resolve_cross_stack(env["PRODUCT_SERVICE_URL"], synth)["Fn::Join"][1]
    assert product_url[0] == "https://"
    assert product_url[1]["Value"] == {"Ref": only(products, "AWS::ApiGateway::RestApi")[0]}
    assert product_url[-2]["Value"] == {"Ref": only(products, "AWS::ApiGateway::Stage")[0]}
    assert product_url[-1] == "/internal"
    assert env["PRODUCT_SERVICE_AUTH"] == "iam"


@pytest.mark.parametrize("handler", [AGGREGATOR, WORKER])
def test_worker_environment(cart: dict[str, Any], handler: str) -> None:
    env = function_by_handler(cart, handler)[1]["Properties"]["Environment"]["Variables"]
    assert set(env) == {"TABLE_NAME"} | COMMON_ENV
    assert ref(env["TABLE_NAME"]) == only(cart, "AWS::DynamoDB::Table")[0]
    assert env["POWERTOOLS_SERVICE_NAME"] == "shopping-cart"


# --- Least privilege ---------------------------------------------------------------------------------


def _statements(cart: dict[str, Any], handler: str) -> list[dict[str, Any]]:
    role = ref(function_by_handler(cart, handler)[1]["Properties"]["Role"])
    return role_statements(cart, role)


def _wildcard_actions(statements: list[dict[str, Any]]) -> set[str]:
    return {
        action
        for statement in statements
        if "*" in as_list(statement["Resource"])
        for action in as_list(statement["Action"])
    }


def test_api_permissions(cart: dict[str, Any]) -> None:
    statements = _statements(cart, API)
    table = only(cart, "AWS::DynamoDB::Table")[0]
    queues = _queue_ids(cart)
    assert {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    } == actions_on(statements, table)
    assert "sqs:SendMessage" in actions_on(statements, queues["delete"])
    assert not actions_on(statements, table, "StreamArn")
    assert not {a for a in all_actions(statements) if a.startswith("sqs:") and a not in _SQS_SEND}
    assert not actions_on(statements, queues["failure"])
    assert not actions_on(statements, queues["dlq"])
    assert _wildcard_actions(statements) == _XRAY


def test_aggregator_permissions(cart: dict[str, Any]) -> None:
    statements = _statements(cart, AGGREGATOR)
    table = only(cart, "AWS::DynamoDB::Table")[0]
    queues = _queue_ids(cart)
    assert actions_on(statements, table) == {"dynamodb:PutItem", "dynamodb:UpdateItem"}
    assert actions_on(statements, table, "StreamArn") == {
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
    }
    assert "sqs:SendMessage" in actions_on(statements, queues["failure"])
    assert not actions_on(statements, queues["delete"])
    assert _wildcard_actions(statements) == _XRAY | {"dynamodb:ListStreams"}


def test_delete_worker_permissions(cart: dict[str, Any]) -> None:
    statements = _statements(cart, WORKER)
    table = only(cart, "AWS::DynamoDB::Table")[0]
    queues = _queue_ids(cart)
    assert actions_on(statements, table) == {"dynamodb:DeleteItem"}
    assert "dynamodb:PutItem" not in all_actions(statements)
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"} <= actions_on(
        statements, queues["delete"]
    )
    assert "sqs:SendMessage" not in all_actions(statements)
    assert _wildcard_actions(statements) == _XRAY


_XRAY = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
_SQS_SEND = {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}


def test_functions_may_write_only_their_own_log_group(cart: dict[str, Any]) -> None:
    for handler in (API, AGGREGATOR, WORKER):
        props = function_by_handler(cart, handler)[1]["Properties"]
        statements = _statements(cart, handler)
        group = ref(props["LoggingConfig"]["LogGroup"])
        assert actions_on(statements, group) == {"logs:CreateLogStream", "logs:PutLogEvents"}
        assert {a for a in all_actions(statements) if a.startswith("logs:")} == {
            "logs:CreateLogStream",
            "logs:PutLogEvents",
        }


# --- Queues ------------------------------------------------------------------------------------------


def test_delete_queue_redrive_and_visibility(cart: dict[str, Any]) -> None:
    queues = _queue_ids(cart)
    props = cart["Resources"][queues["delete"]]["Properties"]
    assert props["RedrivePolicy"]["maxReceiveCount"] == 5
    worker_timeout = function_by_handler(cart, WORKER)[1]["Properties"]["Timeout"]
    assert props["VisibilityTimeout"] >= VISIBILITY_TIMEOUT_FACTOR * worker_timeout == 180


def test_every_queue_is_encrypted_and_enforces_ssl(cart: dict[str, Any]) -> None:
    queues = resources(cart, "AWS::SQS::Queue")
    assert len(queues) == 3
    enforced = set()
    for policy in resources(cart, "AWS::SQS::QueuePolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Deny" and statement.get("Condition") == {
                "Bool": {"aws:SecureTransport": "false"}
            }:
                assert statement["Action"] == "sqs:*"
                enforced.update(ref(queue) for queue in policy["Properties"]["Queues"])
    assert enforced == set(queues)
    for queue in queues.values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True


# --- Triggers ----------------------------------------------------------------------------------------


def _mapping(cart: dict[str, Any], handler: str) -> dict[str, Any]:
    function = function_by_handler(cart, handler)[0]
    [mapping] = [
        r["Properties"]
        for r in resources(cart, "AWS::Lambda::EventSourceMapping").values()
        if ref(r["Properties"]["FunctionName"]) == function
    ]
    return mapping


def test_aggregator_stream_mapping(cart: dict[str, Any]) -> None:
    mapping = _mapping(cart, AGGREGATOR)
    table = only(cart, "AWS::DynamoDB::Table")[0]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [table, "StreamArn"]}
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["BatchSize"] == 100
    assert mapping["MaximumBatchingWindowInSeconds"] == 60
    assert mapping["MaximumRetryAttempts"] == 10
    assert mapping["MaximumRecordAgeInSeconds"] == 86400
    assert mapping["DestinationConfig"] == {
        "OnFailure": {"Destination": {"Fn::GetAtt": [_queue_ids(cart)["failure"], "Arn"]}}
    }
    # Whole-batch retries (docs/DESIGN.md): no bisect, no partial batch response.
    assert mapping["BisectBatchOnFunctionError"] is False
    assert "ReportBatchItemFailures" not in mapping.get("FunctionResponseTypes", [])
    [pattern] = [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]
    assert pattern == {"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "cart#"}, {"prefix": "user#"}]}}}}


def _record(pk: str, event_name: str = "MODIFY") -> dict[str, Any]:
    return {
        "eventName": event_name,
        "dynamodb": {"Keys": {"pk": {"S": pk}, "sk": {"S": "product#p1"}}},
    }


@pytest.mark.parametrize(
    ("pk", "invokes"),
    [
        ("cart#0f8fad5b-d9cb-469f-a165-70867728950e", True),
        ("user#sub-123", True),
        ("totals", False),
        ("aggregator#abc#0", False),
        ("xcart#1", False),
    ],
)
def test_stream_filter_selects_cart_lines_only(pk: str, invokes: bool) -> None:
    """Lambda's filter syntax, evaluated by moto's EventBridge pattern engine (the same grammar)."""
    from moto.events.models import EventPattern

    pattern = EventPattern.load(json.dumps(CART_LINE_FILTER))
    assert pattern.matches_event(_record(pk)) is invokes
    assert pattern.matches_event(_record(pk, "REMOVE")) is invokes


def test_delete_worker_queue_mapping(cart: dict[str, Any]) -> None:
    mapping = _mapping(cart, WORKER)
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [_queue_ids(cart)["delete"], "Arn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 5}
    assert mapping["BatchSize"] == 10


# --- REST API ----------------------------------------------------------------------------------------

ANONYMOUS = [("GET", "/cart"), ("POST", "/cart"), ("PUT", "/cart/{product_id}")]
SIGNED_IN = [
    ("POST", "/cart/migrate"),
    ("POST", "/cart/checkout"),
    ("GET", "/cart/{product_id}/total"),
    ("GET", "/cart/totals"),
]


def test_routes_are_exactly_the_documented_ones(cart: dict[str, Any]) -> None:
    routes = {key for key in api_methods(cart) if key[0] != "OPTIONS"}
    assert routes == set(ANONYMOUS + SIGNED_IN)


@pytest.mark.parametrize("route", ANONYMOUS + SIGNED_IN, ids=lambda r: f"{r[0]} {r[1]}")
def test_every_route_proxies_to_the_cart_api_function(cart: dict[str, Any], route: tuple[str, str]) -> None:
    integration = api_methods(cart)[route]["Integration"]
    assert integration["Type"] == "AWS_PROXY"
    assert integration["IntegrationHttpMethod"] == "POST"
    api_function = function_by_handler(cart, API)[0]
    assert {"Fn::GetAtt": [api_function, "Arn"]} in integration["Uri"]["Fn::Join"][1]


@pytest.mark.parametrize("route", ANONYMOUS, ids=lambda r: f"{r[0]} {r[1]}")
def test_anonymous_routes_have_no_authorizer(cart: dict[str, Any], route: tuple[str, str]) -> None:
    method = api_methods(cart)[route]
    assert method["AuthorizationType"] == "NONE"
    assert "AuthorizerId" not in method


@pytest.mark.parametrize("route", SIGNED_IN, ids=lambda r: f"{r[0]} {r[1]}")
def test_signed_in_routes_use_the_cognito_authorizer(cart: dict[str, Any], route: tuple[str, str]) -> None:
    method = api_methods(cart)[route]
    authorizer = only(cart, "AWS::ApiGateway::Authorizer")[0]
    assert method["AuthorizationType"] == "COGNITO_USER_POOLS"
    assert method["AuthorizerId"] == {"Ref": authorizer}


def test_authorizer_trusts_the_user_pool(synth: Synthesized, cart: dict[str, Any]) -> None:
    props = only(cart, "AWS::ApiGateway::Authorizer")[1]["Properties"]
    assert props["Type"] == "COGNITO_USER_POOLS"
    assert props["IdentitySource"] == "method.request.header.Authorization"
    auth_name, auth = synth.by_suffix("-Auth")
    pool = only(auth, "AWS::Cognito::UserPool")[0]
    assert resolve_cross_stack(props["ProviderARNs"], synth) == [
        {"Producer": auth_name, "Value": {"Fn::GetAtt": [pool, "Arn"]}}
    ]


def test_request_validation(cart: dict[str, Any]) -> None:
    validator_id, validator = only(cart, "AWS::ApiGateway::RequestValidator")
    assert validator["Properties"]["ValidateRequestBody"] is True
    assert validator["Properties"]["ValidateRequestParameters"] is True
    methods = api_methods(cart)
    models = resources(cart, "AWS::ApiGateway::Model")

    def schema(route: tuple[str, str]) -> dict[str, Any]:
        method = methods[route]
        assert method["RequestValidatorId"] == {"Ref": validator_id}
        return models[ref(method["RequestModels"]["application/json"])]["Properties"]["Schema"]

    add = schema(("POST", "/cart"))
    assert add["required"] == ["productId"]  # a missing quantity adds one, as in the original
    assert add["properties"]["quantity"]["type"] == "integer"
    assert add["properties"]["productId"]["type"] == "string"
    put = schema(("PUT", "/cart/{product_id}"))
    assert put["required"] == ["quantity"]
    assert put["properties"]["quantity"]["type"] == "integer"
    for route in (("PUT", "/cart/{product_id}"), ("GET", "/cart/{product_id}/total")):
        assert methods[route]["RequestParameters"] == {"method.request.path.product_id": True}


def test_cors_preflight_on_every_resource_with_credentials(dev: Synthesized) -> None:
    methods = api_methods(dev.by_suffix("-Cart")[1])
    paths = {path for _, path in methods}
    for path in paths:
        options = methods[("OPTIONS", path)]
        assert options["AuthorizationType"] == "NONE"
        [response] = options["Integration"]["IntegrationResponses"]
        headers = response["ResponseParameters"]
        assert headers["method.response.header.Access-Control-Allow-Credentials"] == "'true'"
        assert headers["method.response.header.Access-Control-Allow-Origin"] == "'http://localhost:8080'"
        assert headers["method.response.header.Access-Control-Allow-Methods"] == "'GET,POST,PUT,OPTIONS'"
        assert "Authorization" in headers["method.response.header.Access-Control-Allow-Headers"]
        # The second origin is echoed back by the mock integration's template.
        assert "http://localhost:5173" in response["ResponseTemplates"]["application/json"]


def test_stage_logging_tracing_throttling(cart: dict[str, Any]) -> None:
    stage = only(cart, "AWS::ApiGateway::Stage")[1]["Properties"]
    assert stage["StageName"] == "prod"
    assert stage["TracingEnabled"] is True
    [settings] = stage["MethodSettings"]
    assert settings["ThrottlingRateLimit"] == 100
    assert settings["ThrottlingBurstLimit"] == 200
    assert settings["LoggingLevel"] == "ERROR"
    assert settings["DataTraceEnabled"] is False
    access = stage["AccessLogSetting"]
    [log_group] = [
        ref(part) for part in access["DestinationArn"]["Fn::Join"][1] if ref(part) in cart["Resources"]
    ]
    assert cart["Resources"][log_group]["Properties"]["RetentionInDays"] == 30
    assert access["Format"].startswith("{")
    assert access["Format"].endswith("}")
    for field in ("$context.requestId", "$context.status", "$context.resourcePath", "$context.xrayTraceId"):
        assert field in access["Format"]


def test_cart_stack_leaves_the_account_role_to_the_product_stack(template: Template) -> None:
    template.resource_count_is("AWS::ApiGateway::Account", 0)


def test_lambda_permissions_scoped_to_each_route(cart: dict[str, Any]) -> None:
    permissions = resources(cart, "AWS::Lambda::Permission")
    api_function = function_by_handler(cart, API)[0]
    assert len(permissions) == len(ANONYMOUS + SIGNED_IN)
    for permission in permissions.values():
        props = permission["Properties"]
        assert props["Principal"] == "apigateway.amazonaws.com"
        assert props["FunctionName"] == {"Fn::GetAtt": [api_function, "Arn"]}
        assert "/test-invoke-stage/" not in json.dumps(props["SourceArn"])


# --- Outputs -----------------------------------------------------------------------------------------


def test_outputs(cart: dict[str, Any]) -> None:
    outputs = cart["Outputs"]
    url = outputs["CartApiUrl"]["Value"]["Fn::Join"][1]
    assert url[0] == "https://"
    assert url[-1] == {"Ref": only(cart, "AWS::ApiGateway::Stage")[0]}  # no trailing slash
    assert ref(outputs["TableName"]["Value"]) == only(cart, "AWS::DynamoDB::Table")[0]
    queues = _queue_ids(cart)
    assert ref(outputs["DeleteQueueUrl"]["Value"]) == queues["delete"]
    assert ref(outputs["DeleteDeadLetterQueueUrl"]["Value"]) == queues["dlq"]
    assert ref(outputs["TotalsFailureQueueUrl"]["Value"]) == queues["failure"]
    assert not [name for name in outputs if name.startswith("ShoppingCartApiEndpoint")]


def test_cart_asset_holds_the_cart_code_only(synth: Synthesized, cart: dict[str, Any]) -> None:
    files = files_in(asset_dir(synth, function_by_handler(cart, API)[1]["Properties"]["Code"]))
    if "cart/api.py" not in files:
        pytest.skip("runtime/cart/api.py does not exist yet")
    assert {"cart/api.py", "cart/aggregator.py", "cart/delete_worker.py"} <= files
    assert not [f for f in files if f.startswith("products/") or "__pycache__" in f or f.endswith(".pyc")]
    assert "requirements.txt" not in files
