"""API Gateway REST API emulation: route matching, the Lambda proxy event, the Cognito authorizer,
MOCK integrations (CORS preflight) and the proxy response, all read from the template's resources.
In front of them, as on AWS: the web ACL associated with the stage (local/waf.py) sees every request
first, then AWS_IAM methods check the request's SigV4 signature and the caller's policies (local/iam.py).

A hand-written converter rather than aws-sam-cli's `samcli.local.apigw`: that module is an internal
API of a large CLI whose install pins Flask, Werkzeug and boto versions of its own, and it does not
read Cognito authorizers from a template. What API Gateway does here fits in this file and is tested.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any
from urllib.parse import quote, urlencode

import jsonschema
import jwt

from .cloud import RestApi, Route, UserPool
from .iam import (
    MISSING_TOKEN,
    LocalCredentials,
    Refusal,
    SignedRequest,
    method_arn,
    not_authorized,
    verify_signature,
)
from .waf import Verdict, WafRequest

_PATH_PARAMETER = re.compile(r"^\{([^}+]+)(\+?)\}$")
_QUOTED = re.compile(r"'([^']*)'")


@dataclass
class HttpRequest:
    method: str
    path: str  # path below the API's base URL, e.g. /cart/abc
    query: list[tuple[str, str]]
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str = "127.0.0.1"
    raw_query: str | None = None  # the query string as sent (what WAF inspects), when known

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return values[-1] if values else None


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @classmethod
    def json(cls, status: int, document: Any, headers: list[tuple[str, str]] | None = None) -> HttpResponse:
        return cls(
            status, [("Content-Type", "application/json"), *(headers or [])], json.dumps(document).encode()
        )


@dataclass(frozen=True)
class _CompiledRoute:
    route: Route
    pattern: re.Pattern[str]
    parameter_names: tuple[str, ...]
    specificity: tuple[int, int]


def _compile(route: Route) -> _CompiledRoute:
    parts = [p for p in route.path.split("/") if p]
    regex, names, literal = "", [], 0
    greedy = 0
    for part in parts:
        match = _PATH_PARAMETER.match(part)
        if match and match.group(2):
            regex += "/(.+)"
            names.append(match.group(1))
            greedy += 1
        elif match:
            regex += "/([^/]+)"
            names.append(match.group(1))
        else:
            regex += "/" + re.escape(part)
            literal += 1
    return _CompiledRoute(route, re.compile(f"^{regex or '/'}/?$"), tuple(names), (-greedy, literal))


class CognitoTokenValidator:
    """What a COGNITO_USER_POOLS authorizer checks: signature against the pool's keys, issuer, expiry,
    and for ID tokens an audience that is one of the pool's app clients."""

    def __init__(
        self, jwks_url_for: Callable[[UserPool], str], clients_of: Callable[[str], set[str]]
    ) -> None:
        self._jwks_url_for = jwks_url_for
        self._clients_of = clients_of
        self._jwk_clients: dict[str, jwt.PyJWKClient] = {}

    def claims(self, token: str, pools: list[UserPool]) -> dict[str, Any] | None:
        try:
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError:
            return None
        pool = next((p for p in pools if p.issuer == issuer), None)
        if pool is None:
            return None
        client = self._jwk_clients.setdefault(pool.pool_id, jwt.PyJWKClient(self._jwks_url_for(pool)))
        try:
            key = client.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                issuer=pool.issuer,
                options={"verify_aud": False, "require": ["exp", "iss", "token_use"]},
            )
        except jwt.PyJWTError:
            return None
        if claims["token_use"] == "id" and claims.get("aud") not in self._clients_of(pool.pool_id):
            return None
        if claims["token_use"] not in {"id", "access"}:
            return None
        return claims


