"""The anonymous cart in the browser: product cards, the header count and the drawer agree with each
other and with `GET /cart`; the cart survives a browser restart through its cookie."""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.helpers import CartApi, Shop, catalogue, money, screenshot
from tests.support.local_stack import RunningStack

pytestmark = pytest.mark.e2e


def expect_drawer_matches_api(shop: Shop, api: CartApi, prices: dict[str, int]) -> dict[str, int]:
    """The drawer's lines, line totals and total are what the server's cart holds."""
    server = api.quantities()
    expected_lines = {pid: (qty, money(prices[pid] * qty)) for pid, qty in server.items()}
    assert shop.drawer_lines() == expected_lines
    expect(shop.by("cart-total")).to_have_text(money(sum(prices[p] * q for p, q in server.items())))
    shop.expect_count(sum(server.values()))
    return server


def test_product_images_render(page: Page, local_stack: RunningStack) -> None:
    shop = Shop(page).open()
    products = catalogue(local_stack, page.request)
    assert len(products) == 16
    shop.wait_images()
    expect(shop.by("product-image")).to_have_count(len(products))
    expect(shop.by("product-image-fallback")).to_have_count(0)
    for product_id, product in products.items():
        assert product["image"] == f"/images/{product_id}.svg"
        image = shop.card(product_id).get_by_test_id("product-image")
        expect(image).to_have_attribute("src", product["image"])
        response = page.request.get(product["image"])
        assert response.ok
        assert response.headers["content-type"].startswith("image/svg+xml")
        assert len(response.body()) < 3 * 1024, f"{product_id}.svg is over 3 KB"


def test_anonymous_add_remove_and_edit(page: Page, local_stack: RunningStack) -> None:
    shop = Shop(page).open()
    api = CartApi(local_stack, page.request)
    prices = {pid: p["price"] for pid, p in catalogue(local_stack, page.request).items()}
    assert api.quantities() == {}
    shop.expect_count(0)

    # Add with plus, clicked quickly: the changes queue up and all land.
    shop.plus("trail-lantern", times=3)
    shop.plus("water-filter")
    shop.wait_settled()
    shop.expect_in_cart("trail-lantern", 3)
    shop.expect_in_cart("water-filter", 1)
    shop.expect_count(4)
    assert api.quantities() == {"trail-lantern": 3, "water-filter": 1}

    # Remove with minus.
    shop.minus("trail-lantern")
    shop.wait_settled()
    shop.expect_in_cart("trail-lantern", 2)
    expect(shop.card("trail-lantern").get_by_test_id("qty-minus")).to_be_enabled()

    # Edit by typing: a product not yet in the cart, then one already in it.
    shop.type_quantity("dome-tent-2p", 4)
    shop.wait_settled()
    shop.type_quantity("dome-tent-2p", 2)
    shop.wait_settled()
    shop.expect_in_cart("dome-tent-2p", 2)
    shop.expect_count(5)
    assert api.quantities() == {"trail-lantern": 2, "water-filter": 1, "dome-tent-2p": 2}

    # Minus down to zero removes the line and disables the button.
    shop.minus("water-filter")
    shop.wait_settled()
    shop.expect_in_cart("water-filter", 0)
    expect(shop.card("water-filter").get_by_test_id("qty-minus")).to_be_disabled()
    assert api.quantities() == {"trail-lantern": 2, "dome-tent-2p": 2}

    shop.plus("first-aid-kit")
    shop.wait_settled()
    shop.wait_images()
    screenshot(page, "shop")

    drawer = shop.open_drawer()
    expect(shop.by("cart-line")).to_have_count(3)
    expect(shop.line("dome-tent-2p").get_by_test_id("cart-line-name")).to_have_text("Two-Person Dome Tent")
    server = expect_drawer_matches_api(shop, api, prices)
    assert server == {"trail-lantern": 2, "dome-tent-2p": 2, "first-aid-kit": 1}
    expect(drawer.get_by_test_id("checkout-button")).to_be_enabled()
    screenshot(page, "cart-drawer")

    # The drawer's own controls edit the same cart.
    shop.type_quantity("trail-lantern", 5, within=shop.line("trail-lantern"))
    shop.line("dome-tent-2p").get_by_test_id("qty-minus").click()
    shop.wait_settled()
    shop.line("first-aid-kit").get_by_test_id("cart-line-remove").click()
    shop.wait_settled()
    expect(shop.by("cart-line")).to_have_count(2)
    server = expect_drawer_matches_api(shop, api, prices)
    assert server == {"trail-lantern": 5, "dome-tent-2p": 1}
    shop.close_drawer()
    shop.expect_in_cart("trail-lantern", 5)
    shop.expect_in_cart("dome-tent-2p", 1)
    shop.expect_in_cart("first-aid-kit", 0)

    # Typing 0 removes; the drawer shows the empty cart.
    shop.type_quantity("trail-lantern", 0)
    shop.minus("dome-tent-2p")
    shop.wait_settled()
    shop.expect_count(0)
    assert api.quantities() == {}
    shop.open_drawer()
    expect(shop.by("cart-empty")).to_be_visible()
    expect(shop.by("cart-total")).to_have_text(money(0))
    expect(shop.by("checkout-button")).to_be_disabled()


def test_cart_survives_a_browser_restart(new_context, local_stack: RunningStack) -> None:
    first: BrowserContext = new_context()
    page = first.new_page()
    shop = Shop(page).open()
    shop.plus("headlamp-pro", times=2)
    shop.type_quantity("titanium-pot", 3)
    shop.wait_settled()
    expected = {"headlamp-pro": 2, "titanium-pot": 3}
    assert CartApi(local_stack, page.request).quantities() == expected

    # The cart's cookie: HttpOnly (invisible to scripts), SameSite=Lax, for the whole origin.
    (cookie,) = [c for c in first.cookies() if c["name"] == "cartId"]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["path"] == "/"
    assert cookie["expires"] > 0, "a session cookie would not survive a browser restart"
    assert "cartId" not in page.evaluate("document.cookie")

    # A reload keeps it.
    shop.open()
    shop.expect_in_cart("headlamp-pro", 2)
    shop.expect_in_cart("titanium-pot", 3)

    # A new browser with the first one's cookies (the browser restarted) shows the same cart.
    state = first.storage_state()
    first.close()
    second: BrowserContext = new_context(storage_state=state)
    page = second.new_page()
    shop = Shop(page).open()
    shop.expect_count(5)
    shop.expect_in_cart("headlamp-pro", 2)
    shop.expect_in_cart("titanium-pot", 3)
    shop.open_drawer()
    assert {pid: qty for pid, (qty, _) in shop.drawer_lines().items()} == expected

    # A browser without them has its own, empty cart.
    other = Shop(new_context().new_page()).open()
    other.expect_count(0)
    assert CartApi(local_stack, other.page.request).quantities() == {}
