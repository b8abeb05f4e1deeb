"""Authorization through the local stack (API Gateway's Cognito authorizer in front of the routes that
need a user, and the runtime's own token verification on every route)."""

from __future__ import annotations

import base64
import json
import time
import uuid

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from moto.utilities.utils import load_resource

from tests.support.local_stack import PASSWORD, RunningStack

from .http_support import TIMEOUT, Shopper, new_user, stored_lines

pytestmark = pytest.mark.integration


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def pool_key():
    """The local pool's signing key: moto signs every pool's tokens with the key it ships."""
    return jwt.algorithms.RSAAlgorithm.from_jwk(
        json.dumps(load_resource("cognitoidp/resources/jwks-private.json"))
    )


@pytest.fixture(scope="module")
def alice(local_stack: RunningStack) -> str:
    return new_user(local_stack)[1]


@pytest.fixture(scope="module")
def bob(local_stack: RunningStack) -> str:
    return new_user(local_stack)[1]


def test_a_user_never_reads_or_changes_another_users_cart(
    cart_api: str, product_ids: list[str], alice: str, bob: str
):
    first, second = product_ids[:2]
    alices, bobs = Shopper(cart_api, alice), Shopper(cart_api, bob)
    assert alices.add(first, 2).status_code == 200
    assert bobs.add(second, 3).status_code == 200

    assert alices.cart() == {first: 2}
    assert bobs.cart() == {second: 3}
    # Everything Alice can do touches her cart only: there is no parameter that names a cart.
    assert alices.set(second, 7).status_code == 200
    assert alices.add(second, -7).status_code == 200
    assert (
        alices.request("POST", "/cart", json={"productId": second, "quantity": 1, "cartId": "x"}).status_code
        == 200
    )
    assert alices.checkout().json()["products"][0]["productId"] in {first, second}
    assert alices.cart() == {}
    assert bobs.cart() == {second: 3}


def test_only_the_cookie_holder_reaches_an_anonymous_cart(cart_api: str, product_ids: list[str], alice: str):
    product = product_ids[2]
    owner = Shopper(cart_api)
    assert owner.add(product, 4).status_code == 200
    stranger = Shopper(cart_api)

    assert stranger.cart() == {}  # a new visitor gets a cart of their own
    assert stranger.set(product, 9).status_code == 200
    assert stranger.cart_id != owner.cart_id
    # A signed-in user who also holds the cookie reads the user cart: the token wins over the cookie.
    signed_in = Shopper(cart_api, alice).with_cookie(owner.cart_id)
    assert product not in signed_in.cart()
    assert owner.cart() == {product: 4}


@pytest.mark.parametrize(
    "guess",
    ["{sub}", "{SUB}", "user#{sub}", "{sub}#", "../user%23{sub}", "user%23{sub}", "{sub}; cartId={sub}"],
)
def test_guessing_a_cart_id_never_reaches_a_signed_in_users_cart(
    local_stack: RunningStack, cart_api: str, product_ids: list[str], guess: str
):
    _, token = new_user(local_stack)
    sub = claims_of(token)["sub"]
    victim = Shopper(cart_api, token)
    assert victim.add(product_ids[0], 3).status_code == 200
    cookie = guess.format(sub=sub, SUB=sub.upper())
    intruder = Shopper(cart_api)
    headers = {"Cookie": f"cartId={cookie}"}

    read = intruder.request("GET", "/cart", headers=headers)
    write = intruder.request("PUT", f"/cart/{product_ids[0]}", json={"quantity": 0}, headers=headers)
    added = intruder.request(
        "POST", "/cart", json={"productId": product_ids[0], "quantity": -3}, headers=headers
    )

    assert read.status_code == write.status_code == added.status_code == 200
    assert read.json() == {"products": []}
    # Writes landed in an anonymous cart (`cart#...`), never in the user's (`user#<sub>`).
    assert victim.cart() == {product_ids[0]: 3}
    assert int(stored_lines(local_stack, f"user#{sub}")[product_ids[0]]["quantity"]["N"]) == 3


