"""The local AWS_IAM check: SigV4 as the AWS SDKs sign (botocore's signer on the client side) and IAM's
policy evaluation for execute-api:Invoke, with API Gateway's answers."""

from __future__ import annotations

import datetime

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from local.iam import (
    INVALID_TOKEN,
    MISSING_TOKEN,
    SIGNATURE_MISMATCH,
    IamAuthority,
    LocalCredentials,
    Refusal,
    SignedRequest,
    method_arn,
    not_authorized,
    verify_signature,
)

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/CartRole"
HOST = "localhost:8080"
PATH = "/api/products/internal/product/trail-lantern"


@pytest.fixture
def authority() -> IamAuthority:
    authority = IamAuthority(ACCOUNT)
    authority.add_role("CartRole", ROLE, [], [])
    return authority


@pytest.fixture
def caller(authority: IamAuthority) -> LocalCredentials:
    return authority.issue("cart-api", ROLE)


def signed(
    credentials: LocalCredentials,
    *,
    path: str = PATH,
    query: str = "",
    body: bytes = b"",
    method: str = "GET",
    region: str = REGION,
    service: str = "execute-api",
    when: datetime.datetime | None = None,
) -> list[tuple[str, str]]:
    """Headers of a request signed by botocore, as a Lambda function's SDK signs it."""
    url = f"http://{HOST}{path}" + (f"?{query}" if query else "")
    aws_request = AWSRequest(method=method, url=url, data=body, headers={"Accept": "application/json"})
    signer = SigV4Auth(
        Credentials(credentials.access_key_id, credentials.secret_access_key, credentials.session_token),
        service,
        region,
    )
    if when is None:
        signer.add_auth(aws_request)
    else:
        aws_request.context["timestamp"] = when.strftime("%Y%m%dT%H%M%SZ")
        aws_request.headers["X-Amz-Date"] = aws_request.context["timestamp"]
        aws_request.headers["X-Amz-Security-Token"] = credentials.session_token
        canonical = signer.canonical_request(aws_request)
        signature = signer.signature(signer.string_to_sign(aws_request, canonical), aws_request)
        scope = f"{credentials.access_key_id}/{when:%Y%m%d}/{region}/{service}/aws4_request"
        names = signer.signed_headers(signer.headers_to_sign(aws_request))
        aws_request.headers["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders={names}, Signature={signature}"
        )
    return [("Host", HOST), ("User-Agent", "cart/1"), *aws_request.headers.items()]


def received(
    headers: list[tuple[str, str]], *, path: str = PATH, query: str = "", body: bytes = b""
) -> SignedRequest:
    return SignedRequest("GET", HOST, path, query, headers, body)


def test_a_request_signed_with_the_functions_credentials_is_its_caller(
    authority: IamAuthority, caller: LocalCredentials
) -> None:
    result = verify_signature(
        received(signed(caller, query="b=2&a=x%20y"), query="b=2&a=x%20y"), authority, region=REGION
    )
    assert result == caller
    assert caller.principal_arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/CartRole/cart-api"


def test_every_function_gets_its_own_credentials(authority: IamAuthority) -> None:
    first, second = authority.issue("one", ROLE), authority.issue("two", ROLE)
    assert first.access_key_id != second.access_key_id
    assert first.secret_access_key != second.secret_access_key
    assert set(first.environment()) == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}


def test_an_unsigned_request_is_missing_its_authentication_token(authority: IamAuthority) -> None:
    result = verify_signature(received([("Host", HOST)]), authority, region=REGION)
    assert result == Refusal({"message": MISSING_TOKEN}, "MissingAuthenticationTokenException")


@pytest.mark.parametrize(
    "tamper",
    [
        {"path": PATH + "x"},
        {"query": "admin=true"},
        {"body": b"{}"},
    ],
    ids=["path", "query", "body"],
)
def test_a_request_changed_after_signing_does_not_match_its_signature(
    authority: IamAuthority, caller: LocalCredentials, tamper: dict
) -> None:
    result = verify_signature(received(signed(caller), **tamper), authority, region=REGION)
    assert isinstance(result, Refusal)
    assert result.body["message"].startswith(SIGNATURE_MISMATCH)
    # As API Gateway does, the answer shows what should have been signed.
    assert "The Canonical String for this request should have been" in result.body["message"]


def test_a_signature_with_another_secret_does_not_match(
    authority: IamAuthority, caller: LocalCredentials
) -> None:
    forged = LocalCredentials(caller.access_key_id, "not-the-secret", caller.session_token, "", None)
    result = verify_signature(received(signed(forged)), authority, region=REGION)
    assert isinstance(result, Refusal)
    assert result.body["message"].startswith(SIGNATURE_MISMATCH)


def test_unknown_keys_and_wrong_session_tokens_are_invalid_tokens(
    authority: IamAuthority, caller: LocalCredentials
) -> None:
    stranger = LocalCredentials("ASIAUNKNOWN000000000", "s", "t", "", None)
    assert verify_signature(received(signed(stranger)), authority, region=REGION).body == {
        "message": INVALID_TOKEN
    }
    wrong_token = LocalCredentials(caller.access_key_id, caller.secret_access_key, "other-token", "", None)
    assert verify_signature(received(signed(wrong_token)), authority, region=REGION).body == {
        "message": INVALID_TOKEN
    }


