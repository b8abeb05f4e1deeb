"""The cart API through its Lambda handler: anonymous carts, adds, sets, validation, routing, CORS."""

from __future__ import annotations

import time
import uuid

import pytest

from .support import ANONYMOUS_TTL, USER_TTL, bearer

LANTERN = "trail-lantern"
TENT = "dome-tent-2p"


def cart_pk(cart_id: str) -> str:
    return f"cart#{cart_id}"


def add(call, product_id, quantity, **kwargs):
    return call("POST", "/cart", json_body={"productId": product_id, "quantity": quantity}, **kwargs)


# -- the anonymous cart cookie -------------------------------------------------------------------------


def test_first_visit_gets_an_empty_cart_and_a_cookie_without_touching_the_table(call, aws_requests):
    result = call("GET", "/cart")

    assert result.status == 200
    assert result.body == {"products": []}
    cart_id = result.cart_id
    assert str(uuid.UUID(cart_id, version=4)) == cart_id
    assert result.set_cookies == [
        f"cartId={cart_id}; Max-Age={ANONYMOUS_TTL}; Path=/; HttpOnly; SameSite=Lax; Secure"
    ]
    assert aws_requests.operations == []


def test_cookie_is_reused_and_keys_the_cart(call, aws):
    cart_id = str(uuid.uuid4())

    added = add(call, LANTERN, 2, cart_id=cart_id)
    read = call("GET", "/cart", cart_id=cart_id)

    assert added.cart_id == cart_id  # renewed, not replaced
    assert read.cart_id is None  # a read with a valid cookie does not need to set it
    assert [(line["productId"], line["quantity"]) for line in read.body["products"]] == [(LANTERN, 2)]
    assert aws.quantities(cart_pk(cart_id)) == {LANTERN: 2}


@pytest.mark.parametrize(
    "malformed",
    [
        "not-a-uuid",
        "12345678-1234-1234-1234-123456789012",  # a uuid, but not version 4
        "6F9619FF-8B86-4D11-B42D-00C04FC964FF",  # uppercase: not the form the API issues
        "",
        "../../user#admin",
    ],
)
def test_malformed_cookie_is_ignored_and_replaced(call, aws, malformed):
    result = add(call, LANTERN, 1, headers={"Cookie": f"cartId={malformed}"})

    assert result.status == 200
    assert result.cart_id not in (None, malformed)
    assert aws.quantities(cart_pk(result.cart_id)) == {LANTERN: 1}
    assert aws.quantities(cart_pk(malformed)) == {}


def test_cookie_is_found_among_other_cookies_and_headers(call, aws):
    cart_id = str(uuid.uuid4())
    aws.put_line(cart_pk(cart_id), LANTERN, 3)

    result = call(
        "GET",
        "/cart",
        multi_headers={"Cookie": ["theme=dark; cartId=garbage", f"session=x; cartId={cart_id}"]},
    )

    assert [line["quantity"] for line in result.body["products"]] == [3]
    assert result.cart_id is None


@pytest.mark.parametrize(
    ("proto", "host", "secure"),
    [
        ("http", "localhost:8080", False),
        ("http", "127.0.0.1:8080", False),
        ("http", "localhost", False),
        ("http", "192.168.1.5:8080", False),
        ("https", "localhost:8080", True),
        ("https", "abc.execute-api.us-east-1.amazonaws.com", True),
        (None, "localhost", True),
    ],
)
def test_cookie_is_secure_unless_the_client_used_plain_http(call, proto, host, secure):
    headers = {"Host": host}
    if proto:
        headers["X-Forwarded-Proto"] = proto
    else:
        headers["X-Forwarded-Proto"] = ""

    result = call("GET", "/cart", headers=headers)

    assert result.set_cookies[0].endswith("; Secure") is secure
    assert "SameSite=Lax" in result.set_cookies[0]
    assert "HttpOnly" in result.set_cookies[0]


# -- adding ------------------------------------------------------------------------------------------------


