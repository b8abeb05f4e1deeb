"""The local WAF's rule semantics, on small web ACLs written for each rule of AWS WAF's documentation
(developer guide: rule evaluation order, rule actions, action overrides in rule groups, labels,
rate-based rules, forwarded IP addresses, oversize request components, custom responses)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from local.waf import WafRequest, WebAcl
from local.waf_fields import DEFAULT_BODY_LIMIT

ARN = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/test/00000000-0000-0000-0000-000000000000"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64)"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def web_acl(
    *rules: dict[str, Any], clock: Clock | None = None, resolve: Any = None, **properties: Any
) -> WebAcl:
    definition = {"Name": "test", "DefaultAction": {"Allow": {}}, "Rules": list(rules), **properties}
    return WebAcl(
        definition, arn=ARN, clock=clock or Clock(), resolve_reference=resolve or (lambda _arn: None)
    )


def request(
    *,
    method: str = "GET",
    path: str = "/prod/product",
    query: str = "",
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    ip: str = "203.0.113.7",
) -> WafRequest:
    if headers is None:
        headers = [("Host", "abc.execute-api.us-east-1.amazonaws.com"), ("User-Agent", BROWSER)]
    return WafRequest(method, path, query, headers, body, ip)


def with_headers(*extra: tuple[str, str]) -> list[tuple[str, str]]:
    return [("Host", "abc.execute-api.us-east-1.amazonaws.com"), ("User-Agent", BROWSER), *extra]


def header_match(
    name: str, value: str, constraint: str = "EXACTLY", transforms: tuple[str, ...] = ("NONE",)
) -> dict:
    return {
        "ByteMatchStatement": {
            "FieldToMatch": {"SingleHeader": {"Name": name}},
            "PositionalConstraint": constraint,
            "SearchString": value,
            "TextTransformations": [{"Priority": i, "Type": t} for i, t in enumerate(transforms)],
        }
    }


def rule(name: str, priority: int, statement: dict, action: str = "Block", **extra: Any) -> dict:
    return {"Name": name, "Priority": priority, "Action": {action: {}}, "Statement": statement, **extra}


def managed(name: str, priority: int, *, override: str = "None", **statement: Any) -> dict:
    return {
        "Name": name,
        "Priority": priority,
        "OverrideAction": {override: {}},
        "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": name, **statement}},
    }


def rate(limit: int, window: int = 60, **statement: Any) -> dict:
    return {"RateBasedStatement": {"Limit": limit, "EvaluationWindowSec": window, **statement}}


# --- evaluation order and actions ---------------------------------------------------------------------


def test_rules_run_in_priority_order_not_in_list_order() -> None:
    acl = web_acl(
        rule("BlockLater", 5, header_match("x-test", "yes")),
        rule("AllowFirst", 1, header_match("x-test", "yes"), action="Allow"),
    )
    verdict = acl.evaluate(request(headers=with_headers(("X-Test", "yes"))))
    assert (verdict.action, verdict.rule) == ("ALLOW", "AllowFirst")


def test_count_does_not_terminate_and_its_label_is_seen_by_later_rules() -> None:
    acl = web_acl(
        rule("Tag", 0, header_match("x-test", "yes"), action="Count", RuleLabels=[{"Name": "suspect"}]),
        rule("BlockTagged", 1, {"LabelMatchStatement": {"Scope": "LABEL", "Key": "suspect"}}),
    )
    verdict = acl.evaluate(request(headers=with_headers(("X-Test", "yes"))))
    assert (verdict.action, verdict.rule) == ("BLOCK", "BlockTagged")
    assert "awswaf:123456789012:webacl:test:suspect" in verdict.labels
    assert acl.status()["decisions"]["count"] == {"Tag": 1}
    assert acl.evaluate(request()).allowed


def test_default_action_block_with_a_custom_response() -> None:
    acl = web_acl(
        rule("AllowKnown", 0, header_match("x-api-key", "k"), action="Allow"),
        DefaultAction={
            "Block": {
                "CustomResponse": {
                    "ResponseCode": 429,
                    "CustomResponseBodyKey": "slow",
                    "ResponseHeaders": [{"Name": "reason", "Value": "default"}],
                }
            }
        },
        CustomResponseBodies={
            "slow": {"ContentType": "APPLICATION_JSON", "Content": '{"message":"slow down"}'}
        },
    )
    assert acl.evaluate(request(headers=with_headers(("X-Api-Key", "k")))).allowed
    verdict = acl.evaluate(request())
    assert verdict.rule is None
    status, headers, body = verdict.response
    assert status == 429
    assert ("x-amzn-waf-reason", "default") in headers
    assert body == b'{"message":"slow down"}'


@pytest.mark.parametrize(("action", "status"), [("Captcha", 405), ("Challenge", 202)])
def test_captcha_and_challenge_stop_a_client_without_a_token(action: str, status: int) -> None:
    acl = web_acl(rule("Puzzle", 0, header_match("x-test", "yes"), action=action))
    verdict = acl.evaluate(request(headers=with_headers(("X-Test", "yes"))))
    assert not verdict.allowed
    assert verdict.response[0] == status
    assert ("x-amzn-waf-action", action.lower()) in verdict.response[1]


def test_allow_and_count_insert_request_headers() -> None:
    handling = {"CustomRequestHandling": {"InsertHeaders": [{"Name": "seen", "Value": "1"}]}}
    acl = web_acl(
        {
            "Name": "Mark",
            "Priority": 0,
            "Action": {"Count": handling},
            "Statement": header_match("x-test", "yes"),
        }
    )
    verdict = acl.evaluate(request(headers=with_headers(("X-Test", "yes"))))
    assert verdict.allowed
    assert verdict.inserted_headers == (("x-amzn-waf-seen", "1"),)


# --- managed rule groups and overrides ----------------------------------------------------------------


def test_a_managed_rule_blocks_with_its_documented_label() -> None:
    acl = web_acl(managed("AWSManagedRulesCommonRuleSet", 0))
    verdict = acl.evaluate(request(headers=[("Host", "abc.execute-api.us-east-1.amazonaws.com")]))
    assert (verdict.action, verdict.rule) == ("BLOCK", "AWSManagedRulesCommonRuleSet/NoUserAgent_HEADER")
    assert verdict.labels == ("awswaf:managed:aws:core-rule-set:NoUserAgent_Header",)


def test_override_action_count_turns_the_groups_block_into_a_count() -> None:
    acl = web_acl(managed("AWSManagedRulesCommonRuleSet", 0, override="Count"))
    verdict = acl.evaluate(request(headers=[("Host", "abc.execute-api.us-east-1.amazonaws.com")]))
    assert verdict.allowed
    assert acl.status()["decisions"]["count"] == {"AWSManagedRulesCommonRuleSet/NoUserAgent_HEADER": 1}


@pytest.mark.parametrize(
    "statement",
    [
        {"RuleActionOverrides": [{"Name": "NoUserAgent_HEADER", "ActionToUse": {"Count": {}}}]},
        {"ExcludedRules": [{"Name": "NoUserAgent_HEADER"}]},
    ],
    ids=["RuleActionOverrides", "ExcludedRules"],
)
def test_a_rule_overridden_to_count_lets_the_request_on_to_the_next_rules(statement: dict) -> None:
    acl = web_acl(
        managed("AWSManagedRulesCommonRuleSet", 0, **statement),
        rule(
            "BlockWithoutAgent",
            1,
            {"LabelMatchStatement": {"Scope": "NAMESPACE", "Key": "awswaf:managed:aws:core-rule-set:"}},
        ),
    )
    verdict = acl.evaluate(request(headers=[("Host", "abc.execute-api.us-east-1.amazonaws.com")]))
    # The group let it through, and its label still told the next rule.
    assert (verdict.action, verdict.rule) == ("BLOCK", "BlockWithoutAgent")


def test_a_managed_groups_scope_down_statement_limits_what_it_inspects() -> None:
    scope = {"NotStatement": {"Statement": header_match("x-internal", "1")}}
    acl = web_acl(managed("AWSManagedRulesCommonRuleSet", 0, ScopeDownStatement=scope))
    headers = [("Host", "abc.execute-api.us-east-1.amazonaws.com")]
    assert not acl.evaluate(request(headers=headers)).allowed
    assert acl.evaluate(request(headers=[*headers, ("X-Internal", "1")])).allowed


def test_an_unknown_managed_group_or_statement_is_reported_and_never_matches() -> None:
    acl = web_acl(
        managed("AWSManagedRulesBotControlRuleSet", 0),
        rule("Geo", 1, {"GeoMatchStatement": {"CountryCodes": ["US"]}}),
    )
    assert acl.evaluate(request()).allowed
    not_emulated = acl.status()["notEmulated"]
    assert any(n.startswith("AWSManagedRulesBotControlRuleSet:") for n in not_emulated)
    assert any(n.startswith("Geo:") for n in not_emulated)


def test_a_referenced_rule_group_and_ip_set() -> None:
    references = {
        "arn:group": {
            "Name": "shop",
            "Rules": [rule("Deny", 0, {"IPSetReferenceStatement": {"Arn": "arn:ips"}})],
        },
        "arn:ips": {"Addresses": ["198.51.100.0/24"], "IPAddressVersion": "IPV4"},
    }
    acl = web_acl(
        {
            "Name": "Shop",
            "Priority": 0,
            "OverrideAction": {"None": {}},
            "Statement": {"RuleGroupReferenceStatement": {"Arn": "arn:group"}},
        },
        resolve=references.get,
    )
    assert acl.evaluate(request(ip="203.0.113.7")).allowed
    verdict = acl.evaluate(request(ip="198.51.100.20"))
    assert (verdict.action, verdict.rule) == ("BLOCK", "Shop/Deny")
    assert verdict.labels == ()


# --- statements, components and transformations -------------------------------------------------------


@pytest.mark.parametrize(
    ("constraint", "value", "matches"),
    [
        ("EXACTLY", "abc", True),
        ("EXACTLY", "abcd", False),
        ("STARTS_WITH", "abcd", True),
        ("ENDS_WITH", "xabc", True),
        ("CONTAINS", "xabcx", True),
        ("CONTAINS_WORD", "x abc;y", True),
        ("CONTAINS_WORD", "xabcx", False),
    ],
)
def test_byte_match_positional_constraints(constraint: str, value: str, matches: bool) -> None:
    acl = web_acl(rule("R", 0, header_match("x-test", "abc", constraint)))
    assert acl.evaluate(request(headers=with_headers(("X-Test", value)))).allowed is not matches


def test_text_transformations_apply_in_priority_order() -> None:
    # URL_DECODE then LOWERCASE: %41 becomes "A", then "a".
    statement = header_match("x-test", "jndi", "CONTAINS", ("URL_DECODE", "LOWERCASE"))
    acl = web_acl(rule("R", 0, statement))
    assert not acl.evaluate(request(headers=with_headers(("X-Test", "%4ANDI")))).allowed
    assert acl.evaluate(request(headers=with_headers(("X-Test", "J-N-D-I")))).allowed


def test_search_string_base64() -> None:
    statement = header_match("x-test", "", "EXACTLY")
    statement["ByteMatchStatement"].pop("SearchString")
    statement["ByteMatchStatement"]["SearchStringBase64"] = base64.b64encode(b"secret").decode()
    acl = web_acl(rule("R", 0, statement))
    assert not acl.evaluate(request(headers=with_headers(("X-Test", "secret")))).allowed


def test_a_dynamic_reference_never_matches_locally_even_when_sent_literally() -> None:
    secret = "{{resolve:secretsmanager:arn:aws:secretsmanager:us-east-1:1:secret:s:SecretString:::}}"
    trusted = header_match("x-origin-verify", secret)
    acl = web_acl(
        rule("AllowCloudFront", 0, trusted, action="Allow"),
        rule("BlockTheRest", 1, {"NotStatement": {"Statement": trusted}}),
    )
    verdict = acl.evaluate(request(headers=with_headers(("X-Origin-Verify", secret))))
    assert (verdict.action, verdict.rule) == ("BLOCK", "BlockTheRest")
    assert any("never matches" in note for note in acl.status()["notes"])


def test_body_beyond_the_inspection_limit_takes_the_oversize_handling() -> None:
    size = {
        "SizeConstraintStatement": {
            "FieldToMatch": {"Body": {"OversizeHandling": "MATCH"}},
            "ComparisonOperator": "GT",
            "Size": 10**9,
            "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
        }
    }
    acl = web_acl(rule("TooBigToInspect", 0, size))
    assert acl.evaluate(request(method="POST", body=b"x" * DEFAULT_BODY_LIMIT)).allowed
    assert not acl.evaluate(request(method="POST", body=b"x" * (DEFAULT_BODY_LIMIT + 1))).allowed
    # The web ACL's AssociationConfig raises API Gateway's limit.
    raised = web_acl(
        rule("TooBigToInspect", 0, size),
        AssociationConfig={"RequestBody": {"API_GATEWAY": {"DefaultSizeInspectionLimit": "KB_32"}}},
    )
    assert raised.evaluate(request(method="POST", body=b"x" * (DEFAULT_BODY_LIMIT + 1))).allowed


def test_json_body_keys_and_values() -> None:
    statement = {
        "ByteMatchStatement": {
            "FieldToMatch": {
                "JsonBody": {"MatchPattern": {"IncludedPaths": ["/note"]}, "MatchScope": "VALUE"}
            },
            "PositionalConstraint": "CONTAINS",
            "SearchString": "evil",
            "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
        }
    }
    acl = web_acl(rule("R", 0, statement))
    assert not acl.evaluate(request(method="POST", body=b'{"note": {"text": "so evil"}}')).allowed
    assert acl.evaluate(request(method="POST", body=b'{"other": "evil", "note": "fine"}')).allowed


# --- rate-based rules ---------------------------------------------------------------------------------


def test_rate_based_rule_blocks_past_the_limit_per_ip_until_the_window_passes() -> None:
    clock = Clock()
    acl = web_acl(rule("PerIp", 0, rate(10, window=60)), clock=clock)
    assert all(acl.evaluate(request()).allowed for _ in range(10))
    assert acl.evaluate(request()).rule == "PerIp"
    assert acl.evaluate(request(ip="198.51.100.1")).allowed  # another key
    clock.now += 59
    assert not acl.evaluate(request()).allowed  # still inside the window
    clock.now += 61
    assert acl.evaluate(request()).allowed
    acl.advance_time(120)  # what POST /_local/advance-time does
    assert acl.status()["rateBasedRules"]["PerIp"]["requestsByKey"] == {}


def test_rate_based_rule_counts_only_what_its_scope_down_statement_matches() -> None:
    acl = web_acl(rule("Logins", 0, rate(10, ScopeDownStatement=header_match("x-login", "1"))))
    for _ in range(20):
        assert acl.evaluate(request()).allowed
    assert all(acl.evaluate(request(headers=with_headers(("X-Login", "1")))).allowed for _ in range(10))
    assert not acl.evaluate(request(headers=with_headers(("X-Login", "1")))).allowed
    assert acl.evaluate(request()).allowed  # out of scope: never limited


def test_forwarded_ip_rule_skips_requests_without_the_header_and_falls_back_on_bad_values() -> None:
    config = {"HeaderName": "X-Viewer-Ip", "FallbackBehavior": "MATCH"}
    acl = web_acl(rule("PerViewer", 0, rate(10, AggregateKeyType="FORWARDED_IP", ForwardedIPConfig=config)))
    for _ in range(30):
        assert acl.evaluate(request()).allowed  # no header: the rule does not apply
    assert not acl.evaluate(request(headers=with_headers(("X-Viewer-Ip", "not-an-ip")))).allowed
    # The first address of the header is the key.
    for index in range(10):
        viewer = request(headers=with_headers(("X-Viewer-Ip", f"198.51.100.9, 10.0.0.{index}")))
        assert acl.evaluate(viewer).allowed
    assert not acl.evaluate(request(headers=with_headers(("X-Viewer-Ip", "198.51.100.9")))).allowed
    assert acl.evaluate(request(headers=with_headers(("X-Viewer-Ip", "198.51.100.10")))).allowed


def test_custom_keys_aggregate_on_each_combination_and_skip_requests_missing_one() -> None:
    keys = [
        {"Header": {"Name": "x-tenant", "TextTransformations": [{"Priority": 0, "Type": "LOWERCASE"}]}},
        {"IP": {}},
    ]
    acl = web_acl(rule("PerTenant", 0, rate(10, AggregateKeyType="CUSTOM_KEYS", CustomKeys=keys)))
    for index in range(10):
        tenant = "A" if index % 2 else "a"  # one key after the transformation
        assert acl.evaluate(request(headers=with_headers(("X-Tenant", tenant)))).allowed
    assert not acl.evaluate(request(headers=with_headers(("X-Tenant", "a")))).allowed
    assert acl.evaluate(request(headers=with_headers(("X-Tenant", "b")))).allowed
    assert all(acl.evaluate(request()).allowed for _ in range(20))  # no tenant header: not counted
