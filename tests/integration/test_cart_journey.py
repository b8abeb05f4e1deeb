"""The shopping cart on the local stack, over real HTTP: what a shopper and an admin do, end to end."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import requests

from tests.support.local_stack import RunningStack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def config(local_stack: RunningStack) -> dict:
    return local_stack.config


@pytest.fixture(scope="module")
def product_ids(config: dict) -> list[str]:
    products = requests.get(f"{config['productApiUrl']}/product", timeout=10).json()["products"]
    return [p["productId"] for p in products]


@pytest.fixture(scope="module")
def admin_token(local_stack: RunningStack) -> str:
    return local_stack.sign_in("admin@example.com")


def _client_with_cookies_of(session: requests.Session) -> requests.Session:
    """A new client that has nothing but the other's cookies, as a restarted browser."""
    client = requests.Session()
    for cookie in session.cookies:
        client.cookies.set_cookie(cookie)
    return client


def _cart(session: requests.Session, config: dict, token: str | None = None) -> dict[str, int]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = session.get(f"{config['cartApiUrl']}/cart", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    return {line["productId"]: line["quantity"] for line in response.json()["products"]}


def _add(
    session: requests.Session, config: dict, product_id: str, quantity: int, token: str | None = None
) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = session.post(
        f"{config['cartApiUrl']}/cart",
        json={"productId": product_id, "quantity": quantity},
        headers=headers,
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def _totals(config: dict, token: str) -> dict[str, int]:
    response = requests.get(
        f"{config['cartApiUrl']}/cart/totals", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    return {t["product"]: t["quantity"] for t in response.json()["totals"]}


def _scan_live_quantities(local_stack: RunningStack) -> dict[str, int]:
    """The truth the totals must equal: every live cart line in the table, summed per product."""
    dynamodb = local_stack.aws("dynamodb")
    table = next(t for t in dynamodb.list_tables()["TableNames"])
    sums: dict[str, int] = {}
    now = time.time()
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            pk = item["pk"]["S"]
            if not pk.startswith(("cart#", "user#")) or "migratedTo" in item:
                continue
            if float(item.get("expirationTime", {"N": "inf"})["N"]) < now:
                continue
            product = item["productId"]["S"]
            sums[product] = sums.get(product, 0) + int(item["quantity"]["N"])
    return {p: q for p, q in sums.items() if q}


def test_storefront_config_points_at_the_local_apis(local_stack: RunningStack, config: dict):
    # Same-origin paths, whatever address the shop was opened at (tests/e2e/test_any_address.py).
    raw = local_stack.raw_config
    for key in ("cartApiUrl", "productApiUrl", "userPoolEndpoint"):
        assert raw[key].startswith("/"), raw[key]
        assert config[key] == local_stack.url + raw[key]
    assert not config["cartApiUrl"].endswith("/")
    for key in ("region", "userPoolId", "userPoolClientId"):
        assert config[key]


def test_storefront_is_served_from_the_same_origin(local_stack: RunningStack):
    response = requests.get(local_stack.url + "/", timeout=10)
    assert response.status_code == 200
    assert "text/html" in response.headers["Content-Type"]
    # With the headers of the Frontend stack's CloudFront response headers policy, read from the assembly.
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_whole_journey(local_stack: RunningStack, config: dict, product_ids: list[str], admin_token: str):
    first, second, third = product_ids[:3]
    shopper = local_stack.sign_in("shopper@example.com")

    # A signed-in cart from an earlier session.
    _add(requests.Session(), config, first, 2, token=shopper)

    # Anonymous shopping: the server issues the cart cookie.
    browser = requests.Session()
    assert _add(browser, config, first, 1)["quantity"] == 1
    assert _add(browser, config, second, 3)["quantity"] == 3
    cookie = browser.cookies.get("cartId")
    assert uuid.UUID(cookie).version == 4

    # The cookie alone finds the cart again from a new client (a browser restart).
    restarted = _client_with_cookies_of(browser)
    assert _cart(restarted, config) == {first: 1, second: 3}

    # Sign in and migrate: quantities add to the existing user cart, exactly once.
    merged = restarted.post(
        f"{config['cartApiUrl']}/cart/migrate", headers={"Authorization": f"Bearer {shopper}"}, timeout=10
    )
    assert merged.status_code == 200, merged.text
    assert {p["productId"]: p["quantity"] for p in merged.json()["products"]} == {first: 3, second: 3}
    again = restarted.post(
        f"{config['cartApiUrl']}/cart/migrate", headers={"Authorization": f"Bearer {shopper}"}, timeout=10
    )
    assert again.status_code == 200
    assert _cart(requests.Session(), config, token=shopper) == {first: 3, second: 3}
    # The browser got a fresh anonymous cart, and the old one reads empty.
    assert restarted.cookies.get("cartId") != cookie
    assert _cart(restarted, config) == {}
    assert _cart(_client_with_cookies_of(browser), config) == {}  # the old cookie

    # Totals, after the (shortened) batching window, equal the carts.
    _add(requests.Session(), config, third, 4)
    local_stack.drain()
    totals = _totals(config, admin_token)
    truth = _scan_live_quantities(local_stack)
    assert {p: q for p, q in totals.items() if q} == truth
    single = requests.get(
        f"{config['cartApiUrl']}/cart/{first}/total",
        headers={"Authorization": f"Bearer {admin_token}"},
        timeout=10,
    )
    assert single.json() == {"product": first, "quantity": truth[first]}

    # Checkout returns what was bought and empties the cart; totals follow.
    checkout = requests.post(
        f"{config['cartApiUrl']}/cart/checkout", headers={"Authorization": f"Bearer {shopper}"}, timeout=10
    )
    assert checkout.status_code == 200, checkout.text
    assert {p["productId"]: p["quantity"] for p in checkout.json()["products"]} == {first: 3, second: 3}
    assert _cart(requests.Session(), config, token=shopper) == {}
    local_stack.drain()
    assert {p: q for p, q in _totals(config, admin_token).items() if q} == _scan_live_quantities(local_stack)

    # The migrated anonymous lines were deleted by the delete worker through SQS.
    dynamodb = local_stack.aws("dynamodb")
    table = dynamodb.list_tables()["TableNames"][0]
    leftovers = dynamodb.query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"cart#{cookie}"}},
    )["Items"]
    assert leftovers == []


