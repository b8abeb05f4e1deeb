"""Keyboard and accessibility basics: every control has an accessible name, the shop works from the
keyboard, and the phone-width layout does not scroll sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import Shop, screenshot

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 812}

# Buttons, links and form fields with no accessible name (a simplified accessible-name computation:
# aria-labelledby, aria-label, then a field's <label>s or an element's text, then title).
UNNAMED_CONTROLS = """() => {
  const text = (el) => (el?.textContent || '').replace(/\\s+/g, ' ').trim()
  const name = (el) => {
    const ids = el.getAttribute('aria-labelledby')
    if (ids) return ids.split(/\\s+/).map((id) => text(document.getElementById(id))).join(' ').trim()
    const label = (el.getAttribute('aria-label') || '').trim()
    if (label) return label
    if (el.matches('input, select, textarea')) return [...(el.labels || [])].map(text).join(' ').trim()
    return text(el) || (el.getAttribute('title') || '').trim()
  }
  const controls = [...document.querySelectorAll(
    'button, [role="button"], a[href], input:not([type="hidden"]), select, textarea')]
  return {
    count: controls.length,
    unnamed: controls.filter((el) => !name(el)).map((el) => el.outerHTML.slice(0, 160)),
  }
}"""

OVERFLOW = """() => {
  const width = document.documentElement.clientWidth
  const wide = [...document.querySelectorAll('body *')]
    .filter((el) => { const r = el.getBoundingClientRect(); return r.width > 0 && (r.right > width + 1 || r.left < -1) })
    .filter((el) => !el.closest('.visually-hidden, .skip-link'))
    .map((el) => `${el.tagName.toLowerCase()}.${el.className} ${Math.round(el.getBoundingClientRect().right)}px`)
  return {
    width,
    scrollWidth: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),
    wide: wide.slice(0, 10),
  }
}"""


def expect_every_control_named(page: Page, minimum: int) -> None:
    result = page.evaluate(UNNAMED_CONTROLS)
    assert result["count"] >= minimum, result
    assert result["unnamed"] == [], "controls without an accessible name"


def expect_no_horizontal_overflow(page: Page) -> None:
    result = page.evaluate(OVERFLOW)
    assert result["scrollWidth"] <= result["width"], result
    assert result["wide"] == [], result


def test_every_control_on_the_shop_has_an_accessible_name(page: Page) -> None:
    shop = Shop(page).open()
    shop.plus("trail-lantern")
    shop.plus("daypack-20l")
    shop.wait_settled()
    # 16 cards x (minus, quantity, plus), the header's links and cart button.
    expect_every_control_named(page, minimum=16 * 3 + 4)
    expect(
        shop.card("trail-lantern").get_by_role("button", name="Add one Trail Lantern to cart")
    ).to_be_visible()
    expect(shop.card("trail-lantern").get_by_label("Quantity of Trail Lantern in cart")).to_have_value("1")
    expect(shop.by("cart-button")).to_have_accessible_name("Open cart, 2 items")

    shop.open_drawer()
    expect_every_control_named(page, minimum=16 * 3 + 4 + 2 * 4 + 2)
    expect(shop.by("cart-drawer")).to_have_attribute("role", "dialog")
    expect(shop.by("cart-drawer")).to_have_accessible_name("Your cart")


def test_the_shop_works_from_the_keyboard(page: Page) -> None:
    shop = Shop(page).open()

    # The first Tab reaches the skip link, which moves focus to the content.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()

    # Tab on to the first product's plus button; Enter and Space press it.
    plus = shop.card("trail-lantern").get_by_test_id("qty-plus")
    for _ in range(20):
        page.keyboard.press("Tab")
        if plus.evaluate("(el) => el === document.activeElement"):
            break
    expect(plus).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Space")
    shop.wait_settled()
    shop.expect_in_cart("trail-lantern", 2)

    # Shift+Tab back to the quantity field; typing and Enter sets it.
    page.keyboard.press("Shift+Tab")
    quantity = shop.card("trail-lantern").get_by_test_id("qty-input")
    expect(quantity).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("4")
    page.keyboard.press("Enter")
    shop.wait_settled()
    shop.expect_in_cart("trail-lantern", 4)

    # The cart opens from the keyboard with focus inside, keeps Tab inside, and Escape closes it,
    # returning focus to the cart button.
    cart_button = shop.by("cart-button")
    cart_button.focus()
    page.keyboard.press("Enter")
    drawer = shop.by("cart-drawer")
    expect(drawer).to_be_visible()
    expect(shop.by("cart-close")).to_be_focused()
    for _ in range(8):
        page.keyboard.press("Tab")
        assert drawer.evaluate("(el) => el.contains(document.activeElement)"), "focus left the open cart"
    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()
    expect(cart_button).to_be_focused()


def test_phone_layout_has_no_horizontal_overflow(new_context) -> None:
    page = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    shop = Shop(page).open()
    shop.plus("trail-lantern", times=2)
    shop.plus("titanium-pot")
    shop.wait_settled()
    shop.wait_images()
    expect_no_horizontal_overflow(page)
    expect(shop.by("cart-count")).to_be_visible()
    expect(shop.card("trail-lantern").get_by_test_id("qty-plus")).to_be_in_viewport()
    screenshot(page, "phone")

    shop.open_drawer()
    expect_no_horizontal_overflow(page)
    expect(shop.by("checkout-button")).to_be_in_viewport()
    shop.close_drawer()

    for path in ("/signin", "/signup", "/admin", "/no-such-page"):
        page.goto(path)
        expect(page.locator("main h1")).to_be_visible()
        expect_no_horizontal_overflow(page)