def test_add_returns_the_new_quantity_and_accumulates(call, aws):
    cart_id = str(uuid.uuid4())

    first = add(call, LANTERN, 2, cart_id=cart_id)
    second = add(call, LANTERN, 3, cart_id=cart_id)

    assert first.status == 200
    assert first.body == {"productId": LANTERN, "quantity": 2, "message": "product added to cart"}
    assert second.body["quantity"] == 5
    assert aws.quantities(cart_pk(cart_id)) == {LANTERN: 5}


def test_add_defaults_to_one_like_the_original(call):
    cart_id = str(uuid.uuid4())

    result = call("POST", "/cart", json_body={"productId": LANTERN}, cart_id=cart_id)

    assert result.body["quantity"] == 1


def test_add_stores_the_product_details_from_the_product_service(call, aws):
    cart_id = str(uuid.uuid4())
    add(call, LANTERN, 1, cart_id=cart_id)

    line = call("GET", "/cart", cart_id=cart_id).body["products"][0]

    assert line["sk"] == LANTERN
    assert line["productId"] == LANTERN
    assert line["productDetail"]["name"] == "Trail Lantern"
    assert line["productDetail"]["price"] == 3499


def test_add_of_a_cached_product_is_one_update_item(call, aws_requests, products_mock):
    cart_id = str(uuid.uuid4())
    add(call, LANTERN, 1, cart_id=cart_id)
    http_calls = len(products_mock.requests)
    aws_requests.clear()

    result = add(call, LANTERN, 1, cart_id=cart_id)

    assert result.body["quantity"] == 2
    assert aws_requests.operations == ["DynamoDB_20120810.UpdateItem"]
    assert len(products_mock.requests) == http_calls  # served from the container's cache


def test_get_cart_is_one_query(call, aws, aws_requests):
    cart_id = str(uuid.uuid4())
    for product in (LANTERN, TENT):
        aws.put_line(cart_pk(cart_id), product, 1)
    aws_requests.clear()

    result = call("GET", "/cart", cart_id=cart_id)

    assert len(result.body["products"]) == 2
    assert aws_requests.operations == ["DynamoDB_20120810.Query"]


def test_negative_add_removes_but_never_below_zero(call, aws):
    cart_id = str(uuid.uuid4())
    add(call, LANTERN, 5, cart_id=cart_id)

    partly = add(call, LANTERN, -2, cart_id=cart_id)
    too_much = add(call, LANTERN, -10, cart_id=cart_id)

    assert partly.body == {"productId": LANTERN, "quantity": 3, "message": "product removed from cart"}
    assert too_much.status == 200
    assert too_much.body["quantity"] == 0
    assert aws.quantities(cart_pk(cart_id)) == {}  # deleted at zero, not kept at 0 or below


def test_negative_add_of_exactly_the_quantity_deletes_the_line(call, aws):
    cart_id = str(uuid.uuid4())
    add(call, LANTERN, 4, cart_id=cart_id)

    result = add(call, LANTERN, -4, cart_id=cart_id)

    assert result.body["quantity"] == 0
    assert aws.get_item(cart_pk(cart_id), f"product#{LANTERN}") is None


def test_negative_add_to_an_absent_line_writes_nothing_and_asks_no_product(call, aws, products_mock):
    cart_id = str(uuid.uuid4())
    products_mock.mode = "error"  # a removal must not depend on the product service

    result = add(call, "gone-from-catalogue", -1, cart_id=cart_id)

    assert result.status == 200
    assert result.body["quantity"] == 0
    assert aws.quantities(cart_pk(cart_id)) == {}
    assert products_mock.requests == []


def test_add_beyond_the_maximum_line_quantity_is_a_conflict(call, aws):
    cart_id = str(uuid.uuid4())
    add(call, LANTERN, 1000, cart_id=cart_id)

    result = add(call, LANTERN, 1, cart_id=cart_id)

    assert result.status == 409
    assert "1000" in result.body["message"]
    assert aws.quantities(cart_pk(cart_id)) == {LANTERN: 1000}


