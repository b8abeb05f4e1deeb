"""Local IAM for API Gateway's AWS_IAM authorization: each emulated function's own credentials, the
identity policies of its execution role, and the SigV4 check API Gateway makes on a signed request.

On Lambda a function's environment holds temporary credentials of its execution role, and API Gateway
answers a method with ``AuthorizationType: AWS_IAM`` only when the request is signed (Signature
Version 4, service ``execute-api``) by a principal whose policies allow ``execute-api:Invoke`` on the
method's ARN. Here every function gets an access key of its own that maps to its role (the caller is
``arn:aws:sts::<account>:assumed-role/<role>/<function>``, as on Lambda), so an unsigned call, a bad
signature and a missing grant all fail locally the way they fail on AWS.

The signature is recomputed with botocore's SigV4 signer (what the AWS SDKs use) over the request as
received. Policy evaluation follows IAM's rules for one principal in one account: an explicit Deny
wins, otherwise an Allow is needed. A statement with a ``Condition`` is not evaluated locally: as an
Allow it grants nothing, as a Deny it denies (the safe reading). AWS managed policies attached by ARN
are not known locally and grant nothing.
"""

from __future__ import annotations

import datetime
import fnmatch
import hashlib
import re
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ALGORITHM = "AWS4-HMAC-SHA256"
#: How far a request's X-Amz-Date may be from the clock (SigV4's documented five minutes).
MAX_CLOCK_SKEW = datetime.timedelta(minutes=5)
_AUTH_PART = re.compile(r"(Credential|SignedHeaders|Signature)=([^,\s]+)")

MISSING_TOKEN = "Missing Authentication Token"
INVALID_TOKEN = "The security token included in the request is invalid."
SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS "
    "Secret Access Key and signing method. Consult the service documentation for details."
)


@dataclass(frozen=True)
class LocalCredentials:
    """The temporary credentials one emulated function gets, and who they stand for."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    principal_arn: str  # arn:aws:sts::<account>:assumed-role/<role name>/<function name>
    role_arn: str | None

    def environment(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_SESSION_TOKEN": self.session_token,
        }


@dataclass(frozen=True)
class Refusal:
    """API Gateway's answer to a request that fails AWS_IAM authorization (always a 403)."""

    body: dict[str, str]
    error_type: str


@dataclass
class IamAuthority:
    """Roles and policies of the assembly, and the credentials issued to its functions."""

    account: str
    credentials: dict[str, LocalCredentials] = field(default_factory=dict)  # access key id -> them
    role_arns: dict[str, str] = field(default_factory=dict)  # role name -> arn
    _statements: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # role arn -> statements
    _managed: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # policy arn -> statements
    _attached: dict[str, list[str]] = field(default_factory=dict)  # role arn -> managed policy arns
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # --- what the assembly declares ------------------------------------------------------------------

    def add_role(self, name: str, arn: str, inline: list[dict[str, Any]], managed_arns: list[str]) -> None:
        with self._lock:
            self.role_arns[name] = arn
            self._statements.setdefault(arn, []).extend(inline)
            self._attached.setdefault(arn, []).extend(managed_arns)

    def attach_policy(self, document: dict[str, Any], role_names: list[str]) -> None:
        """An AWS::IAM::Policy: its statements join each named role's."""
        with self._lock:
            for name in role_names:
                arn = self.role_arns.get(name, name)
                self._statements.setdefault(arn, []).extend(statements_of(document))

    def add_managed_policy(self, arn: str, document: dict[str, Any], role_names: list[str]) -> None:
        with self._lock:
            self._managed[arn] = statements_of(document)
            for name in role_names:
                self._attached.setdefault(self.role_arns.get(name, name), []).append(arn)

    def issue(self, function_name: str, role_arn: str | None) -> LocalCredentials:
        """Credentials of one function: a stable access key id, a fresh secret for this run."""
        digest = hashlib.sha256(function_name.encode()).hexdigest().upper()
        role_name = (role_arn or "").rsplit("/", 1)[-1] or "unknown-role"
        credentials = LocalCredentials(
            access_key_id=f"ASIA{digest[:16]}",
            secret_access_key=secrets.token_urlsafe(30),
            session_token=secrets.token_urlsafe(48),
            principal_arn=f"arn:aws:sts::{self.account}:assumed-role/{role_name}/{function_name}",
            role_arn=role_arn,
        )
        with self._lock:
            self.credentials[credentials.access_key_id] = credentials
        return credentials

    # --- decisions -----------------------------------------------------------------------------------

    def statements_for(self, role_arn: str | None) -> list[dict[str, Any]]:
        with self._lock:
            if role_arn is None:
                return []
            statements = list(self._statements.get(role_arn, []))
            for policy_arn in self._attached.get(role_arn, []):
                statements.extend(self._managed.get(policy_arn, []))
            return statements

    def decide(self, role_arn: str | None, action: str, resource: str) -> str:
        """'allow', 'explicitDeny' or 'implicitDeny' for one action on one resource."""
        allowed = False
        for statement in self.statements_for(role_arn):
            if not (_action_matches(statement, action) and _resource_matches(statement, resource)):
                continue
            effect = statement.get("Effect")
            if effect == "Deny":
                return "explicitDeny"
            if effect == "Allow" and not statement.get("Condition"):
                allowed = True
        return "allow" if allowed else "implicitDeny"

    def status(self) -> dict[str, str]:
        with self._lock:
            return {key: c.principal_arn for key, c in sorted(self.credentials.items())}


