"""POST /cart/checkout, GET /cart/<id>/total and GET /cart/totals."""

from __future__ import annotations

import uuid

import pytest

import cart.api
import cart.repository
from cart.domain import CartOwner
from cart.repository import CartRepository

LANTERN = "trail-lantern"
TENT = "dome-tent-2p"


# -- checkout --------------------------------------------------------------------------------------------


def test_checkout_requires_a_signed_in_user(call, aws):
    cart_id = str(uuid.uuid4())
    aws.put_line(f"cart#{cart_id}", LANTERN, 1)

    result = call("POST", "/cart/checkout", cart_id=cart_id)

    assert result.status == 401
    assert aws.quantities(f"cart#{cart_id}") == {LANTERN: 1}


def test_checkout_empties_the_cart_and_returns_what_was_bought(call, aws, identity_provider, capsys):
    aws.put_line("user#buyer", LANTERN, 2)
    aws.put_line("user#buyer", TENT, 1)
    aws.put_line("user#buyer", "titanium-pot", 4, expires_in=-10)  # expired: not for sale any more
    aws.put_line("user#someone-else", LANTERN, 9)
    capsys.readouterr()

    result = call("POST", "/cart/checkout", token=identity_provider.token(sub="buyer"))

    assert result.status == 200
    assert [(line["productId"], line["quantity"]) for line in result.body["products"]] == [
        (TENT, 1),
        (LANTERN, 2),
    ]
    assert result.body["products"][0]["productDetail"] == {"name": TENT}
    assert aws.quantities("user#buyer") == {"titanium-pot": 4}  # left for the TTL deletion
    assert aws.quantities("user#someone-else") == {LANTERN: 9}
    assert call("GET", "/cart", token=identity_provider.token(sub="buyer")).body == {"products": []}
    assert capsys.readouterr().out.count('"CartCheckedOut":[1.0]') == 1


def test_checkout_of_an_empty_cart_writes_nothing(call, aws, aws_requests, identity_provider):
    aws_requests.clear()

    result = call("POST", "/cart/checkout", token=identity_provider.token(sub="window-shopper"))

    assert result.body == {"products": []}
    assert aws_requests.counts() == {"Query": 1}


def test_large_checkout_deletes_in_transactions_of_100(call, aws, aws_requests, identity_provider):
    for number in range(201):
        aws.put_line("user#bulk-buyer", f"product-{number:03d}", 1)
    aws_requests.clear()

    result = call("POST", "/cart/checkout", token=identity_provider.token(sub="bulk-buyer"))

    assert len(result.body["products"]) == 201
    assert aws.quantities("user#bulk-buyer") == {}
    assert aws_requests.count("TransactWriteItems") == 3


def test_checkout_returns_the_quantities_actually_removed_when_the_cart_changes(aws, monkeypatch):
    aws.put_line("user#racer", LANTERN, 2)
    original_read = CartRepository.read_cart
    reads = []

    def read_then_change(self, owner):
        lines = original_read(self, owner)
        if not reads:
            aws.put_line("user#racer", LANTERN, 3)  # another device added one meanwhile
        reads.append(owner)
        return lines

    monkeypatch.setattr(CartRepository, "read_cart", read_then_change)

    bought = cart.api._cart_service().checkout(CartOwner.user("racer"))

    assert [(line.product_id, line.quantity) for line in bought] == [(LANTERN, 3)]
    assert len(reads) == 2
    assert aws.quantities("user#racer") == {}


def test_checkout_gives_up_with_a_409_when_the_cart_never_settles(call, aws, monkeypatch, identity_provider):
    aws.put_line("user#restless", LANTERN, 1)
    original_read = CartRepository.read_cart
    counter = iter(range(2, 100))

    def read_then_change(self, owner):
        lines = original_read(self, owner)
        aws.put_line("user#restless", LANTERN, next(counter))
        return lines

    monkeypatch.setattr(CartRepository, "read_cart", read_then_change)

    result = call("POST", "/cart/checkout", token=identity_provider.token(sub="restless"))

    assert result.status == 409
    assert result.body["message"]


# -- totals ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [f"/cart/{LANTERN}/total", "/cart/totals"])
def test_totals_need_a_signed_in_user(call, path):
    result = call("GET", path)

    assert result.status == 401
    assert result.body["message"]


@pytest.mark.parametrize("path", [f"/cart/{LANTERN}/total", "/cart/totals"])
def test_totals_need_the_admin_group(call, identity_provider, path):
    not_admin = identity_provider.token(sub="shopper", **{"cognito:groups": ["customers"]})

    result = call("GET", path, token=not_admin)

    assert result.status == 403
    assert result.body["message"]


def test_total_of_a_product_no_cart_ever_held_is_zero(call, aws, identity_provider):
    result = call("GET", f"/cart/{LANTERN}/total", token=identity_provider.admin_token())

    assert result.status == 200
    assert result.body == {"product": LANTERN, "quantity": 0}


def test_total_of_a_product_is_one_get_item(call, aws, aws_requests, identity_provider):
    aws.dynamodb.put_item(
        TableName=aws.table_name,
        Item={"pk": {"S": "totals"}, "sk": {"S": f"product#{LANTERN}"}, "quantity": {"N": "7"}},
    )
    aws_requests.clear()

    result = call("GET", f"/cart/{LANTERN}/total", token=identity_provider.admin_token())

    assert result.body == {"product": LANTERN, "quantity": 7}
    assert aws_requests.counts() == {"GetItem": 1}


def test_all_totals_are_one_query_without_a_scan(call, aws, aws_requests, identity_provider):
    for product, quantity in ((TENT, 2), (LANTERN, 7)):
        aws.dynamodb.put_item(
            TableName=aws.table_name,
            Item={
                "pk": {"S": "totals"},
                "sk": {"S": f"product#{product}"},
                "productId": {"S": product},
                "quantity": {"N": str(quantity)},
            },
        )
    aws.put_line("user#x", LANTERN, 1)  # a cart line is not a total
    aws_requests.clear()

    result = call("GET", "/cart/totals", token=identity_provider.admin_token())

    assert result.status == 200
    assert result.body == {"totals": [{"product": TENT, "quantity": 2}, {"product": LANTERN, "quantity": 7}]}
    assert aws_requests.counts() == {"Query": 1}


def test_all_totals_follow_pagination(aws, monkeypatch):
    for number in range(7):
        aws.dynamodb.put_item(
            TableName=aws.table_name,
            Item={"pk": {"S": "totals"}, "sk": {"S": f"product#p{number}"}, "quantity": {"N": "1"}},
        )
    client = cart.repository._dynamodb()
    pages = []

    class SmallPages:
        def query(self, **request):
            page = client.query(Limit=2, **request)
            pages.append(page)
            return page

    monkeypatch.setattr(cart.repository, "_dynamodb", lambda: SmallPages())

    totals = cart.api._cart_service().all_totals()

    assert [total.product_id for total in totals] == [f"p{number}" for number in range(7)]
    assert len(pages) == 4


def test_literal_totals_route_is_not_a_product_total(call, aws, identity_provider):
    token = identity_provider.admin_token()

    assert "totals" in call("GET", "/cart/totals", token=token).body
    assert call("GET", "/cart/totals/total", token=token).body == {"product": "totals", "quantity": 0}