def test_unknown_product_is_a_404_and_nothing_is_written(call, aws):
    cart_id = str(uuid.uuid4())

    result = add(call, "no-such-product", 1, cart_id=cart_id)

    assert result.status == 404
    assert "no-such-product" in result.body["message"]
    assert aws.scan() == []


@pytest.mark.parametrize("mode", ["error", "slow", "garbage"])
def test_product_service_failure_is_a_503_and_nothing_is_written(call, aws, products_mock, mode):
    products_mock.mode = mode
    cart_id = str(uuid.uuid4())

    result = add(call, LANTERN, 1, cart_id=cart_id)

    assert result.status == 503
    assert result.body["message"]
    assert aws.scan() == []
    # Its timeout (0.3 s here) ended the wait: the slow answer (held up to a minute) never came.
    assert not products_mock.slow_answered.is_set()


def test_product_service_down_is_a_503_and_nothing_is_written(call, aws, monkeypatch):
    from cart.settings import get_settings

    from .support import clear_runtime_caches, closed_port_url

    monkeypatch.setenv("PRODUCT_SERVICE_URL", closed_port_url())
    clear_runtime_caches()
    assert get_settings().product_service_url.startswith("http://127.0.0.1:")

    result = add(call, LANTERN, 1, cart_id=str(uuid.uuid4()))
    put = call("PUT", f"/cart/{LANTERN}", json_body={"quantity": 2}, cart_id=str(uuid.uuid4()))

    assert result.status == 503
    assert put.status == 503
    assert aws.scan() == []


def test_null_product_from_the_product_service_is_not_found(call, aws, products_mock):
    products_mock.mode = "null-product"

    result = add(call, LANTERN, 1, cart_id=str(uuid.uuid4()))

    assert result.status == 404
    assert aws.scan() == []


# -- TTL ---------------------------------------------------------------------------------------------------


def test_anonymous_lines_expire_a_day_after_their_last_write(call, aws):
    cart_id = str(uuid.uuid4())
    aws.put_line(cart_pk(cart_id), LANTERN, 2, expires_in=60)

    before = time.time()
    add(call, LANTERN, -1, cart_id=cart_id)
    after = time.time()

    expires = int(aws.get_item(cart_pk(cart_id), f"product#{LANTERN}")["expirationTime"]["N"])
    # Bounded by the clock around the call (whole seconds), however long the call took.
    assert int(before) + ANONYMOUS_TTL <= expires <= after + ANONYMOUS_TTL + 1


def test_signed_in_lines_expire_a_week_after_their_last_write(call, aws, identity_provider):
    before = time.time()
    add(call, LANTERN, 1, token=identity_provider.token(sub="ttl-user"))
    after = time.time()

    expires = int(aws.get_item("user#ttl-user", f"product#{LANTERN}")["expirationTime"]["N"])
    assert int(before) + USER_TTL <= expires <= after + USER_TTL + 1


def test_reads_skip_expired_and_migrated_lines(call, aws):
    cart_id = str(uuid.uuid4())
    aws.put_line(cart_pk(cart_id), LANTERN, 1, expires_in=-10)
    aws.put_line(cart_pk(cart_id), TENT, 2, migrated_to="someone")
    aws.put_line(cart_pk(cart_id), "headlamp-pro", 3)

    result = call("GET", "/cart", cart_id=cart_id)

    assert [(line["productId"], line["quantity"]) for line in result.body["products"]] == [
        ("headlamp-pro", 3)
    ]


def test_add_to_an_expired_line_starts_from_zero(call, aws):
    cart_id = str(uuid.uuid4())
    aws.put_line(cart_pk(cart_id), LANTERN, 7, expires_in=-10)

    result = add(call, LANTERN, 2, cart_id=cart_id)

    assert result.body["quantity"] == 2
    assert aws.quantities(cart_pk(cart_id)) == {LANTERN: 2}


