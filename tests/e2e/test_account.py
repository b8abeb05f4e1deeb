"""Accounts in the browser: sign up with the confirmation code, sign in merging the anonymous cart into
the user's (quantities summed), sign out leaving an empty cart."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import BrowserErrors
from tests.e2e.helpers import (
    CONFIRMATION_CODE,
    CartApi,
    Shop,
    catalogue,
    create_user,
    money,
    new_email,
    wait_for_path,
)
from tests.support.local_stack import PASSWORD, RunningStack

pytestmark = pytest.mark.e2e


def test_sign_up_confirm_and_sign_in(page: Page, local_stack: RunningStack) -> None:
    shop = Shop(page).open()
    email = new_email("signup")

    shop.by("signup-link").click()
    expect(shop.by("signup-form")).to_be_visible()
    shop.by("signup-email").fill(email)
    shop.by("signup-password").fill(PASSWORD)
    shop.by("signup-repeat").fill(PASSWORD + "x")
    shop.by("signup-submit").click()
    shop.expect_error("The passwords do not match.")
    expect(page).to_have_url("/signup")

    shop.by("signup-repeat").fill(PASSWORD)
    shop.by("signup-submit").click()
    assert wait_for_path(page, "/confirm") == {"email": email}
    expect(shop.by("confirm-email")).to_have_value(email)
    # The account cannot be used before it is confirmed.
    with pytest.raises(Exception, match="UserNotConfirmed"):
        local_stack.sign_in(email)

    shop.by("confirm-code").fill(CONFIRMATION_CODE)
    shop.by("confirm-submit").click()
    expect(shop.by("signin-confirmed")).to_be_visible()
    assert wait_for_path(page, "/signin") == {"email": email, "confirmed": "1"}
    expect(shop.by("signin-email")).to_have_value(email)

    shop.sign_in(email, from_header=False)
    expect(page).to_have_url("/")
    expect(shop.by("signout-button")).to_be_visible()
    expect(shop.by("admin-link")).to_have_count(0)
    assert local_stack.sign_in(email), "the account signs in outside the browser too"

    # The session is kept across a reload.
    shop.open()
    expect(shop.by("user-email")).to_have_text(email)


def test_sign_in_with_a_wrong_password_is_refused(
    page: Page, local_stack: RunningStack, browser_errors: BrowserErrors
) -> None:
    # Cognito answers 400, which Chromium logs.
    browser_errors.allow(r"status of 400 .*_aws/cognito-idp")
    email = create_user(local_stack, "wrongpw")
    shop = Shop(page).open()
    shop.by("signin-link").click()
    shop.by("signin-email").fill(email)
    shop.by("signin-password").fill("Wr0ng-password!")
    shop.by("signin-submit").click()
    banner = shop.by("error-banner")
    expect(banner.or_(shop.by("user-email"))).to_be_visible()
    expect(banner, "signed in with a wrong password").to_be_visible(timeout=1)
    expect(banner).to_contain_text("Incorrect username or password")
    expect(shop.by("signin-link")).to_be_visible()
    assert wait_for_path(page, "/signin") == {}


def test_sign_in_merges_the_anonymous_cart_into_the_users(page: Page, local_stack: RunningStack) -> None:
    email = create_user(local_stack, "migrate")
    token = local_stack.sign_in(email)
    user_api = CartApi(local_stack, page.request, token)
    user_api.add("trail-lantern", 2)
    user_api.add("titanium-pot", 1)
    prices = {pid: p["price"] for pid, p in catalogue(local_stack, page.request).items()}

    shop = Shop(page).open()
    anonymous_api = CartApi(local_stack, page.request)
    shop.plus("trail-lantern", times=3)
    shop.plus("water-filter")
    shop.wait_settled()
    assert anonymous_api.quantities() == {"trail-lantern": 3, "water-filter": 1}
    shop.expect_count(4)

    shop.sign_in(email)
    merged = {"trail-lantern": 5, "titanium-pot": 1, "water-filter": 1}
    shop.expect_count(7)
    shop.expect_in_cart("trail-lantern", 5)
    shop.expect_in_cart("titanium-pot", 1)
    shop.expect_in_cart("water-filter", 1)
    shop.open_drawer()
    assert shop.drawer_lines() == {pid: (qty, money(prices[pid] * qty)) for pid, qty in merged.items()}
    expect(shop.by("cart-total")).to_have_text(money(sum(prices[p] * q for p, q in merged.items())))

    assert user_api.quantities() == merged
    # The browser was given a fresh anonymous cart: the merged lines are counted once, in the user's.
    assert anonymous_api.quantities() == {}

    # Changes now go to the user's cart.
    shop.line("water-filter").get_by_test_id("qty-plus").click()
    shop.wait_settled()
    assert user_api.quantities() == {**merged, "water-filter": 2}


def test_sign_out_empties_the_cart_view(page: Page, local_stack: RunningStack) -> None:
    email = create_user(local_stack, "signout")
    shop = Shop(page).open()
    shop.sign_in(email)
    shop.expect_count(0)
    shop.plus("daypack-20l", times=2)
    shop.type_quantity("trekking-poles", 3)
    shop.wait_settled()
    shop.expect_count(5)
    user_api = CartApi(local_stack, page.request, local_stack.sign_in(email))
    assert user_api.quantities() == {"daypack-20l": 2, "trekking-poles": 3}

    shop.sign_out()
    expect(shop.by("user-email")).to_have_count(0)
    shop.expect_count(0)
    assert set(shop.in_cart_texts().values()) == {"Not in cart"}
    shop.open_drawer()
    expect(shop.by("cart-empty")).to_be_visible()
    expect(shop.by("cart-line")).to_have_count(0)
    shop.close_drawer()
    assert CartApi(local_stack, page.request).quantities() == {}
    # A reload still shows the empty anonymous cart, not the user's.
    shop.open()
    shop.expect_count(0)

    # The user's cart is kept for the next sign-in.
    assert user_api.quantities() == {"daypack-20l": 2, "trekking-poles": 3}
    shop.sign_in(email)
    shop.expect_count(5)
    shop.expect_in_cart("trekking-poles", 3)
