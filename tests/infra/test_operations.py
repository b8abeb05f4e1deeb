"""Protection: the APIs' web ACL, the alarm topic, stage throttling, and data kept (or destroyed) on delete."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App, Stack
from infra_helpers import ALARM_EMAIL, WEB_ACL_ARN, Synthesized, only, ref, resources

from shopping_cart import VIEWER_IP_HEADER, ApiWebAcl

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


def test_rate_limit_per_viewer_ip_behind_cloudfront(operations: dict[str, Any]) -> None:
    rule = _rules(operations)["RateLimitPerViewerIp"]
    assert rule["Action"] == {"Block": {}}
    assert rule["Statement"]["RateBasedStatement"] == {
        "AggregateKeyType": "FORWARDED_IP",
        "ForwardedIPConfig": {"HeaderName": VIEWER_IP_HEADER, "FallbackBehavior": "MATCH"},
        "EvaluationWindowSec": 300,
        "Limit": 2000,
    }


def test_rate_limit_per_source_ip_for_direct_callers(operations: dict[str, Any]) -> None:
    rule = _rules(operations)["RateLimitPerSourceIp"]
    assert rule["Action"] == {"Block": {}}
    statement = rule["Statement"]["RateBasedStatement"]
    assert (statement["AggregateKeyType"], statement["Limit"], statement["EvaluationWindowSec"]) == (
        "IP",
        2000,
        300,
    )
    header_present = statement["ScopeDownStatement"]["NotStatement"]["Statement"]["SizeConstraintStatement"]
    assert header_present["FieldToMatch"] == {"SingleHeader": {"Name": VIEWER_IP_HEADER.lower()}}
    assert (header_present["ComparisonOperator"], header_present["Size"]) == ("GT", 0)


def test_waf_logs_blocked_requests_without_credentials(operations: dict[str, Any]) -> None:
    acl_id = only(operations, "AWS::WAFv2::WebACL")[0]
    group_id, group = only(operations, "AWS::Logs::LogGroup")
    assert group["Properties"]["LogGroupName"].startswith("aws-waf-logs-")
    assert group["Properties"]["RetentionInDays"] == 30
    assert group["DeletionPolicy"] == "Retain"
    logging = only(operations, "AWS::WAFv2::LoggingConfiguration")[1]["Properties"]
    assert logging["ResourceArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    [destination] = logging["LogDestinationConfigs"]
    assert destination["Fn::Join"][1][-2:] == [":log-group:", {"Ref": group_id}]
    assert logging["RedactedFields"] == [
        {"SingleHeader": {"Name": "authorization"}},
        {"SingleHeader": {"Name": "cookie"}},
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
    output = association["WebACLArn"]["Fn::GetStackOutput"]
    assert output["StackName"] == "ShoppingCart-Operations"
    acl = only(synth.json["ShoppingCart-Operations"], "AWS::WAFv2::WebACL")[0]
    assert synth.json["ShoppingCart-Operations"]["Outputs"][output["OutputName"]]["Value"] == {
        "Fn::GetAtt": [acl, "Arn"]
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
    for name in ("RateLimitPerViewerIp", "RateLimitPerSourceIp"):
        statement = _rules(embedded)[name]["Statement"]["RateBasedStatement"]
        assert (statement["Limit"], statement["EvaluationWindowSec"]) == (500, 60)
    [group] = [
        g for g in resources(embedded, "AWS::Logs::LogGroup").values() if "LogGroupName" in g["Properties"]
    ]
    assert group["Properties"]["LogGroupName"] == "aws-waf-logs-shop-apis"
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
    [statement] = policy["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny"
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