def test_removal_from_an_expired_line_changes_nothing(call, aws):
    cart_id = str(uuid.uuid4())
    aws.put_line(cart_pk(cart_id), LANTERN, 7, expires_in=-10)

    result = add(call, LANTERN, -2, cart_id=cart_id)

    assert result.body["quantity"] == 0
    assert aws.quantities(cart_pk(cart_id)) == {LANTERN: 7}  # left for the TTL deletion


def test_add_through_an_old_cookie_after_migration_starts_a_new_line(call, aws):
    cart_id = str(uuid.uuid4())
    aws.put_line(cart_pk(cart_id), LANTERN, 4, migrated_to="user-1")

    result = add(call, LANTERN, 1, cart_id=cart_id)

    item = aws.get_item(cart_pk(cart_id), f"product#{LANTERN}")
    assert result.body["quantity"] == 1  # the 4 already belong to user-1's cart
    assert int(item["quantity"]["N"]) == 1
    assert "migratedTo" not in item  # live again, so the delete worker leaves it alone
    assert [line["quantity"] for line in call("GET", "/cart", cart_id=cart_id).body["products"]] == [1]


# -- setting -----------------------------------------------------------------------------------------------


def test_put_sets_the_quantity(call, aws):
    cart_id = str(uuid.uuid4())
    add(call, LANTERN, 5, cart_id=cart_id)

    result = call("PUT", f"/cart/{LANTERN}", json_body={"productId": LANTERN, "quantity": 2}, cart_id=cart_id)

    assert result.status == 200
    assert result.body == {"productId": LANTERN, "quantity": 2, "message": "cart updated"}
    assert result.cart_id == cart_id
    assert aws.quantities(cart_pk(cart_id)) == {LANTERN: 2}


def test_put_zero_removes_the_line_without_asking_the_product_service(call, aws, products_mock):
    cart_id = str(uuid.uuid4())
    aws.put_line(cart_pk(cart_id), LANTERN, 5)
    products_mock.mode = "error"

    result = call("PUT", f"/cart/{LANTERN}", json_body={"quantity": 0}, cart_id=cart_id)

    assert result.status == 200
    assert result.body["quantity"] == 0
    assert aws.quantities(cart_pk(cart_id)) == {}


def test_put_of_an_unknown_product_is_a_404(call, aws):
    result = call("PUT", "/cart/no-such-product", json_body={"quantity": 1}, cart_id=str(uuid.uuid4()))

    assert result.status == 404
    assert aws.scan() == []


def test_put_replaces_an_expired_line(call, aws):
    cart_id = str(uuid.uuid4())
    aws.put_line(cart_pk(cart_id), LANTERN, 9, expires_in=-5)

    before = time.time()
    call("PUT", f"/cart/{LANTERN}", json_body={"quantity": 3}, cart_id=cart_id)

    item = aws.get_item(cart_pk(cart_id), f"product#{LANTERN}")
    assert int(item["quantity"]["N"]) == 3
    assert int(item["expirationTime"]["N"]) >= int(before) + ANONYMOUS_TTL


# -- validation: no client input causes a 5xx ------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"productId": LANTERN, "quantity": True},
        {"productId": LANTERN, "quantity": 1.0},
        {"productId": LANTERN, "quantity": 1.5},
        {"productId": LANTERN, "quantity": "1"},
        {"productId": LANTERN, "quantity": None},
        {"productId": LANTERN, "quantity": 0},
        {"productId": LANTERN, "quantity": 1001},
        {"productId": LANTERN, "quantity": -1001},
        {"productId": LANTERN, "quantity": 10**40},
        {"quantity": 1},
        {"productId": 12, "quantity": 1},
        {"productId": "", "quantity": 1},
        {"productId": "a" * 65, "quantity": 1},
        {"productId": "trail lantern", "quantity": 1},
        {"productId": "x#y", "quantity": 1},
        [LANTERN, 1],
        "trail-lantern",
        None,
    ],
)
def test_invalid_add_is_a_422_with_a_message_and_writes_nothing(call, aws, body):
    result = call("POST", "/cart", json_body=body, cart_id=str(uuid.uuid4()))

    assert result.status == 422
    assert result.body["message"]
    assert aws.scan() == []