def test_ttl_expiry_when_time_passes(
    local_stack: RunningStack, config: dict, product_ids: list[str], admin_token
):
    browser = requests.Session()
    _add(browser, config, product_ids[5], 7)
    local_stack.drain()
    before = _totals(config, admin_token).get(product_ids[5], 0)

    assert local_stack.advance_time(3600)["expiredItems"] == 0  # an hour: still there
    assert _cart(browser, config) == {product_ids[5]: 7}
    result = local_stack.advance_time(86400 + 60)  # past the anonymous TTL of one day

    assert result["expiredItems"] >= 1
    assert _cart(browser, config) == {}
    local_stack.drain()
    assert _totals(config, admin_token).get(product_ids[5], 0) == before - 7


def test_protected_routes_refuse_requests_without_a_valid_token(config: dict):
    base = config["cartApiUrl"]
    for method, path in (
        ("POST", "/cart/migrate"),
        ("POST", "/cart/checkout"),
        ("GET", "/cart/totals"),
        ("GET", "/cart/some-product/total"),
    ):
        response = requests.request(method, base + path, timeout=10)
        assert response.status_code == 401, (method, path)
        assert "message" in response.json()
    # An invalid token on a route open to anonymous shoppers is refused too, never read as anonymous.
    response = requests.get(f"{base}/cart", headers={"Authorization": "Bearer not-a-token"}, timeout=10)
    assert response.status_code == 401
    assert "message" in response.json()


def test_non_admin_cannot_read_totals(local_stack: RunningStack, config: dict):
    shopper = local_stack.sign_in("shopper@example.com")
    response = requests.get(
        f"{config['cartApiUrl']}/cart/totals", headers={"Authorization": f"Bearer {shopper}"}, timeout=10
    )
    assert response.status_code == 403
    assert "message" in response.json()


def test_failing_delete_worker_messages_end_in_the_dead_letter_queue(local_stack: RunningStack):
    sqs = local_stack.aws("sqs")
    urls = sqs.list_queues()["QueueUrls"]
    queues = {
        url: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"] for url in urls
    }
    delete_queue, attributes = next((u, a) for u, a in queues.items() if "RedrivePolicy" in a)
    redrive = json.loads(attributes["RedrivePolicy"])
    dead_letter_queue = next(u for u, a in queues.items() if a["QueueArn"] == redrive["deadLetterTargetArn"])

    sqs.send_message(QueueUrl=delete_queue, MessageBody="this is not a migrated cart line")

    # Each round: the worker has failed it (drained), its visibility timeout passes, and the pollers
    # receive it again (drained); past maxReceiveCount a receive moves it to the dead-letter queue.
    # Rounds wait for the pollers, not a fixed time; the deadline is for a busy machine.
    dead = None
    deadline = time.monotonic() + 300
    while not dead and time.monotonic() < deadline:
        local_stack.drain()
        local_stack.advance_time(int(attributes["VisibilityTimeout"]) + 1)
        local_stack.drain()
        dead = sqs.receive_message(QueueUrl=dead_letter_queue, WaitTimeSeconds=1).get("Messages")
    assert dead, local_stack.log()[-3000:]
    assert [m["Body"] for m in dead] == ["this is not a migrated cart line"]
