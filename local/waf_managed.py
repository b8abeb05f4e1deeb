"""The AWS managed rule groups the local WAF reproduces, written as ordinary WAF rule statements.

Only what AWS documents is here (developer guide, "Baseline rule groups": the Core rule set and Known
bad inputs tables). A rule whose documented behaviour is a threshold or a fixed token is reproduced
exactly (NoUserAgent_HEADER, SizeRestrictions_*, PROPFIND_METHOD); a rule documented by "example
patterns include ..." matches those documented examples only, so locally it blocks less than on AWS.
Rules AWS describes without a pattern (EC2MetaDataSSRF_*) or that use WAF's XSS engine
(CrossSiteScripting_*) are not reproduced: they are listed in NOT_EMULATED and never match locally.
AWS keeps the full patterns private and may change them with new versions of a group.

Every rule's action is Block (as documented); labels are the documented ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_DECODE_LOWER = [
    {"Priority": 0, "Type": "URL_DECODE_UNI"},
    {"Priority": 1, "Type": "LOWERCASE"},
]
_NONE = [{"Priority": 0, "Type": "NONE"}]
_HEADERS = {"Headers": {"MatchPattern": {"All": {}}, "MatchScope": "ALL", "OversizeHandling": "CONTINUE"}}
_BODY = {"Body": {"OversizeHandling": "CONTINUE"}}


def _size_over(field: dict[str, Any], size: int) -> dict[str, Any]:
    return {
        "SizeConstraintStatement": {
            "FieldToMatch": field,
            "ComparisonOperator": "GT",
            "Size": size,
            "TextTransformations": _NONE,
        }
    }


def _contains(field: dict[str, Any], text: str) -> dict[str, Any]:
    return {
        "ByteMatchStatement": {
            "FieldToMatch": field,
            "PositionalConstraint": "CONTAINS",
            "SearchString": text,
            "TextTransformations": _DECODE_LOWER,
        }
    }


def _regex(field: dict[str, Any], pattern: str) -> dict[str, Any]:
    return {
        "RegexMatchStatement": {
            "FieldToMatch": field,
            "RegexString": pattern,
            "TextTransformations": _DECODE_LOWER,
        }
    }


def _rule(name: str, label: str, statement: dict[str, Any]) -> dict[str, Any]:
    return {"Name": name, "Label": label, "Action": {"Block": {}}, "Statement": statement}


@dataclass(frozen=True)
class ManagedRuleGroup:
    namespace: str  # labels are awswaf:managed:aws:<namespace>:<label>
    rules: tuple[dict[str, Any], ...]
    not_emulated: tuple[str, ...]


# Log4j lookups: the documented example is ${jndi:ldap://example.com/}.
_LOG4J = "${jndi:"
# Java deserialization: the documented example is (java.lang.Runtime).getRuntime().exec("whoami").
_JAVA_RUNTIME = "java.lang.runtime"
# Remote file inclusion: a URL with an IPv4 host (http, https, ftp, ftps, file), as documented.
_RFI = r"(?:https?|ftps?|file)://\d{1,3}(?:\.\d{1,3}){3}"
# Restricted extensions: the documented examples .log and .ini, at the end of a path or value.
_EXTENSIONS = r"\.(?:log|ini)(?:$|[?#;/])"

COMMON_RULE_SET = ManagedRuleGroup(
    namespace="core-rule-set",
    rules=(
        _rule(
            "NoUserAgent_HEADER",
            "NoUserAgent_Header",
            # "Missing" as WAF's own example for a missing header has it: absent, or present but empty.
            {"NotStatement": {"Statement": _size_over({"SingleHeader": {"Name": "user-agent"}}, 0)}},
        ),
        _rule(
            "UserAgent_BadBots_HEADER",
            "BadBots_Header",
            {
                "OrStatement": {
                    "Statements": [
                        _contains({"SingleHeader": {"Name": "user-agent"}}, bot) for bot in ("nessus", "nmap")
                    ]
                }
            },
        ),
        _rule(
            "SizeRestrictions_QUERYSTRING",
            "SizeRestrictions_QueryString",
            _size_over({"QueryString": {}}, 2048),
        ),
        _rule(
            "SizeRestrictions_Cookie_HEADER",
            "SizeRestrictions_Cookie_Header",
            _size_over({"SingleHeader": {"Name": "cookie"}}, 10240),
        ),
        _rule("SizeRestrictions_BODY", "SizeRestrictions_Body", _size_over(_BODY, 8192)),
        _rule("SizeRestrictions_URIPATH", "SizeRestrictions_URIPath", _size_over({"UriPath": {}}, 1024)),
        _rule(
            "GenericLFI_QUERYARGUMENTS",
            "GenericLFI_QueryArguments",
            _contains({"AllQueryArguments": {}}, "../../"),
        ),
        _rule("GenericLFI_URIPATH", "GenericLFI_URIPath", _contains({"UriPath": {}}, "../../")),
        _rule("GenericLFI_BODY", "GenericLFI_Body", _contains(_BODY, "../../")),
        _rule(
            "RestrictedExtensions_URIPATH",
            "RestrictedExtensions_URIPath",
            _regex({"UriPath": {}}, _EXTENSIONS),
        ),
        _rule(
            "RestrictedExtensions_QUERYARGUMENTS",
            "RestrictedExtensions_QueryArguments",
            _regex({"AllQueryArguments": {}}, _EXTENSIONS),
        ),
        _rule(
            "GenericRFI_QUERYARGUMENTS", "GenericRFI_QueryArguments", _regex({"AllQueryArguments": {}}, _RFI)
        ),
        _rule("GenericRFI_BODY", "GenericRFI_Body", _regex(_BODY, _RFI)),
        _rule("GenericRFI_URIPATH", "GenericRFI_URIPath", _regex({"UriPath": {}}, _RFI)),
    ),
    not_emulated=(
        "EC2MetaDataSSRF_BODY",
        "EC2MetaDataSSRF_COOKIE",
        "EC2MetaDataSSRF_URIPATH",
        "EC2MetaDataSSRF_QUERYARGUMENTS",
        "CrossSiteScripting_COOKIE",
        "CrossSiteScripting_QUERYARGUMENTS",
        "CrossSiteScripting_BODY",
        "CrossSiteScripting_URIPATH",
    ),
)

KNOWN_BAD_INPUTS = ManagedRuleGroup(
    namespace="known-bad-inputs",
    rules=(
        _rule(
            "JavaDeserializationRCE_HEADER",
            "JavaDeserializationRCE_Header",
            _contains(_HEADERS, _JAVA_RUNTIME),
        ),
        _rule("JavaDeserializationRCE_BODY", "JavaDeserializationRCE_Body", _contains(_BODY, _JAVA_RUNTIME)),
        _rule(
            "JavaDeserializationRCE_URIPATH",
            "JavaDeserializationRCE_URIPath",
            _contains({"UriPath": {}}, _JAVA_RUNTIME),
        ),
        _rule(
            "JavaDeserializationRCE_QUERYSTRING",
            "JavaDeserializationRCE_QueryString",
            _contains({"QueryString": {}}, _JAVA_RUNTIME),
        ),
        _rule(
            "Host_localhost_HEADER",
            "Host_Localhost_Header",
            _regex({"SingleHeader": {"Name": "host"}}, r"^localhost(?::\d+)?$"),
        ),
        _rule(
            "PROPFIND_METHOD",
            "Propfind_Method",
            {
                "ByteMatchStatement": {
                    "FieldToMatch": {"Method": {}},
                    "PositionalConstraint": "EXACTLY",
                    "SearchString": "PROPFIND",
                    "TextTransformations": _NONE,
                }
            },
        ),
        _rule("ExploitablePaths_URIPATH", "ExploitablePaths_URIPath", _contains({"UriPath": {}}, "web-inf")),
        _rule("Log4JRCE_HEADER", "Log4JRCE_Header", _contains(_HEADERS, _LOG4J)),
        _rule("Log4JRCE_QUERYSTRING", "Log4JRCE_QueryString", _contains({"QueryString": {}}, _LOG4J)),
        _rule("Log4JRCE_BODY", "Log4JRCE_Body", _contains(_BODY, _LOG4J)),
        _rule("Log4JRCE_URIPATH", "Log4JRCE_URIPath", _contains({"UriPath": {}}, _LOG4J)),
    ),
    not_emulated=(),
)

MANAGED_RULE_GROUPS = {
    ("AWS", "AWSManagedRulesCommonRuleSet"): COMMON_RULE_SET,
    ("AWS", "AWSManagedRulesKnownBadInputsRuleSet"): KNOWN_BAD_INPUTS,
}

#: Which rules are reproduced exactly, which only for AWS's documented example patterns (README).
EXACT_RULES = frozenset(
    {
        "NoUserAgent_HEADER",
        "SizeRestrictions_QUERYSTRING",
        "SizeRestrictions_Cookie_HEADER",
        "SizeRestrictions_BODY",
        "SizeRestrictions_URIPATH",
        "PROPFIND_METHOD",
    }
)