class ApiGatewayEmulator:
    """One REST API: dispatches a request to its integration and returns the HTTP response."""

    def __init__(
        self,
        api: RestApi,
        *,
        invoke: Callable[[str, dict[str, Any]], tuple[Any, dict[str, Any] | None]],
        user_pools: Mapping[str, UserPool],
        token_validator: CognitoTokenValidator,
        account: str,
        domain_name: str,
        base_path: str | None = None,
    ) -> None:
        self.api = api
        self._invoke = invoke
        self._user_pools = user_pools
        self._validator = token_validator
        self._account = account
        self._domain_name = domain_name
        # Where the local gateway serves this API; a SigV4 signature covers the path as sent.
        self._base_path = base_path if base_path is not None else f"/api/{api.api_id}"

    @cached_property
    def _routes(self) -> list[_CompiledRoute]:
        return sorted((_compile(r) for r in self.api.routes), key=lambda c: c.specificity, reverse=True)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for compiled in self._routes:
            if compiled.route.method not in {method, "ANY"}:
                continue
            found = compiled.pattern.match(path)
            if found:
                return compiled.route, dict(zip(compiled.parameter_names, found.groups(), strict=True))
        return None

    def handle(self, request: HttpRequest) -> HttpResponse:
        verdict = self._web_acl_verdict(request)
        if verdict is not None and not verdict.allowed:
            return _blocked_response(verdict)
        if verdict is not None and verdict.inserted_headers:
            request = replace(request, headers=[*request.headers, *verdict.inserted_headers])
        matched = self.match(request.method, request.path)
        if matched is None:
            # What API Gateway answers for an unknown resource or method.
            return HttpResponse.json(403, {"message": MISSING_TOKEN})
        route, path_parameters = matched
        claims, caller = None, None
        if route.authorization_type == "COGNITO_USER_POOLS":
            claims = self._authorize(route, request)
            if claims is None:
                return HttpResponse.json(401, {"message": "Unauthorized"})
        elif route.authorization_type == "AWS_IAM":
            caller = self._authorize_iam(request)
            if isinstance(caller, HttpResponse):
                return caller
        invalid = _request_validation_error(route, request, path_parameters)
        if invalid is not None:
            return HttpResponse.json(400, {"message": invalid})
        return self._integrate(route, request, path_parameters, claims, caller)

    def _integrate(
        self,
        route: Route,
        request: HttpRequest,
        path_parameters: dict[str, str],
        claims: dict[str, Any] | None,
        caller: LocalCredentials | None,
    ) -> HttpResponse:
        integration_type = route.integration.get("Type")
        if integration_type == "MOCK":
            return self._mock_response(route, request)
        if integration_type != "AWS_PROXY" or route.function_arn is None:
            return HttpResponse.json(
                500, {"message": f"integration {integration_type} is not emulated locally"}
            )
        event = self.proxy_event(route, request, path_parameters, claims, caller)
        payload, error = self._invoke(route.function_arn, event)
        if error is not None:
            return HttpResponse.json(502, {"message": "Internal server error"})
        return _proxy_response(payload)

    # --- web ACL and AWS_IAM ----------------------------------------------------------------------

    def _web_acl_verdict(self, request: HttpRequest) -> Verdict | None:
        acl = self.api.web_acl
        if acl is None:
            return None
        # What WAF sees on AWS: the execute-api host (API Gateway routes by it, so a request can never
        # reach the stage with Host: localhost) and the path with the stage, as sent to execute-api.
        host = f"{self.api.api_id}.execute-api.{self.api.region}.amazonaws.com"
        headers = [(k, host if k.lower() == "host" else v) for k, v in request.headers]
        if request.header("Host") is None:
            headers.append(("Host", host))
        return acl.evaluate(
            WafRequest(
                method=request.method,
                uri_path=f"/{self.api.stage}{request.path}",
                query_string=_query_string(request.query) if request.raw_query is None else request.raw_query,
                headers=headers,
                body=request.body,
                source_ip=request.source_ip,
            )
        )

    def _authorize_iam(self, request: HttpRequest) -> LocalCredentials | HttpResponse:
        iam = self.api.iam
        if iam is None:
            return _refusal(Refusal({"message": MISSING_TOKEN}, "MissingAuthenticationTokenException"))
        signed = SignedRequest(
            method=request.method,
            host=request.header("Host") or self._domain_name,
            path=self._base_path + request.path,
            query=_query_string(request.query),
            headers=request.headers,
            body=request.body,
        )
        caller = verify_signature(signed, iam, region=self.api.region)
        if isinstance(caller, Refusal):
            return _refusal(caller)
        resource = method_arn(
            self.api.region, self._account, self.api.api_id, self.api.stage, request.method, request.path
        )
        decision = iam.decide(caller.role_arn, "execute-api:Invoke", resource)
        if decision != "allow":
            return _refusal(not_authorized(caller.principal_arn, resource, decision))
        return caller

    # --- authorizer ---------------------------------------------------------------------------

    def _authorize(self, route: Route, request: HttpRequest) -> dict[str, Any] | None:
        authorizer = route.authorizer or {}
        source = str(authorizer.get("IdentitySource", "method.request.header.Authorization"))
        header = source.rsplit(".", 1)[-1]
        token = (request.header(header) or "").strip()
        if token.lower().startswith("bearer "):
            token = token[7:].strip()
        if not token:
            return None
        pools = [
            self._user_pools[arn] for arn in authorizer.get("ProviderARNs", []) if arn in self._user_pools
        ]
        return self._validator.claims(token, pools)

    # --- integrations -------------------------------------------------------------------------

    def proxy_event(
        self,
        route: Route,
        request: HttpRequest,
        path_parameters: dict[str, str],
        claims: dict[str, Any] | None,
        caller: LocalCredentials | None = None,
    ) -> dict[str, Any]:
        headers: dict[str, str] = {}
        multi_headers: dict[str, list[str]] = {}
        for name, value in request.headers:
            headers[name] = value
            multi_headers.setdefault(name, []).append(value)
        query: dict[str, str] = {}
        multi_query: dict[str, list[str]] = {}
        for name, value in request.query:
            query[name] = value
            multi_query.setdefault(name, []).append(value)
        now = time.time()
        body, is_base64 = _event_body(request)
        request_context: dict[str, Any] = {
            "accountId": self._account,
            "apiId": self.api.api_id,
            "domainName": self._domain_name,
            "domainPrefix": self.api.api_id,
            "extendedRequestId": uuid.uuid4().hex[:16],
            "httpMethod": request.method,
            "identity": self._identity(request, caller),
            "path": f"/{self.api.stage}{request.path}",
            "protocol": "HTTP/1.1",
            "requestId": str(uuid.uuid4()),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "resourceId": route.path,
            "resourcePath": route.path,
            "stage": self.api.stage,
        }
        if claims is not None:
            # API Gateway hands the claims to the integration as strings.
            request_context["authorizer"] = {"claims": {k: _claim_string(v) for k, v in claims.items()}}
        return {
            "resource": route.path,
            "path": request.path,
            "httpMethod": request.method,
            "headers": headers or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": query or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": path_parameters or None,
            "stageVariables": None,
            "requestContext": request_context,
            "body": body,
            "isBase64Encoded": is_base64,
        }

    def _identity(self, request: HttpRequest, caller: LocalCredentials | None) -> dict[str, Any]:
        identity: dict[str, Any] = {
            "sourceIp": request.source_ip,
            "userAgent": request.header("User-Agent"),
            "accessKey": None,
            "accountId": None,
            "caller": None,
            "user": None,
            "userArn": None,
            "cognitoIdentityId": None,
            "cognitoIdentityPoolId": None,
        }
        if caller is not None:
            # An AWS_IAM caller, as API Gateway describes an assumed role's session.
            session = caller.principal_arn.split(":", 5)[-1].removeprefix("assumed-role/")
            identity.update(
                accessKey=caller.access_key_id,
                accountId=self._account,
                caller=session,
                user=session,
                userArn=caller.principal_arn,
            )
        return identity

    def _mock_response(self, route: Route, request: HttpRequest) -> HttpResponse:
        responses = route.integration.get("IntegrationResponses") or [{"StatusCode": "200"}]
        response = responses[0]
        headers: list[tuple[str, str]] = []
        origin = request.header("Origin")
        template = json.dumps(response.get("ResponseTemplates", {}))
        for parameter, value in (response.get("ResponseParameters") or {}).items():
            name = parameter.rsplit(".", 1)[-1]
            quoted = _QUOTED.fullmatch(str(value))
            headers.append((name, quoted.group(1) if quoted else str(value)))
        # CDK's CORS preflight picks the request's origin in a VTL template when several are allowed.
        if origin and origin in template:
            headers = [(k, origin if k.lower() == "access-control-allow-origin" else v) for k, v in headers]
        return HttpResponse(int(response.get("StatusCode", 200)), headers, b"")