@pytest.mark.parametrize(
    "body",
    [{"quantity": True}, {"quantity": 2.0}, {"quantity": -1}, {"quantity": 1001}, {"quantity": "3"}, {}],
)
def test_invalid_set_is_a_422_with_a_message(call, aws, body):
    result = call("PUT", f"/cart/{LANTERN}", json_body=body, cart_id=str(uuid.uuid4()))

    assert result.status == 422
    assert result.body["message"]
    assert aws.scan() == []


@pytest.mark.parametrize("raw", ["{not json", '{"productId": "trail-lantern", "quantity": 1', "[" * 100_000])
def test_malformed_json_is_a_400_with_a_message(call, raw):
    result = call("POST", "/cart", raw_body=raw, cart_id=str(uuid.uuid4()))

    assert result.status == 400
    assert result.body["message"]


def test_missing_body_is_a_422(call):
    result = call("POST", "/cart", cart_id=str(uuid.uuid4()), headers={"Content-Type": "application/json"})

    assert result.status == 422
    assert result.body["message"]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", "productId=x"),
        ("multipart/form-data", None),  # no boundary
        (
            "multipart/form-data; boundary=x",
            '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\né€\r\n--x--',
        ),
    ],
)
def test_non_json_content_type_is_rejected_with_a_message(call, content_type, body):
    result = call(
        "POST",
        "/cart",
        raw_body=body,
        headers={"Content-Type": content_type},
        cart_id=str(uuid.uuid4()),
    )

    assert result.status in (415, 422)
    assert result.body["message"]


def test_validation_errors_do_not_echo_the_input(call):
    result = call("POST", "/cart", json_body={"productId": "<script>", "quantity": 1})

    assert "<script>" not in str(result.body)


@pytest.mark.parametrize("path", ["/cart/bad%20id", "/cart/" + "a" * 65, "/cart/semi;colon"])
def test_malformed_product_id_in_the_path_is_a_422(call, aws, path):
    result = call("PUT", path, json_body={"quantity": 1}, cart_id=str(uuid.uuid4()))

    assert result.status == 422
    assert result.body["message"]
    assert aws.scan() == []


# -- routing ---------------------------------------------------------------------------------------------


def test_put_on_migrate_is_a_product_update_not_a_migration(call, aws, identity_provider):
    cart_id = str(uuid.uuid4())
    aws.put_line(cart_pk(cart_id), LANTERN, 1)

    result = call(
        "PUT", "/cart/migrate", json_body={"quantity": 1}, cart_id=cart_id, token=identity_provider.token()
    )

    assert result.status == 404  # "migrate" is looked up as a product, and there is none
    assert aws.quantities(cart_pk(cart_id)) == {LANTERN: 1}


@pytest.mark.parametrize(
    ("method", "path"),
    [("DELETE", "/cart"), ("POST", f"/cart/{LANTERN}"), ("GET", "/carts"), ("GET", "/cart/a/b")],
)
def test_unknown_routes_are_json_404s(call, method, path):
    result = call(method, path)

    assert result.status == 404
    assert result.body == {"message": "not found"}


def test_responses_are_never_cached(call):
    assert call("GET", "/cart").header("Cache-Control") == "no-store"
    assert call("POST", "/cart", json_body={"quantity": 0}).header("Cache-Control") == "no-store"


# -- CORS ------------------------------------------------------------------------------------------------


def test_allowed_origin_gets_credentialed_cors_even_on_errors(call):
    ok = call("GET", "/cart", headers={"Origin": "https://shop.example.com"})
    error = call("POST", "/cart", raw_body="{", headers={"Origin": "https://shop.example.com"})

    for result in (ok, error):
        assert result.header("Access-Control-Allow-Origin") == "https://shop.example.com"
        assert result.header("Access-Control-Allow-Credentials") == "true"


def test_unlisted_origin_gets_no_cors(call):
    result = call("GET", "/cart", headers={"Origin": "https://evil.example.net"})

    assert result.header("Access-Control-Allow-Origin") is None


