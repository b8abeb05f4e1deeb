"""Protection: the APIs' web ACL, the alarm topic, stage throttling, and data kept (or destroyed) on delete."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App, Stack
from infra_helpers import ALARM_EMAIL, WEB_ACL_ARN, Synthesized, only, ref, resolve_cross_stack, resources

from shopping_cart import VIEWER_IP_HEADER, ApiWebAcl
from shopping_cart.web_acl import ORIGIN_VERIFY_HEADER

API_STACKS = ("ShoppingCart-ProductMock", "ShoppingCart-Cart")


@pytest.fixture(scope="module")
def operations(synth: Synthesized) -> dict[str, Any]:
    return synth.json["ShoppingCart-Operations"]


def _rules(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    acl = only(template, "AWS::WAFv2::WebACL")[1]["Properties"]
    return {rule["Name"]: rule for rule in acl["Rules"]}


# --- Web ACL -----------------------------------------------------------------------------------------


def test_web_acl_is_regional_and_allows_by_default(operations: dict[str, Any]) -> None:
    acl = only(operations, "AWS::WAFv2::WebACL")[1]["Properties"]
    assert acl["Scope"] == "REGIONAL"
    assert acl["DefaultAction"] == {"Allow": {}}
    assert acl["VisibilityConfig"]["CloudWatchMetricsEnabled"] is True
    assert [(rule["Priority"], rule["Name"]) for rule in acl["Rules"]] == [
        (0, "RateLimitPerViewerIp"),
        (1, "RateLimitPerSourceIp"),
        (2, "RateLimitServiceCalls"),
        (10, "AWSManagedRulesCommonRuleSet"),
        (20, "AWSManagedRulesKnownBadInputsRuleSet"),
    ]
    for rule in acl["Rules"]:
        assert rule["VisibilityConfig"]["CloudWatchMetricsEnabled"] is True
        assert rule["VisibilityConfig"]["SampledRequestsEnabled"] is True


@pytest.mark.parametrize("group", ["AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"])
def test_aws_managed_rule_groups_block(operations: dict[str, Any], group: str) -> None:
    rule = _rules(operations)[group]
    assert rule["Statement"] == {"ManagedRuleGroupStatement": {"Name": group, "VendorName": "AWS"}}
    # "None" keeps each group's own actions (block); "Count" would only observe.
    assert rule["OverrideAction"] == {"None": {}}


SECRET = "the-generated-origin-secret"


def _matches(statement: dict[str, Any], request: dict[str, Any], secrets: dict[str, str]) -> bool:
    """WAF's documented semantics of the plain statements this ACL uses (no text transformation)."""
    [(kind, body)] = statement.items()
    if kind == "AndStatement":
        return all(_matches(s, request, secrets) for s in body["Statements"])
    if kind == "OrStatement":
        return any(_matches(s, request, secrets) for s in body["Statements"])
    if kind == "NotStatement":
        return not _matches(body["Statement"], request, secrets)
    field = body["FieldToMatch"]
    value = request["path"] if "UriPath" in field else request["headers"].get(field["SingleHeader"]["Name"])
    if kind == "SizeConstraintStatement":
        assert body["ComparisonOperator"] == "GT"
        return value is not None and len(value) > body["Size"]
    assert kind == "ByteMatchStatement", kind
    search = body["SearchString"]
    if isinstance(search, dict):  # {{resolve:secretsmanager:<secret>:SecretString:::}}
        search = secrets[json.dumps(search)]
    if value is None:
        return False
    return {
        "EXACTLY": value == search,
        "STARTS_WITH": value.startswith(search),
        "CONTAINS": search in value,
    }[body["PositionalConstraint"]]


