"""Schemathesis against both OpenAPI documents (docs/openapi), through the local stack: every
operation, positive and negative examples, anonymous, with the cookie, with a user's or an admin's
token, and with what schemathesis makes up for the security schemes. No 5xx, every 4xx a JSON object
with a message, every response as the document says (status, content type, headers, schema).

Example counts are bounded to keep the suite short: EXAMPLES per operation and generation mode (with
the auth mode drawn among the examples), about 1500 requests in all.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.local_stack import RunningStack

from .http_support import Shopper, new_user

pytestmark = [pytest.mark.integration, pytest.mark.slow]

OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi"
EXAMPLES = 60
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
AUTH_MODES = {
    "cart": ["generated", "anonymous", "cookie", "token", "token and cookie", "admin"],
    "products": ["generated", "anonymous", "token and cookie"],
}


def _operations(api: str) -> list[tuple[str, str, GenerationMode]]:
    """(api, operation, mode): negative examples only where there is something to get wrong."""
    document = json.loads((OPENAPI / f"{api}.json").read_text())
    found = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            label = f"{method.upper()} {path}"
            found.append((api, label, GenerationMode.POSITIVE))
            if operation.get("parameters") or operation.get("requestBody") or operation.get("security"):
                found.append((api, label, GenerationMode.NEGATIVE))
    return found


@pytest.fixture(scope="module")
def schemas(local_stack: RunningStack) -> dict[str, Any]:
    config = local_stack.config
    return {
        "cart": (schemathesis.openapi.from_path(OPENAPI / "cart.json"), config["cartApiUrl"]),
        "products": (schemathesis.openapi.from_path(OPENAPI / "products.json"), config["productApiUrl"]),
    }


@pytest.fixture(scope="module")
def identities(local_stack: RunningStack, cart_api: str, product_ids: list[str], admin_token: str) -> dict:
    _, token = new_user(local_stack)
    browser = Shopper(cart_api)
    assert browser.add(product_ids[0], 1).status_code == 200
    # The fuzzed user has a cart too, so that checkout and migration have something to do.
    assert Shopper(cart_api, token).add(product_ids[1], 2).status_code == 200
    return {"token": token, "admin": admin_token, "cookie": browser.cart_id}


def _authenticate(case: Any, mode: str, identities: dict) -> None:
    if mode == "generated":
        return  # whatever schemathesis made up for Authorization and the cookie
    headers = case.headers or {}
    headers.pop("Authorization", None)
    cookies: dict[str, str] = {}
    if mode in {"token", "token and cookie"}:
        headers["Authorization"] = f"Bearer {identities['token']}"
    if mode == "admin":
        headers["Authorization"] = f"Bearer {identities['admin']}"
    if mode in {"cookie", "token and cookie"}:
        cookies["cartId"] = identities["cookie"]
    case.headers = headers
    case.cookies = cookies


def _with_real_product(case: Any, product_id: str) -> None:
    """Positive examples are valid but name products that do not exist: half of them get a real one,
    so that adds, sets and totals succeed too."""
    if case.path_parameters and "product_id" in case.path_parameters:
        case.path_parameters["product_id"] = product_id
    if isinstance(case.body, dict) and "productId" in case.body:
        case.body["productId"] = product_id


def assert_errors_are_json_objects_with_a_message(response: Any) -> None:
    if 400 <= response.status_code < 500:
        body = response.json()
        assert isinstance(body, dict), response.text
        assert isinstance(body.get("message"), str), response.text
        assert body["message"], response.text


@pytest.mark.parametrize(("api", "label", "mode"), [*_operations("cart"), *_operations("products")])
def test_every_operation_answers_as_documented(
    schemas: dict, identities: dict, product_ids: list[str], api: str, label: str, mode: GenerationMode
):
    schema, base_url = schemas[api]
    operation = schema[label.split(" ", 1)[1]][label.split(" ", 1)[0]]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(
        case=operation.as_strategy(generation_mode=mode),
        auth=st.sampled_from(AUTH_MODES[api]),
        real_product=st.sampled_from([None, *product_ids]),
    )
    def fuzz(case: Any, auth: str, real_product: str | None) -> None:
        _authenticate(case, auth, identities)
        if mode == GenerationMode.POSITIVE and real_product:
            _with_real_product(case, real_product)
        response = case.call(base_url=base_url, timeout=30)
        case.validate_response(response, checks=CHECKS)
        assert_errors_are_json_objects_with_a_message(response)

    fuzz()