def test_preflight_lists_the_cart_methods(call):
    result = call(
        "OPTIONS",
        "/cart",
        headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"},
    )

    assert result.status == 204
    assert set(result.header("Access-Control-Allow-Methods").split(",")) >= {"GET", "POST", "PUT"}
    assert "Authorization" in result.header("Access-Control-Allow-Headers")


# -- signed-in carts -------------------------------------------------------------------------------------


def test_signed_in_user_reads_and_writes_their_own_cart_without_a_cookie(call, aws, identity_provider):
    token = identity_provider.token(sub="user-42")

    added = add(call, LANTERN, 2, token=token)
    read = call("GET", "/cart", token=bearer(token))

    assert added.cart_id is None
    assert read.cart_id is None
    assert aws.quantities("user#user-42") == {LANTERN: 2}
    assert [line["quantity"] for line in read.body["products"]] == [2]


def test_signed_in_user_does_not_see_the_anonymous_cart(call, aws, identity_provider):
    cart_id = str(uuid.uuid4())
    aws.put_line(cart_pk(cart_id), LANTERN, 2)

    result = call("GET", "/cart", token=identity_provider.token(sub="user-43"), cart_id=cart_id)

    assert result.body == {"products": []}


# -- metrics and logs ----------------------------------------------------------------------------------


def test_cart_updated_metric_is_published(call, capsys):
    cart_id = str(uuid.uuid4())
    capsys.readouterr()

    add(call, LANTERN, 1, cart_id=cart_id)
    call("PUT", f"/cart/{LANTERN}", json_body={"quantity": 3}, cart_id=cart_id)

    assert capsys.readouterr().out.count('"CartUpdated":[1.0]') == 2


def test_tokens_and_cookies_are_never_logged(call, identity_provider):
    import io
    import logging

    import cart.api

    cart_id = str(uuid.uuid4())
    token = identity_provider.token(sub="logged-user")
    # Everything the service logs, at every level, in the format Lambda would receive it.
    service_logger = logging.getLogger(cart.api.logger.name)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(cart.api.logger.registered_formatter)
    loggers = [service_logger] + [
        logging.getLogger(name)
        for name in list(logging.root.manager.loggerDict)
        if name.startswith(cart.api.logger.name + ".")
    ]
    previous_levels = [logger.level for logger in loggers]
    service_logger.addHandler(handler)
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    try:
        add(call, LANTERN, 1, token=token)
        call("GET", "/cart", token="garbage-token-value", cart_id=cart_id)
        call("GET", "/cart", cart_id=cart_id)
    finally:
        service_logger.removeHandler(handler)
        for logger, level in zip(loggers, previous_levels, strict=True):
            logger.setLevel(level)

    output = stream.getvalue()
    assert "token rejected" in output  # the logs were captured
    assert token not in output
    assert token.split(".")[2] not in output
    assert "garbage-token-value" not in output
    assert cart_id not in output


# -- AWS failures --------------------------------------------------------------------------------------


def test_throttled_table_is_a_503_with_a_message(call, monkeypatch):
    from botocore.exceptions import ClientError

    import cart.repository

    class Throttled:
        def query(self, **_request):
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "Query")

    monkeypatch.setattr(cart.repository, "_dynamodb", Throttled)

    result = call("GET", "/cart", cart_id=str(uuid.uuid4()))

    assert result.status == 503
    assert result.body == {"message": "the cart is busy, please try again"}


def test_a_bug_is_a_json_500_without_details(aws, monkeypatch):
    import json

    import cart.api
    import cart.repository

    from .support import LambdaContext, api_event

    class Broken:
        def query(self, **_request):
            raise KeyError("secret internals")

    monkeypatch.setattr(cart.repository, "_dynamodb", Broken)
    event = api_event("GET", "/cart", headers={"Cookie": f"cartId={uuid.uuid4()}"})

    result = cart.api.handler(event, LambdaContext())

    assert result["statusCode"] == 500
    assert json.loads(result["body"]) == {"message": "internal error"}
