"""API errors reach the shopper: a failed call shows the server's message in an alert banner, the cart
is rolled back to what the server holds, and the shop keeps working afterwards."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, Route, expect

from tests.e2e.conftest import BrowserErrors
from tests.e2e.helpers import CartApi, Shop
from tests.support.local_stack import RunningStack

pytestmark = pytest.mark.e2e


def test_a_failing_cart_call_shows_its_message(
    page: Page, local_stack: RunningStack, browser_errors: BrowserErrors
) -> None:
    browser_errors.allow(r"status of 503")
    message = "The cart service is down for maintenance."
    cart_url = f"{local_stack.config['cartApiUrl'].rstrip('/')}/cart"
    failed: list[str] = []

    def fail_one_add(route: Route) -> None:
        if route.request.method == "POST" and not failed:
            failed.append(route.request.post_data or "")
            route.fulfill(status=503, content_type="application/json", body=json.dumps({"message": message}))
        else:
            route.continue_()

    page.route(cart_url, fail_one_add)
    shop = Shop(page).open()
    shop.plus("camp-pillow")
    banner = shop.expect_error(message, app_wide=True)
    assert json.loads(failed[0]) == {"productId": "camp-pillow", "quantity": 1}
    # Rolled back: the shop shows what the server holds.
    shop.wait_settled()
    shop.expect_in_cart("camp-pillow", 0)
    shop.expect_count(0)
    assert CartApi(local_stack, page.request).quantities() == {}

    # Dismissed, and the next try works.
    banner.get_by_test_id("error-dismiss").click()
    shop.expect_no_error()
    shop.plus("camp-pillow")
    shop.wait_settled()
    shop.expect_in_cart("camp-pillow", 1)
    shop.expect_no_error()
    assert CartApi(local_stack, page.request).quantities() == {"camp-pillow": 1}


def test_products_failing_to_load_shows_why_and_can_be_retried(
    page: Page, local_stack: RunningStack, browser_errors: BrowserErrors
) -> None:
    browser_errors.allow(r"status of 503")
    product_url = f"{local_stack.config['productApiUrl'].rstrip('/')}/product"
    message = "The product service is unavailable."
    page.route(
        product_url,
        lambda route: route.fulfill(
            status=503, content_type="application/json", body=json.dumps({"message": message})
        ),
    )
    page.goto("/")
    shop = Shop(page)
    expect(shop.by("products-empty")).to_contain_text("The products could not be loaded.")
    shop.expect_error(message, app_wide=True)

    page.unroute(product_url)
    shop.by("products-retry").click()
    expect(shop.by("product-card")).to_have_count(16)
    shop.expect_no_error()


def test_a_server_refusal_shows_the_servers_message(
    page: Page, local_stack: RunningStack, browser_errors: BrowserErrors
) -> None:
    browser_errors.allow(r"status of 4\d\d .*/cart")
    shop = Shop(page).open()
    api = CartApi(local_stack, page.request)

    # Typed quantities outside 0..1000 are refused before anything is sent.
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url) if "/cart" in request.url else None)
    shop.type_quantity("insulated-pad", 1001)
    shop.expect_error("Enter a whole number from 0 to 1000.", app_wide=True)
    shop.expect_in_cart("insulated-pad", 0)
    assert sent == []
    shop.by("error-dismiss").click()
    shop.expect_no_error()

    # Another tab (same cookie) fills the line to the maximum; this page does not know yet, and the
    # server refuses the next add (a 4xx) and says why.
    api.add("insulated-pad", 1000)
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/cart")) as refused:
        shop.plus("insulated-pad")
    response = refused.value
    assert 400 <= response.status < 500
    server_message = response.json()["message"]
    assert "1000" in server_message
    shop.expect_error(server_message, app_wide=True)
    # The page then shows what the server holds.
    shop.wait_settled()
    shop.expect_in_cart("insulated-pad", 1000)
    shop.expect_count(1000)
    assert api.quantities() == {"insulated-pad": 1000}