def statements_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = (document or {}).get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _wildcard(pattern: str, value: str, *, case_sensitive: bool) -> bool:
    # IAM wildcards are * and ? only: escape fnmatch's character classes.
    translated = fnmatch.translate(pattern.replace("[", "[[]"))
    return re.match(translated, value, 0 if case_sensitive else re.IGNORECASE) is not None


def _action_matches(statement: dict[str, Any], action: str) -> bool:
    if "NotAction" in statement:
        return not any(_wildcard(p, action, case_sensitive=False) for p in _as_list(statement["NotAction"]))
    return any(_wildcard(p, action, case_sensitive=False) for p in _as_list(statement.get("Action")))


def _resource_matches(statement: dict[str, Any], resource: str) -> bool:
    if "NotResource" in statement:
        return not any(
            _wildcard(p, resource, case_sensitive=True) for p in _as_list(statement["NotResource"])
        )
    return any(_wildcard(p, resource, case_sensitive=True) for p in _as_list(statement.get("Resource")))


# --- SigV4 ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedRequest:
    """A request as API Gateway received it, for the signature check."""

    method: str
    host: str
    path: str  # the path as sent, percent-encoded
    query: str  # the query string as sent, without "?"
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return ",".join(values) if values else None


def _incomplete(authorization: str) -> Refusal:
    message = (
        "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' "
        "parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires "
        f"existence of either a 'X-Amz-Date' or a 'Date' header. Authorization={authorization}"
    )
    return Refusal({"message": message}, "IncompleteSignatureException")


def _check_date(amz_date: str, now: datetime.datetime) -> Refusal | None:
    try:
        signed_at = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)
    except ValueError:
        return Refusal({"message": f"Invalid date format: {amz_date}"}, "InvalidSignatureException")
    stamp = "%Y%m%dT%H%M%SZ"
    if signed_at < now - MAX_CLOCK_SKEW:
        limit = (now - MAX_CLOCK_SKEW).strftime(stamp)
        message = (
            f"Signature expired: {amz_date} is now earlier than {limit} ({now.strftime(stamp)} - 5 min.)"
        )
        return Refusal({"message": message}, "InvalidSignatureException")
    if signed_at > now + MAX_CLOCK_SKEW:
        limit = (now + MAX_CLOCK_SKEW).strftime(stamp)
        message = f"Signature not yet current: {amz_date} is still later than {limit} ({now.strftime(stamp)} + 5 min.)"
        return Refusal({"message": message}, "InvalidSignatureException")
    return None


