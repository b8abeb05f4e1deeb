"""Who is calling: Cognito ID token verification (through the API) and the cookie helpers."""

from __future__ import annotations

import base64
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from cart.identity import cart_cookie, cart_id_from_cookies, cookie_needs_secure, token_from_authorization

from .support import CLIENT_ID, bearer, clear_runtime_caches, closed_port_url

LANTERN = "trail-lantern"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# -- tokens, through GET /cart (an anonymous route: a bad token must not fall back to the cookie) --------


def test_valid_id_token_reads_the_users_cart(call, aws, identity_provider):
    aws.put_line("user#user-7", LANTERN, 2)

    for header in (identity_provider.token(sub="user-7"), bearer(identity_provider.token(sub="user-7"))):
        result = call("GET", "/cart", token=header)
        assert result.status == 200
        assert [line["quantity"] for line in result.body["products"]] == [2]


def test_bearer_scheme_is_case_insensitive(call, identity_provider):
    result = call("GET", "/cart", token="bearer " + identity_provider.token())

    assert result.status == 200


def _rejected_tokens(provider):
    """Every way a token can be wrong, each with everything else right."""
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    valid = provider.token()
    header, payload, signature = valid.split(".")
    tampered_payload = _b64(json.dumps({**provider.claims(), "sub": "someone-else"}).encode())
    flipped = signature[:-4] + ("AAAA" if not signature.endswith("AAAA") else "BBBB")
    unsigned = jwt.encode(provider.claims(), key=None, algorithm="none")
    # Algorithm confusion: an HMAC token keyed with the public key's PEM.
    return {
        "expired": provider.token(exp=int(time.time()) - 60, iat=int(time.time()) - 3700),
        "wrong audience": provider.token(aud="another-client"),
        "wrong issuer": provider.token(iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_OTHER"),
        "access token": provider.token(token_use="access", aud=None, client_id=CLIENT_ID),
        "access token with an aud": provider.token(token_use="access"),
        "no token_use": provider.token(token_use=None),
        "no expiry": provider.token(exp=None),
        "no sub": provider.token(sub=None),
        "tampered payload": f"{header}.{tampered_payload}.{signature}",
        "tampered signature": f"{header}.{payload}.{flipped}",
        "signed by another key with the same kid": provider.token(key=other_key),
        "unknown kid": provider.token(kid="unknown-key"),
        "alg none": unsigned,
        "not a jwt": "not-a-jwt",
        "bearer without token": "Bearer ",
    }


@pytest.fixture(scope="module")
def rejected_tokens(identity_provider):
    return _rejected_tokens(identity_provider)


@pytest.mark.parametrize(
    "case",
    [
        "expired",
        "wrong audience",
        "wrong issuer",
        "access token",
        "access token with an aud",
        "no token_use",
        "no expiry",
        "no sub",
        "tampered payload",
        "tampered signature",
        "signed by another key with the same kid",
        "unknown kid",
        "alg none",
        "not a jwt",
        "bearer without token",
    ],
)
def test_invalid_token_is_a_401_and_never_falls_back_to_the_cookie(call, aws, rejected_tokens, case):
    cart_id = str(uuid.uuid4())
    aws.put_line(f"cart#{cart_id}", LANTERN, 5)

    read = call("GET", "/cart", token=rejected_tokens[case], cart_id=cart_id)
    write = call(
        "POST", "/cart", json_body={"productId": LANTERN, "quantity": 1}, token=rejected_tokens[case]
    )

    assert read.status == 401
    assert read.body == {"message": "invalid or expired token"}
    assert read.header("WWW-Authenticate") == "Bearer"
    assert read.cart_id is None
    assert write.status == 401
    assert aws.quantities(f"cart#{cart_id}") == {LANTERN: 5}
    assert [item for item in aws.scan() if not item["pk"]["S"].startswith("cart#")] == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/cart", None),
        ("POST", "/cart", {"productId": LANTERN, "quantity": 1}),
        ("PUT", f"/cart/{LANTERN}", {"quantity": 1}),
        ("POST", "/cart/migrate", None),
        ("POST", "/cart/checkout", None),
        ("GET", f"/cart/{LANTERN}/total", None),
        ("GET", "/cart/totals", None),
    ],
)
def test_every_cart_route_verifies_a_present_token(call, rejected_tokens, method, path, body):
    result = call(method, path, json_body=body, token=rejected_tokens["expired"], cart_id=str(uuid.uuid4()))

    assert result.status == 401
    assert result.body["message"]