def _request_validation_error(
    route: Route, request: HttpRequest, path_parameters: dict[str, str]
) -> str | None:
    """What a request validator refuses, with API Gateway's messages; None when the request passes."""
    if route.validator.get("ValidateRequestParameters"):
        missing = []
        for parameter, required in route.request_parameters.items():
            _, _, location, name = parameter.split(".", 3)
            present = {
                "path": lambda n: bool(path_parameters.get(n)),
                "querystring": lambda n: any(k == n for k, _ in request.query),
                "header": lambda n: request.header(n) is not None,
            }.get(location, lambda _n: True)(name)
            if required and not present:
                missing.append(name)
        if missing:
            return f"Missing required request parameters: [{', '.join(missing)}]"
    if route.validator.get("ValidateRequestBody") and route.request_models:
        content_type = (request.header("Content-Type") or "application/json").split(";")[0].strip().lower()
        schema = route.request_models.get(content_type)
        if schema is not None:
            try:
                jsonschema.validate(json.loads(request.body or b"null"), schema)
            except (ValueError, jsonschema.ValidationError):
                return "Invalid request body"
    return None


def _event_body(request: HttpRequest) -> tuple[str | None, bool]:
    if not request.body:
        return None, False
    try:
        return request.body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(request.body).decode(), True