def verify_signature(
    request: SignedRequest,
    authority: IamAuthority,
    *,
    region: str,
    service: str = "execute-api",
    now: datetime.datetime | None = None,
) -> LocalCredentials | Refusal:
    """The caller's credentials when the request carries a valid SigV4 signature, else API Gateway's refusal."""
    authorization = request.header("Authorization")
    if not authorization:
        return Refusal({"message": MISSING_TOKEN}, "MissingAuthenticationTokenException")
    parts = dict(_AUTH_PART.findall(authorization))
    amz_date = request.header("X-Amz-Date")
    if not authorization.startswith(ALGORITHM + " ") or len(parts) != 3 or not amz_date:
        return _incomplete(authorization)
    access_key, _, scope = parts["Credential"].partition("/")
    scope_date, scope_region, scope_service, terminator = ([*scope.split("/"), "", "", "", ""])[:4]
    if scope_region != region:
        return Refusal(
            {"message": "Credential should be scoped to a valid region. "}, "InvalidSignatureException"
        )
    if scope_service != service or terminator != "aws4_request":
        message = f"Credential should be scoped to correct service: '{service}'. "
        return Refusal({"message": message}, "InvalidSignatureException")
    credentials = authority.credentials.get(access_key)
    if credentials is None or request.header("X-Amz-Security-Token") != credentials.session_token:
        return Refusal({"message": INVALID_TOKEN}, "UnrecognizedClientException")
    stale = _check_date(amz_date, now or datetime.datetime.now(datetime.UTC))
    if stale is not None:
        return stale
    if scope_date != amz_date[:8]:
        return Refusal({"message": SIGNATURE_MISMATCH}, "InvalidSignatureException")
    return _compare_signature(request, credentials, parts, amz_date, region, service)


def _compare_signature(
    request: SignedRequest,
    credentials: LocalCredentials,
    parts: dict[str, str],
    amz_date: str,
    region: str,
    service: str,
) -> LocalCredentials | Refusal:
    signed = [name for name in parts["SignedHeaders"].lower().split(";") if name]
    headers = {name: request.header(name) or "" for name in signed}
    headers["host"] = request.header("Host") or request.host
    url = f"http://{request.host}{request.path}" + (f"?{request.query}" if request.query else "")
    rebuilt = AWSRequest(method=request.method, url=url, data=request.body, headers=headers)
    rebuilt.context["timestamp"] = amz_date
    signer = SigV4Auth(
        Credentials(credentials.access_key_id, credentials.secret_access_key, credentials.session_token),
        service,
        region,
    )
    canonical = signer.canonical_request(rebuilt)
    string_to_sign = signer.string_to_sign(rebuilt, canonical)
    if "host" not in signed or not secrets.compare_digest(
        signer.signature(string_to_sign, rebuilt), parts["Signature"]
    ):
        # As API Gateway does, the message shows what the signer should have signed.
        message = (
            f"{SIGNATURE_MISMATCH}\n\nThe Canonical String for this request should have been\n'{canonical}'"
            f"\n\nThe String-to-Sign should have been\n'{string_to_sign}'\n"
        )
        return Refusal({"message": message}, "InvalidSignatureException")
    return credentials


def method_arn(region: str, account: str, api_id: str, stage: str, method: str, path: str) -> str:
    """arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<path without its leading slash>."""
    return f"arn:aws:execute-api:{region}:{account}:{api_id}/{stage}/{method.upper()}/{path.lstrip('/')}"


def not_authorized(principal_arn: str, resource: str, decision: str) -> Refusal:
    # API Gateway masks the account id in the resource, and writes this message with a capital M.
    masked = re.sub(r"^(arn:aws:execute-api:[^:]+:)(\d{8})(\d{4})", r"\1********\3", resource)
    reason = (
        "with an explicit deny in an identity-based policy"
        if decision == "explicitDeny"
        else "because no identity-based policy allows the execute-api:Invoke action"
    )
    message = f"User: {principal_arn} is not authorized to perform: execute-api:Invoke on resource: {masked} {reason}"
    return Refusal({"Message": message}, "AccessDeniedException")