@pytest.mark.parametrize(
    ("scope", "message"),
    [
        ({"region": "eu-west-1"}, "Credential should be scoped to a valid region. "),
        ({"service": "lambda"}, "Credential should be scoped to correct service: 'execute-api'. "),
    ],
)
def test_the_credential_scope_must_name_this_region_and_execute_api(
    authority: IamAuthority, caller: LocalCredentials, scope: dict, message: str
) -> None:
    assert verify_signature(received(signed(caller, **scope)), authority, region=REGION).body == {
        "message": message
    }


def test_a_signature_older_than_five_minutes_has_expired(
    authority: IamAuthority, caller: LocalCredentials
) -> None:
    now = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)
    fresh = signed(caller, when=now - datetime.timedelta(minutes=4))
    assert verify_signature(received(fresh), authority, region=REGION, now=now) == caller
    stale = signed(caller, when=now - datetime.timedelta(minutes=6))
    result = verify_signature(received(stale), authority, region=REGION, now=now)
    assert result.body["message"].startswith("Signature expired: 20260101T115400Z is now earlier than")


# --- policies -----------------------------------------------------------------------------------------

RESOURCE = method_arn(REGION, ACCOUNT, "products", "prod", "get", "/internal/product/trail-lantern")


def test_method_arn_has_the_stage_the_method_and_the_path() -> None:
    arn = method_arn(REGION, ACCOUNT, "products", "prod", "get", "/internal/product/trail-lantern")
    assert arn == f"arn:aws:execute-api:{REGION}:{ACCOUNT}:products/prod/GET/internal/product/trail-lantern"


@pytest.mark.parametrize(
    ("statements", "decision"),
    [
        ([], "implicitDeny"),
        (
            [
                {
                    "Effect": "Allow",
                    "Action": "execute-api:Invoke",
                    "Resource": "arn:aws:execute-api:*:*:products/prod/GET/internal/product/*",
                }
            ],
            "allow",
        ),
        ([{"Effect": "Allow", "Action": "execute-api:*", "Resource": "*"}], "allow"),
        (
            [{"Effect": "Allow", "Action": "EXECUTE-API:invoke", "Resource": "*"}],
            "allow",
        ),  # actions ignore case
        (
            [
                {
                    "Effect": "Allow",
                    "Action": "execute-api:Invoke",
                    "Resource": "arn:aws:execute-api:*:*:products/prod/POST/*",
                }
            ],
            "implicitDeny",
        ),
        (
            [
                {
                    "Effect": "Allow",
                    "Action": "execute-api:Invoke",
                    "Resource": "arn:aws:execute-api:*:*:products/PROD/*",
                }
            ],
            "implicitDeny",
        ),  # resources do not
        ([{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}], "implicitDeny"),
        ([{"Effect": "Allow", "NotAction": "dynamodb:*", "Resource": "*"}], "allow"),
        (
            [{"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:execute-api:*:*:products/*"}],
            "implicitDeny",
        ),
        (
            [
                {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"},
                {
                    "Effect": "Deny",
                    "Action": "execute-api:Invoke",
                    "Resource": "arn:aws:execute-api:*:*:*/*/*/internal/*",
                },
            ],
            "explicitDeny",
        ),
        (
            [
                {
                    "Effect": "Allow",
                    "Action": "execute-api:Invoke",
                    "Resource": "*",
                    "Condition": {"Bool": {"aws:SecureTransport": "true"}},
                }
            ],
            "implicitDeny",
        ),
    ],
)
def test_policy_evaluation(authority: IamAuthority, statements: list[dict], decision: str) -> None:
    authority.attach_policy({"Statement": statements}, ["CartRole"])
    assert authority.decide(ROLE, "execute-api:Invoke", RESOURCE) == decision


def test_inline_attached_and_managed_policies_all_count(authority: IamAuthority) -> None:
    other = f"arn:aws:iam::{ACCOUNT}:role/Other"
    grant = {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}
    authority.add_managed_policy(f"arn:aws:iam::{ACCOUNT}:policy/Invoke", {"Statement": grant}, [])
    authority.add_role("Other", other, [], [f"arn:aws:iam::{ACCOUNT}:policy/Invoke"])
    assert authority.decide(other, "execute-api:Invoke", RESOURCE) == "allow"
    authority.add_role("Inline", f"arn:aws:iam::{ACCOUNT}:role/Inline", [grant], [])
    assert authority.decide(f"arn:aws:iam::{ACCOUNT}:role/Inline", "execute-api:Invoke", RESOURCE) == "allow"
    assert authority.decide(None, "execute-api:Invoke", RESOURCE) == "implicitDeny"


def test_not_authorized_is_api_gateways_access_denied() -> None:
    refusal = not_authorized("arn:aws:sts::123456789012:assumed-role/R/f", RESOURCE, "implicitDeny")
    assert refusal.error_type == "AccessDeniedException"
    assert refusal.body["Message"].startswith(
        "User: arn:aws:sts::123456789012:assumed-role/R/f is not authorized to perform: execute-api:Invoke "
        "on resource: arn:aws:execute-api:us-east-1:********9012:products/prod/GET/internal/product/trail-lantern"
    )