def _claim_string(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def _proxy_response(payload: Any) -> HttpResponse:
    if not isinstance(payload, dict) or "statusCode" not in payload:
        return HttpResponse.json(502, {"message": "Internal server error"})
    headers: list[tuple[str, str]] = []
    single = payload.get("headers") or {}
    multi = payload.get("multiValueHeaders") or {}
    for name, value in single.items():
        if name not in multi:
            headers.append((name, str(value)))
    for name, values in multi.items():
        headers.extend((name, str(v)) for v in values)
    body = payload.get("body") or ""
    raw = base64.b64decode(body) if payload.get("isBase64Encoded") else str(body).encode()
    return HttpResponse(int(payload["statusCode"]), headers, raw)


def _query_string(query: list[tuple[str, str]]) -> str:
    """The query string encoded as SigV4's canonical form has it (RFC 3986), as AWS re-encodes it."""
    return urlencode(query, quote_via=quote, safe="-_.~")


def _blocked_response(verdict: Verdict) -> HttpResponse:
    if verdict.response is not None:
        status, headers, body = verdict.response
        return HttpResponse(status, headers, body)
    # API Gateway's WAF_FILTERED gateway response: a 403, {"message": "Forbidden"}.
    return HttpResponse.json(403, {"message": "Forbidden"}, [("x-amzn-ErrorType", "ForbiddenException")])


def _refusal(refusal: Refusal) -> HttpResponse:
    return HttpResponse.json(403, refusal.body, [("x-amzn-ErrorType", refusal.error_type)])
