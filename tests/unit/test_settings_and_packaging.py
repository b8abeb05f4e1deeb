"""Settings from the environment, imports without one, and the OpenAPI documents."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cart.settings import MissingSettingError, Settings

REPO = Path(__file__).resolve().parents[2]


def test_every_runtime_module_imports_with_an_empty_environment():
    # As Lambda imports them before the first invocation, and as the OpenAPI generator does: no
    # environment variable and no AWS client may be needed at import time.
    modules = "cart.api, cart.aggregator, cart.delete_worker, products.api"
    result = subprocess.run(
        [sys.executable, "-c", f"import {modules}"],
        cwd=REPO / "runtime",
        env={},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr


def test_settings_read_the_documented_variables():
    settings = Settings(
        {
            "TABLE_NAME": "t",
            "DELETE_QUEUE_URL": "https://sqs/q",
            "PRODUCT_SERVICE_URL": "https://products.example.com/prod/",
            "USER_POOL_CLIENT_ID": "client",
            "TOKEN_ISSUER": "https://issuer",
            "JWKS_URL": "https://issuer/.well-known/jwks.json",
            "ADMIN_GROUP": "admins",
            "ANONYMOUS_CART_TTL_SECONDS": "60",
            "USER_CART_TTL_SECONDS": "120",
            "MAX_QUANTITY": "10",
            "ALLOWED_ORIGINS": " https://a.example.com/ ,, http://localhost:5173",
            "PRODUCT_CACHE_SECONDS": "0",
            "PRODUCT_SERVICE_TIMEOUT_SECONDS": "1.5",
        }
    )

    assert settings.table_name == "t"
    assert settings.delete_queue_url == "https://sqs/q"
    assert settings.product_service_url == "https://products.example.com/prod"
    assert settings.user_pool_client_id == "client"
    assert settings.token_issuer == "https://issuer"
    assert settings.jwks_url == "https://issuer/.well-known/jwks.json"
    assert settings.admin_group == "admins"
    assert settings.anonymous_cart_ttl_seconds == 60
    assert settings.user_cart_ttl_seconds == 120
    assert settings.max_quantity == 10
    assert settings.allowed_origins == frozenset({"https://a.example.com", "http://localhost:5173"})
    assert settings.product_cache_seconds == 0
    assert settings.product_service_timeout_seconds == 1.5


def test_optional_settings_have_the_deployed_defaults():
    settings = Settings({})

    assert settings.admin_group == "admin"
    assert settings.anonymous_cart_ttl_seconds == 86400
    assert settings.user_cart_ttl_seconds == 604800
    assert settings.max_quantity == 1000
    assert settings.allowed_origins == frozenset()
    assert settings.product_cache_seconds == 300
    assert settings.product_service_timeout_seconds == 3


@pytest.mark.parametrize(
    "name",
    [
        "TABLE_NAME",
        "DELETE_QUEUE_URL",
        "PRODUCT_SERVICE_URL",
        "USER_POOL_CLIENT_ID",
        "TOKEN_ISSUER",
        "JWKS_URL",
    ],
)
def test_a_missing_required_setting_names_itself(name):
    with pytest.raises(MissingSettingError, match=name):
        getattr(Settings({name: " "}), name.lower())


@pytest.mark.parametrize("value", ["abc", "0", "-5", "1.5", "nan", "inf"])
def test_a_malformed_number_is_refused(value):
    with pytest.raises(MissingSettingError, match="MAX_QUANTITY"):
        _ = Settings({"MAX_QUANTITY": value}).max_quantity


def test_max_quantity_bounds_the_api(call, monkeypatch):
    from .support import clear_runtime_caches

    monkeypatch.setenv("MAX_QUANTITY", "5")
    clear_runtime_caches()

    too_many = call("POST", "/cart", json_body={"productId": "trail-lantern", "quantity": 6})
    set_too_many = call("PUT", "/cart/trail-lantern", json_body={"quantity": 6})
    allowed = call("POST", "/cart", json_body={"productId": "trail-lantern", "quantity": 5})

    assert too_many.status == 422
    assert "5" in too_many.body["message"]
    assert set_too_many.status == 422
    assert allowed.status == 200


# -- OpenAPI ---------------------------------------------------------------------------------------------


def _generator():
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import generate_openapi
    finally:
        sys.path.remove(str(REPO / "scripts"))
    return generate_openapi


def test_openapi_documents_describe_every_route(tmp_path):
    generator = _generator()

    assert generator.main(["--out", str(tmp_path)]) == 0

    cart_document = json.loads((tmp_path / "cart.json").read_text())
    products_document = json.loads((tmp_path / "products.json").read_text())
    assert {(path, method) for path, item in cart_document["paths"].items() for method in item} == {
        ("/cart", "get"),
        ("/cart", "post"),
        ("/cart/{product_id}", "put"),
        ("/cart/migrate", "post"),
        ("/cart/checkout", "post"),
        ("/cart/{product_id}/total", "get"),
        ("/cart/totals", "get"),
    }
    add = cart_document["paths"]["/cart"]["post"]
    assert add["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/AddToCartRequest")
    assert add["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/CartLineUpdatedResponse"
    )
    assert "ErrorResponse" in add["responses"]["404"]["content"]["application/json"]["schema"]["$ref"]
    assert set(products_document["paths"]) == {"/product", "/product/{product_id}"}


def test_the_committed_openapi_documents_are_up_to_date():
    assert _generator().main(["--check"]) == 0, "run: python scripts/generate_openapi.py"