def _counted_by(template: dict[str, Any], request: dict[str, Any]) -> list[tuple[str, str]]:
    """(rate rule, aggregation key) of every rate-based rule that counts the request."""
    rules = only(template, "AWS::WAFv2::WebACL")[1]["Properties"]["Rules"]
    secrets = {}
    for rule in rules:
        for value in _walk_search_strings(rule["Statement"]):
            assert "{{resolve:secretsmanager:" in json.dumps(value), "the secret is never in template text"
            secrets[json.dumps(value)] = SECRET
    counted = []
    for rule in rules:
        rate = rule["Statement"].get("RateBasedStatement")
        if rate is None:
            continue
        scope = rate.get("ScopeDownStatement")
        if scope is not None and not _matches(scope, request, secrets):
            continue
        if rate["AggregateKeyType"] == "FORWARDED_IP":
            key = request["headers"].get(rate["ForwardedIPConfig"]["HeaderName"].lower(), "fallback")
        else:
            key = request["source_ip"]
        counted.append((rule["Name"], key))
    return counted


def _walk_search_strings(statement: Any) -> list[Any]:
    found = []
    if isinstance(statement, dict):
        for key, value in statement.items():
            if key == "SearchString" and isinstance(value, dict):
                found.append(value)
            else:
                found.extend(_walk_search_strings(value))
    elif isinstance(statement, list):
        for item in statement:
            found.extend(_walk_search_strings(item))
    return found


def _request(path: str = "/prod/cart", source_ip: str = "203.0.113.9", **headers: str) -> dict[str, Any]:
    return {
        "path": path,
        "source_ip": source_ip,
        "headers": {k.lower().replace("_", "-"): v for k, v in headers.items()},
    }


VIEWER = VIEWER_IP_HEADER.lower().replace("-", "_")
VERIFY = ORIGIN_VERIFY_HEADER.lower().replace("-", "_")


def test_through_cloudfront_each_viewer_ip_is_limited(operations: dict[str, Any]) -> None:
    edge = _request(source_ip="130.176.0.1", **{VIEWER: "198.51.100.7", VERIFY: SECRET})
    assert _counted_by(operations, edge) == [("RateLimitPerViewerIp", "198.51.100.7")]


def test_a_forged_viewer_ip_without_the_secret_is_limited_per_source_ip(operations: dict[str, Any]) -> None:
    for forged in (
        {VIEWER: "198.51.100.7"},
        {VIEWER: "198.51.100.7", VERIFY: "guess"},
        {VERIFY: SECRET[:-1]},
    ):
        assert _counted_by(operations, _request(**forged)) == [("RateLimitPerSourceIp", "203.0.113.9")], (
            forged
        )


@pytest.mark.parametrize("path", ["/prod/internal/product/lamp", "/internal/product/lamp"])
def test_signed_service_calls_have_their_own_limit(operations: dict[str, Any], path: str) -> None:
    """Whether or not WAF's URI path carries the stage, the cart's signed lookups leave the shoppers' bucket."""
    signed = _request(
        path, Authorization="AWS4-HMAC-SHA256 Credential=AKIA/20260101/eu-west-1/execute-api/aws4_request"
    )
    assert _counted_by(operations, signed) == [("RateLimitServiceCalls", "203.0.113.9")]
    assert _counted_by(operations, _request(path)) == [("RateLimitPerSourceIp", "203.0.113.9")]
    rules = _rules(operations)
    limits = {
        name: rules[name]["Statement"]["RateBasedStatement"]["Limit"]
        for name in rules
        if name.startswith("Rate")
    }
    assert limits == {
        "RateLimitPerViewerIp": 2000,
        "RateLimitPerSourceIp": 2000,
        "RateLimitServiceCalls": 20000,
    }


def test_rate_rules_block_and_share_the_window(operations: dict[str, Any]) -> None:
    for name, rule in _rules(operations).items():
        if name.startswith("RateLimit"):
            assert rule["Action"] == {"Block": {}}
            assert rule["Statement"]["RateBasedStatement"]["EvaluationWindowSec"] == 300
    viewer = _rules(operations)["RateLimitPerViewerIp"]["Statement"]["RateBasedStatement"]
    assert viewer["ForwardedIPConfig"] == {"HeaderName": VIEWER_IP_HEADER, "FallbackBehavior": "MATCH"}


