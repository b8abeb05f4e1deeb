"""The product mock: catalogue shape, lookups, unknown ids, CORS."""

from __future__ import annotations

import re

import pytest

import products.api
from products.catalogue import load_catalogue

from .support import invoke_api


@pytest.fixture
def get(runtime_env):
    def _get(path, **kwargs):
        return invoke_api(products.api.handler, "GET", path, **kwargs)

    return _get


def test_lists_at_least_twelve_well_formed_products(get):
    result = get("/product")

    assert result.status == 200
    catalogue = result.body["products"]
    assert len(catalogue) >= 12
    assert len({product["productId"] for product in catalogue}) == len(catalogue)
    for product in catalogue:
        assert re.fullmatch(r"[A-Za-z0-9-]{1,64}", product["productId"])
        assert product["name"]
        assert product["category"]
        assert product["description"]
        assert isinstance(product["price"], int)
        assert not isinstance(product["price"], bool)
        assert product["price"] > 0
        assert product["image"] == f"/images/{product['productId']}.svg"


def test_gets_one_product(get):
    result = get("/product/trail-lantern")

    assert result.status == 200
    assert result.body["product"] == {**load_catalogue()["trail-lantern"].model_dump()}
    assert result.body["product"]["price"] == 3499


def test_unknown_product_is_a_404_with_a_message(get):
    result = get("/product/no-such-product")

    assert result.status == 404
    assert "no-such-product" in result.body["message"]


@pytest.mark.parametrize("product_id", ["bad%20id", "a" * 65, "semi;colon"])
def test_malformed_product_id_is_rejected_with_a_message(get, product_id):
    result = get(f"/product/{product_id}")

    assert result.status == 422
    assert result.body["message"]


def test_unknown_route_is_a_json_404(get):
    result = get("/products")

    assert result.status == 404
    assert result.body == {"message": "not found"}


def test_allowed_origin_gets_cors_headers_with_credentials(get):
    result = get("/product", headers={"Origin": "https://shop.example.com"})

    assert result.header("Access-Control-Allow-Origin") == "https://shop.example.com"
    assert result.header("Access-Control-Allow-Credentials") == "true"
    assert result.header("Vary") == "Origin"


def test_other_origin_gets_no_cors_headers(get):
    result = get("/product", headers={"Origin": "https://evil.example.net"})

    assert result.status == 200
    assert result.header("Access-Control-Allow-Origin") is None


def test_preflight_is_answered_for_allowed_origins(runtime_env):
    result = invoke_api(
        products.api.handler,
        "OPTIONS",
        "/product",
        headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "GET"},
    )

    assert result.status == 204
    assert result.header("Access-Control-Allow-Origin") == "http://localhost:5173"
    assert "GET" in result.header("Access-Control-Allow-Methods")
