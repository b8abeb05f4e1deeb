"""No client input produces a 5xx: random methods, paths, bodies and headers against the cart API."""

from __future__ import annotations

import json
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cart.api

from .support import LambdaContext, api_event

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)
cart_bodies = st.fixed_dictionaries(
    {},
    optional={
        "productId": st.sampled_from(["trail-lantern", "no-such-product", "", "x" * 70])
        | st.text(max_size=10),
        "quantity": st.integers(-2000, 2000) | json_values,
    },
)
bodies = st.one_of(
    st.none(),
    cart_bodies.map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=50),
)
paths = st.one_of(
    st.sampled_from(["/cart", "/cart/migrate", "/cart/checkout", "/cart/totals", "/cart/trail-lantern"]),
    st.text(alphabet="abc-%/_.;:@ é", max_size=20).map(lambda tail: "/cart/" + tail),
    st.text(alphabet="abc-%_.;", min_size=1, max_size=10).map(lambda segment: f"/cart/{segment}/total"),
)
header_values = st.text(max_size=40)
headers = st.fixed_dictionaries(
    {},
    optional={
        "Authorization": header_values | st.just("Bearer x.y.z"),
        "Cookie": header_values | st.just(f"cartId={uuid.uuid4()}"),
        "Content-Type": st.sampled_from(["application/json", "text/plain", "multipart/form-data", ""]),
        "Host": header_values,
        "X-Forwarded-Proto": header_values,
        "Origin": header_values,
    },
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]),
    path=paths,
    body=bodies,
    request_headers=headers,
)
def test_no_request_produces_a_server_error(aws, method, path, body, request_headers):
    result = cart.api.handler(api_event(method, path, headers=request_headers, body=body), LambdaContext())

    assert result["statusCode"] < 500, result
    if result["statusCode"] != 204:
        assert "message" in json.loads(result["body"]) or result["statusCode"] == 200