def test_waf_logs_blocked_requests_without_credentials(operations: dict[str, Any]) -> None:
    acl_id = only(operations, "AWS::WAFv2::WebACL")[0]
    group_id, group = only(operations, "AWS::Logs::LogGroup")
    assert group["Properties"]["LogGroupName"]["Fn::Join"][1][0].startswith("aws-waf-logs-")
    assert group["Properties"]["RetentionInDays"] == 30
    assert group["DeletionPolicy"] == "Retain"
    logging = only(operations, "AWS::WAFv2::LoggingConfiguration")[1]["Properties"]
    assert logging["ResourceArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    [destination] = logging["LogDestinationConfigs"]
    assert destination["Fn::Join"][1][-2:] == [":log-group:", {"Ref": group_id}]
    assert logging["RedactedFields"] == [
        {"SingleHeader": {"Name": "authorization"}},
        {"SingleHeader": {"Name": "cookie"}},
        {"SingleHeader": {"Name": "x-origin-verify"}},
    ]
    assert logging["LoggingFilter"] == {
        "DefaultBehavior": "DROP",
        "Filters": [
            {
                "Behavior": "KEEP",
                "Requirement": "MEETS_ANY",
                "Conditions": [
                    {"ActionCondition": {"Action": "BLOCK"}},
                    {"ActionCondition": {"Action": "COUNT"}},
                ],
            }
        ],
    }


@pytest.mark.parametrize("stack", API_STACKS)
def test_both_api_stages_are_associated_with_the_web_acl(synth: Synthesized, stack: str) -> None:
    template = synth.json[stack]
    association = only(template, "AWS::WAFv2::WebACLAssociation")[1]["Properties"]
    stage = only(template, "AWS::ApiGateway::Stage")[0]
    api = only(template, "AWS::ApiGateway::RestApi")[0]
    assert association["ResourceArn"]["Fn::Join"][1][-4:] == [
        "::/restapis/",
        {"Ref": api},
        "/stages/",
        {"Ref": stage},
    ]
    acl = only(synth.json["ShoppingCart-Operations"], "AWS::WAFv2::WebACL")[0]
    assert resolve_cross_stack(association["WebACLArn"], synth) == {
        "Producer": "ShoppingCart-Operations",
        "Value": {"Fn::GetAtt": [acl, "Arn"]},
    }


@pytest.mark.parametrize("stack", API_STACKS)
def test_stage_throttling_access_logs_and_tracing(synth: Synthesized, stack: str) -> None:
    template = synth.json[stack]
    stage = only(template, "AWS::ApiGateway::Stage")[1]["Properties"]
    assert stage["TracingEnabled"] is True
    [settings] = stage["MethodSettings"]
    assert (settings["ThrottlingRateLimit"], settings["ThrottlingBurstLimit"]) == (100, 200)
    access_logs = stage["AccessLogSetting"]
    assert json.loads(access_logs["Format"].replace("$context.error.messageString", '"x"'))["status"]
    log_group = ref(access_logs["DestinationArn"]["Fn::Join"][1][-1])
    assert template["Resources"][log_group]["Properties"]["RetentionInDays"] == 30


def test_web_acl_can_be_turned_off(overridden: Synthesized) -> None:
    assert not resources(overridden.json["Test-Operations"], "AWS::WAFv2::WebACL")
    for stack in ("Test-ProductMock", "Test-Cart"):
        assert not resources(overridden.json[stack], "AWS::WAFv2::WebACLAssociation")


def test_web_acl_props(custom: Synthesized) -> None:
    embedded = custom.json["Embedded"]
    acl = only(embedded, "AWS::WAFv2::WebACL")[1]["Properties"]
    assert acl["Name"] == "shop-apis"
    for name, limit in (
        ("RateLimitPerViewerIp", 500),
        ("RateLimitPerSourceIp", 500),
        ("RateLimitServiceCalls", 5000),
    ):
        statement = _rules(embedded)[name]["Statement"]["RateBasedStatement"]
        assert (statement["Limit"], statement["EvaluationWindowSec"]) == (limit, 60)
    [group] = [
        g for g in resources(embedded, "AWS::Logs::LogGroup").values() if "LogGroupName" in g["Properties"]
    ]
    assert group["Properties"]["LogGroupName"]["Fn::Join"][1][0] == "aws-waf-logs-shop-apis-"
    associations = {
        str(a["Properties"]["WebACLArn"])
        for a in resources(embedded, "AWS::WAFv2::WebACLAssociation").values()
    }
    acl_id = only(embedded, "AWS::WAFv2::WebACL")[0]
    assert associations == {WEB_ACL_ARN, str({"Fn::GetAtt": [acl_id, "Arn"]})}


@pytest.mark.parametrize(
    ("props", "message"),
    [({"rate_limit": 5}, "rate_limit"), ({"rate_limit_window": 30}, "rate_limit_window")],
)
def test_invalid_web_acl_props(props: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ApiWebAcl(Stack(App(), "S"), "Acl", **props)


# --- Alarm topic -------------------------------------------------------------------------------------


def test_alarm_topic_enforces_ssl(operations: dict[str, Any]) -> None:
    topic = only(operations, "AWS::SNS::Topic")[0]
    policy = only(operations, "AWS::SNS::TopicPolicy")[1]["Properties"]
    assert policy["Topics"] == [{"Ref": topic}]
    [statement] = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert statement["Action"] == "sns:Publish"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert not resources(operations, "AWS::SNS::Subscription")


def test_alarm_email_subscribes(overridden: Synthesized) -> None:
    template = overridden.json["Test-Operations"]
    topic = only(template, "AWS::SNS::Topic")[0]
    subscription = only(template, "AWS::SNS::Subscription")[1]["Properties"]
    assert subscription == {"Protocol": "email", "Endpoint": ALARM_EMAIL, "TopicArn": {"Ref": topic}}


def test_operations_stack_is_deployed_before_the_apis(synth: Synthesized) -> None:
    for stack in API_STACKS:
        assert "ShoppingCart-Operations" in {s.node.id for s in synth.stacks[stack].dependencies}


# --- Data protection -----------------------------------------------------------------------------------


def test_table_and_user_pool_are_retained_with_deletion_protection(synth: Synthesized) -> None:
    table = only(synth.json["ShoppingCart-Cart"], "AWS::DynamoDB::Table")[1]
    assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert table["Properties"]["DeletionProtectionEnabled"] is True
    pool = only(synth.json["ShoppingCart-Auth"], "AWS::Cognito::UserPool")[1]
    assert pool["DeletionPolicy"] == "Retain"
    assert pool["Properties"]["DeletionProtection"] == "ACTIVE"


def test_destroy_removes_everything(overridden: Synthesized) -> None:
    table = only(overridden.json["Test-Cart"], "AWS::DynamoDB::Table")[1]
    assert table["DeletionPolicy"] == "Delete"
    assert table["Properties"]["DeletionProtectionEnabled"] is False
    pool = only(overridden.json["Test-Auth"], "AWS::Cognito::UserPool")[1]
    assert pool["DeletionPolicy"] == "Delete"
    assert pool["Properties"]["DeletionProtection"] == "INACTIVE"
    retained = {
        (stack, resource["Type"])
        for stack, template in overridden.json.items()
        for resource in template["Resources"].values()
        if resource.get("DeletionPolicy") == "Retain"
    }
    # API Gateway's account-level CloudWatch role is shared by every API of the account and region:
    # CDK keeps it (and its account setting) whatever the removal policy of the stack.
    assert retained == {
        ("Test-ProductMock", "AWS::IAM::Role"),
        ("Test-ProductMock", "AWS::ApiGateway::Account"),
    }


def test_deletion_protection_prop_wins_over_destroy(custom: Synthesized) -> None:
    table = only(custom.json["Embedded"], "AWS::DynamoDB::Table")[1]
    assert table["DeletionPolicy"] == "Delete"
    assert table["Properties"]["DeletionProtectionEnabled"] is True
    pool = only(custom.json["Embedded"], "AWS::Cognito::UserPool")[1]
    assert pool["Properties"]["DeletionProtection"] == "INACTIVE"