def test_blank_authorization_header_counts_as_absent(call, aws):
    cart_id = str(uuid.uuid4())
    aws.put_line(f"cart#{cart_id}", LANTERN, 1)

    result = call("GET", "/cart", token="  ", cart_id=cart_id)

    assert result.status == 200
    assert [line["quantity"] for line in result.body["products"]] == [1]


def test_signing_keys_are_fetched_once_per_container(call, identity_provider):
    identity_provider.jwks_requests.clear()
    token = identity_provider.token()

    for _ in range(3):
        assert call("GET", "/cart", token=token).status == 200

    assert len(identity_provider.jwks_requests) == 1


def test_unreachable_signing_keys_are_a_503_not_a_401(call, monkeypatch, identity_provider):
    monkeypatch.setenv("JWKS_URL", closed_port_url() + "/.well-known/jwks.json")
    clear_runtime_caches()

    result = call("GET", "/cart", token=identity_provider.token())

    assert result.status == 503
    assert result.body["message"]


def test_jwks_url_and_issuer_are_separate_settings(call, monkeypatch, identity_provider):
    # Local Cognito serves its keys at one URL and writes another issuer into its tokens.
    monkeypatch.setenv("TOKEN_ISSUER", "http://localhost:9229/local_pool")
    clear_runtime_caches()

    accepted = call("GET", "/cart", token=identity_provider.token(iss="http://localhost:9229/local_pool"))
    rejected = call("GET", "/cart", token=identity_provider.token())

    assert accepted.status == 200
    assert rejected.status == 401


# -- pure helpers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "token"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("abc.def.ghi", "abc.def.ghi"),
        ("Bearer abc.def.ghi", "abc.def.ghi"),
        ("BEARER  abc.def.ghi ", "abc.def.ghi"),
        ("Bearer", ""),
    ],
)
def test_token_from_authorization(header, token):
    assert token_from_authorization(header) == token


def test_cart_id_from_cookies_takes_the_first_well_formed_value():
    good = str(uuid.uuid4())
    other = str(uuid.uuid4())

    assert cart_id_from_cookies([]) is None
    assert cart_id_from_cookies(["cartId=nope"]) is None
    assert cart_id_from_cookies([f"a=1; cartId={good}; b=2"]) == good
    assert cart_id_from_cookies([f'cartId="{good}"']) == good
    assert cart_id_from_cookies([f"cartId=bad; cartId={good}", f"cartId={other}"]) == good
    assert cart_id_from_cookies([f"xcartId={good}"]) is None
    assert cart_id_from_cookies([f"cartId={good.upper()}"]) is None


@pytest.mark.parametrize(
    ("protos", "secure"),
    [
        # The scheme the client used decides, whatever the host: a phone on http://192.168.1.5:8080
        # (HOST=0.0.0.0 make dev) must keep its anonymous cart.
        (["http"], False),
        (["HTTP"], False),
        ([" http , http"], False),
        (["http", "http"], False),
        (["https"], True),
        # API Gateway's https after a client's own "http": still https to the client.
        (["http", "https"], True),
        (["http, https"], True),
        ([], True),
        ([None], True),
        ([""], True),
    ],
)
def test_cookie_needs_secure(protos, secure):
    assert cookie_needs_secure(protos) is secure


def test_cart_cookie_format():
    cart_id = str(uuid.uuid4())

    assert cart_cookie(cart_id, 86400, secure=True) == (
        f"cartId={cart_id}; Max-Age=86400; Path=/; HttpOnly; SameSite=Lax; Secure"
    )
    assert (
        cart_cookie(cart_id, 60, secure=False)
        == f"cartId={cart_id}; Max-Age=60; Path=/; HttpOnly; SameSite=Lax"
    )
