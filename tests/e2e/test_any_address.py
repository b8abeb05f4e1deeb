"""The shop works at whatever address it was opened: 127.0.0.1 as well as localhost, and a name that
is not this machine's (as a phone on the LAN opening `HOST=0.0.0.0 make dev` by address, over http).
config.json gives same-origin paths, and the cart cookie is Secure only when the client used https."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Browser, Page, Playwright, expect

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP, TIMEOUT_MS, BrowserErrors
from tests.e2e.helpers import Shop
from tests.support.local_stack import RunningStack

pytestmark = pytest.mark.e2e

# Resolved by the browser only (no DNS, no /etc/hosts): a host name that is neither localhost nor an
# address of the loopback interface, as the storefront sees a LAN address.
LAN_NAME = "shop.lan.test"


def add_and_reload(page: Page, origin: str) -> None:
    """Adds a product on the shop at `origin`; the cart is still there after a reload (its cookie
    was kept) and every request went to the page's own origin."""
    requests_seen: list[str] = []
    page.on("request", lambda request: requests_seen.append(request.url))
    page.goto(origin + "/")
    shop = Shop(page)
    expect(shop.by("product-grid")).to_be_visible()
    shop.wait_cart_loaded()
    shop.plus("trail-lantern", times=2)
    shop.wait_settled()
    shop.expect_in_cart("trail-lantern", 2)

    page.reload()
    shop.wait_cart_loaded()
    shop.expect_in_cart("trail-lantern", 2)
    shop.expect_count(2)
    elsewhere = [url for url in requests_seen if not url.startswith(origin + "/")]
    assert elsewhere == [], "requests left the page's origin"
    assert any("/cart" in url for url in requests_seen)

    cookies = {c["name"]: c for c in page.context.cookies(origin)}
    assert cookies["cartId"]["secure"] is False, "over plain http a Secure cookie would be dropped"


def test_config_json_gives_same_origin_paths(local_stack: RunningStack) -> None:
    config = requests.get(f"{local_stack.url}/config.json", timeout=30).json()
    for key in ("cartApiUrl", "productApiUrl", "userPoolEndpoint"):
        assert config[key].startswith("/"), f"{key} is {config[key]!r}, not a same-origin path"
        assert not config[key].startswith("//")


def test_shop_at_127_0_0_1(
    browser: Browser, local_stack: RunningStack, browser_errors: BrowserErrors
) -> None:
    origin = f"http://127.0.0.1:{local_stack.port}"
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    context.on("page", browser_errors.watch)
    try:
        add_and_reload(context.new_page(), origin)
    finally:
        context.close()


@pytest.fixture
def lan_browser(playwright: Playwright) -> Iterator[Browser]:
    rules = f"--host-resolver-rules=MAP {LAN_NAME} 127.0.0.1"
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, rules])
    yield browser
    browser.close()


def test_shop_at_a_lan_name_over_http(
    lan_browser: Browser, local_stack: RunningStack, browser_errors: BrowserErrors
) -> None:
    origin = f"http://{LAN_NAME}:{local_stack.port}"
    # The storefront's headers are CloudFront's (https); over plain http to a name that is not
    # localhost, Chromium says it ignores Cross-Origin-Opener-Policy. Nothing else may go wrong.
    browser_errors.allow(r"Cross-Origin-Opener-Policy header has been ignored")
    context = lan_browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    context.on("page", browser_errors.watch)
    try:
        add_and_reload(context.new_page(), origin)
    finally:
        context.close()
