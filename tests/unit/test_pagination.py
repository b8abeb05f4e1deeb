"""Carts bigger than one 1 MB Query page: reads, checkout and migration see every line."""

from __future__ import annotations

import uuid

LARGE_DETAIL = {"name": "big", "description": "x" * 300_000}  # ~300 KB per line: 3 lines per page


def fill(aws, pk, count):
    products = [f"product-{number}" for number in range(count)]
    for product in products:
        aws.put_line(pk, product, 1, detail=LARGE_DETAIL)
    return products


def test_get_cart_reads_every_page(call, aws, aws_requests):
    cart_id = str(uuid.uuid4())
    products = fill(aws, f"cart#{cart_id}", 7)
    aws_requests.clear()

    result = call("GET", "/cart", cart_id=cart_id)

    assert sorted(line["productId"] for line in result.body["products"]) == sorted(products)
    assert aws_requests.count("Query") == 3


def test_checkout_empties_every_page(call, aws, identity_provider):
    products = fill(aws, "user#big-spender", 7)

    result = call("POST", "/cart/checkout", token=identity_provider.token(sub="big-spender"))

    assert sorted(line["productId"] for line in result.body["products"]) == sorted(products)
    assert aws.quantities("user#big-spender") == {}


def test_migration_moves_every_page(call, aws, identity_provider):
    cart_id = str(uuid.uuid4())
    products = fill(aws, f"cart#{cart_id}", 5)
    fill(aws, "user#hoarder", 4)

    result = call("POST", "/cart/migrate", cart_id=cart_id, token=identity_provider.token(sub="hoarder"))

    expected = {product: 2 if product in products[:4] else 1 for product in products}
    assert {line["productId"]: line["quantity"] for line in result.body["products"]} == expected
    assert aws.quantities("user#hoarder") == expected
