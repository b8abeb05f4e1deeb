"""Checkout in the browser: sign-in required (and back), the order summary, the mock payment form's
validation, the order confirmation, and an empty cart afterwards."""

from __future__ import annotations

import datetime

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import CartApi, Shop, catalogue, create_user, money, screenshot, wait_for_path
from tests.support.local_stack import RunningStack

pytestmark = pytest.mark.e2e

TIMES = "\u00d7"  # the multiplication sign between a name and its quantity
FIELDS = ("card-number", "card-name", "card-expiry", "card-cvc")


def fill_payment(shop: Shop, number: str, name: str, expiry: str, cvc: str) -> None:
    for field, value in zip(FIELDS, (number, name, expiry, cvc), strict=True):
        shop.by(field).fill(value)
        shop.by(field).blur()


def expect_field_errors(shop: Shop, errors: dict[str, str]) -> None:
    for field in FIELDS:
        message = shop.by(f"{field}-error")
        if field in errors:
            expect(message).to_have_text(errors[field])
            expect(shop.by(field)).to_have_attribute("aria-invalid", "true")
            expect(shop.by(field)).to_have_attribute("aria-describedby", f"{field}-error")
        else:
            expect(message).to_have_count(0)
            expect(shop.by(field)).to_have_attribute("aria-invalid", "false")


def test_checkout(page: Page, local_stack: RunningStack) -> None:
    # A fixed, readable address: the screenshot shows it.
    email = create_user(local_stack, email="ada@example.com")
    user_api = CartApi(local_stack, page.request, local_stack.sign_in(email))
    user_api.clear()
    prices = {pid: p["price"] for pid, p in catalogue(local_stack, page.request).items()}
    shop = Shop(page).open()
    shop.plus("canister-stove", times=2)
    shop.type_quantity("collapsible-bottle", 3)
    shop.wait_settled()
    order = {"canister-stove": 2, "collapsible-bottle": 3}
    total = sum(prices[p] * q for p, q in order.items())

    # Anonymous: checking out asks for a sign-in first, then comes back.
    shop.open_drawer()
    shop.by("checkout-button").click()
    assert wait_for_path(page, "/signin") == {"redirect": "/checkout"}
    expect(shop.by("signin-purpose")).to_have_text("Sign in to check out.")
    shop.sign_in(email, from_header=False)
    wait_for_path(page, "/checkout")

    summary = shop.by("checkout-summary")
    expect(summary.get_by_test_id("summary-line")).to_have_count(2)
    for product_id, quantity in order.items():
        line = summary.locator(f'[data-testid="summary-line"][data-product-id="{product_id}"]')
        expect(line).to_contain_text(f"{TIMES} {quantity}")
        expect(line.get_by_test_id("summary-line-total")).to_have_text(money(prices[product_id] * quantity))
    expect(shop.by("summary-total")).to_have_text(money(total))
    pay = shop.by("pay-button")
    expect(pay).to_have_text(f"Pay {money(total)} and place order")
    assert user_api.quantities() == order

    # Submitting an empty form explains every field and focuses the first.
    pay.click()
    expect_field_errors(
        shop,
        {
            "card-number": "Enter the card number.",
            "card-name": "Enter the name on the card.",
            "card-expiry": "Enter the expiry date.",
            "card-cvc": "Enter the security code (CVC).",
        },
    )
    expect(shop.by("card-number")).to_be_focused()

    # Bad input is explained field by field, and nothing is bought.
    fill_payment(shop, "4242 4242 4242 4241", "A", "13/30", "12")
    expect_field_errors(
        shop,
        {
            "card-number": "This card number is not valid. Check it for typos.",
            "card-name": "The name on the card is too short.",
            "card-expiry": "The expiry month must be between 01 and 12.",
            "card-cvc": "The security code must be 3 or 4 digits.",
        },
    )
    fill_payment(shop, "4242 4242 42", "Ada Lovelace", "01/20", "12a")
    expect_field_errors(
        shop,
        {
            "card-number": "The card number must have 12 to 19 digits.",
            "card-expiry": "This card has expired.",
            "card-cvc": "The security code must be 3 or 4 digits.",
        },
    )
    pay.click()
    expect(shop.by("card-number")).to_be_focused()
    wait_for_path(page, "/checkout")
    assert user_api.quantities() == order

    next_year = (datetime.date.today().year + 1) % 100
    fill_payment(shop, "4242 4242 4242 4242", "Ada Lovelace", f"12{next_year:02d}", "123")
    expect(shop.by("card-expiry")).to_have_value(f"12/{next_year:02d}")  # typed as MMYY
    expect_field_errors(shop, {})
    shop.wait_settled()
    screenshot(page, "checkout")

    pay.click()
    wait_for_path(page, "/order/complete")
    confirmation = shop.by("order-confirmation")
    expect(confirmation).to_contain_text("your order is confirmed")
    expect(confirmation.get_by_test_id("order-line")).to_have_count(2)
    for product_id, quantity in order.items():
        name = catalogue(local_stack, page.request)[product_id]["name"]
        expect(confirmation.get_by_test_id("order-line").filter(has_text=name)).to_contain_text(
            f"{TIMES} {quantity}"
        )
    expect(shop.by("order-total")).to_have_text(money(total))

    # The cart is empty, in the browser and on the server.
    shop.expect_count(0)
    assert user_api.quantities() == {}
    shop.open()
    shop.expect_count(0)
    assert set(shop.in_cart_texts().values()) == {"Not in cart"}
    page.goto("/checkout")
    expect(shop.by("checkout-empty")).to_be_visible()
    expect(shop.by("pay-button")).to_be_disabled()