@pytest.fixture(scope="module")
def foreign_tokens(local_stack: RunningStack, alice: str) -> dict[str, str]:
    """Tokens that must all be refused, each wrong in one way."""
    cognito = local_stack.aws("cognito-idp")
    config = local_stack.config
    # Another pool of the same (local) Cognito, with a user of its own.
    pool = cognito.create_user_pool(PoolName=f"other-{uuid.uuid4().hex[:8]}")["UserPool"]["Id"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool,
        ClientName="other",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    cognito.admin_create_user(UserPoolId=pool, Username="mallory@example.com", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(
        UserPoolId=pool, Username="mallory@example.com", Password=PASSWORD, Permanent=True
    )
    other_pool = cognito.initiate_auth(
        ClientId=client,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "mallory@example.com", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    # Another app client of the right pool: right issuer and keys, wrong audience.
    other_client = cognito.create_user_pool_client(
        UserPoolId=config["userPoolId"],
        ClientName="other-app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    other_app = cognito.initiate_auth(
        ClientId=other_client,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "shopper@example.com", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    shopper = cognito.initiate_auth(
        ClientId=config["userPoolClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "shopper@example.com", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    claims = claims_of(alice)
    header = jwt.get_unverified_header(alice)
    now = int(time.time())
    own_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    head, _payload, signature = alice.split(".")
    promoted = {**claims, "cognito:groups": ["admin"]}
    tampered_payload = base64.urlsafe_b64encode(json.dumps(promoted).encode()).rstrip(b"=").decode()
    return {
        "forged with another key": jwt.encode(promoted, own_key, algorithm="RS256", headers=header),
        "tampered payload": f"{head}.{tampered_payload}.{signature}",
        "expired": jwt.encode(
            {**claims, "iat": now - 7200, "exp": now - 3600}, pool_key(), algorithm="RS256", headers=header
        ),
        "unsigned (alg none)": jwt.encode(promoted, None, algorithm="none"),
        "other pool": other_pool["IdToken"],
        "other app client": other_app["IdToken"],
        "access token": shopper["AccessToken"],
        "not a token": "Bearer.not.a.token",
    }


ROUTES = [
    ("GET", "/cart", None),
    ("POST", "/cart", {"productId": "trail-lantern", "quantity": 1}),
    ("PUT", "/cart/trail-lantern", {"quantity": 2}),
    ("POST", "/cart/migrate", None),
    ("POST", "/cart/checkout", None),
    ("GET", "/cart/totals", None),
    ("GET", "/cart/trail-lantern/total", None),
]


@pytest.mark.parametrize(
    "kind",
    [
        "forged with another key",
        "tampered payload",
        "expired",
        "unsigned (alg none)",
        "other pool",
        "other app client",
        "access token",
        "not a token",
    ],
)
def test_forged_expired_and_foreign_tokens_are_refused_on_every_route(
    local_stack: RunningStack, cart_api: str, foreign_tokens: dict[str, str], alice: str, kind: str
):
    token = foreign_tokens[kind]
    alices = Shopper(cart_api, alice)
    before = alices.cart()
    anonymous = Shopper(cart_api)
    assert anonymous.add("trail-lantern", 1).status_code == 200

    for method, path, body in ROUTES:
        response = requests.request(
            method,
            cart_api + path,
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            cookies={"cartId": anonymous.cart_id},
            timeout=TIMEOUT,
        )
        # Never a fallback to the anonymous cart of the cookie, never the user the token claims to be.
        assert response.status_code == 401, (kind, method, path, response.text)
        assert response.json()["message"]
    assert alices.cart() == before
    assert anonymous.cart() == {"trail-lantern": 1}


def test_only_admins_read_totals(local_stack: RunningStack, cart_api: str, admin_token: str, alice: str):
    _, other_admin = new_user(local_stack, admin=True)
    for path in ("/cart/totals", "/cart/trail-lantern/total"):
        for token, status in ((alice, 403), (admin_token, 200), (other_admin, 200)):
            response = requests.get(
                cart_api + path, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT
            )
            assert response.status_code == status, (path, response.text)
            if status == 403:
                assert response.json()["message"]
