"""The admin totals page: the table and chart show what the carts hold (after the aggregator has
caught up), refresh picks up changes; everyone else is kept out."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import Page, Request, expect

from tests.e2e.helpers import CartApi, Shop, catalogue, create_user, screenshot, wait_for_path
from tests.support.local_stack import RunningStack

pytestmark = pytest.mark.e2e

ADMIN = "admin@example.com"


def shown_totals(shop: Shop) -> tuple[dict[str, int], dict[str, int]]:
    """(table, chart): productId -> quantity as each shows it."""
    table = shop.page.eval_on_selector_all(
        '[data-testid="admin-row"]',
        """(rows) => Object.fromEntries(rows.map((row) => [row.dataset.productId,
            Number(row.querySelector('[data-testid="admin-row-quantity"]').textContent.replace(/,/g, ''))]))""",
    )
    chart = shop.page.eval_on_selector_all(
        '[data-testid="admin-bar"]',
        "(bars) => Object.fromEntries(bars.map((bar) => [bar.dataset.productId, Number(bar.dataset.quantity)]))",
    )
    return table, chart


def expect_page_shows(shop: Shop, totals: dict[str, int], product_ids: list[str]) -> None:
    expected = {pid: totals.get(pid, 0) for pid in product_ids}
    expect(shop.by("admin-row")).to_have_count(len(product_ids))
    expect(shop.by("admin-bar")).to_have_count(len(product_ids))
    table, chart = shown_totals(shop)
    assert table == expected
    assert chart == expected
    expect(shop.by("admin-grand-total")).to_have_text(f"{sum(expected.values()):,}")
    # Bars are drawn to scale: the largest total has the longest bar, an empty product none.
    widths = {
        pid: float(
            shop.page.locator(
                f'[data-testid="admin-bar"][data-product-id="{pid}"] rect[data-testid="admin-bar-rect"]'
            ).get_attribute("width")
        )
        for pid in product_ids
    }
    largest = max(expected.values())
    for pid, quantity in expected.items():
        if quantity == 0:
            assert widths[pid] == 0
        elif quantity == largest:
            assert widths[pid] == max(widths.values())


def test_admin_sees_totals_matching_the_carts(page: Page, local_stack: RunningStack) -> None:
    admin_api = CartApi(local_stack, page.request, local_stack.sign_in(ADMIN))
    product_ids = list(catalogue(local_stack, page.request))
    local_stack.drain()
    before = admin_api.totals()

    # Put known quantities in two carts: an anonymous one and a user's.
    anonymous = requests.Session()
    cart_url = f"{local_stack.config['cartApiUrl'].rstrip('/')}/cart"
    for product_id, quantity in {"trekking-poles": 7, "first-aid-kit": 2, "string-lights": 1}.items():
        response = anonymous.post(cart_url, json={"productId": product_id, "quantity": quantity}, timeout=30)
        assert response.status_code == 200, response.text
    user_api = CartApi(local_stack, page.request, local_stack.sign_in(create_user(local_stack, "totals")))
    user_api.add("trekking-poles", 5)
    user_api.add("emergency-bivy", 4)
    added = {"trekking-poles": 12, "first-aid-kit": 2, "string-lights": 1, "emergency-bivy": 4}

    local_stack.drain()
    totals = admin_api.totals()
    for product_id in product_ids:
        assert totals.get(product_id, 0) == before.get(product_id, 0) + added.get(product_id, 0), product_id

    shop = Shop(page).open()
    shop.sign_in(ADMIN)
    shop.by("admin-link").click()
    wait_for_path(page, "/admin")
    last_refresh = shop.by("admin-last-refresh").locator("time")
    expect(last_refresh).to_have_attribute("datetime", re.compile(r"^\d{4}-\d{2}-\d{2}T"))
    expect(shop.by("admin-refresh")).to_have_attribute("aria-busy", "false")
    expect(shop.by("admin-table")).to_be_visible()
    expect(shop.by("admin-chart")).to_be_visible()
    expect_page_shows(shop, totals, product_ids)
    names = catalogue(local_stack, page.request)
    expect(
        page.locator('[data-testid="admin-row"][data-product-id="emergency-bivy"]').get_by_test_id(
            "admin-row-name"
        )
    ).to_have_text(names["emergency-bivy"]["name"])
    screenshot(page, "admin", full_page=True)

    # A change in a cart shows after a refresh, with a new refresh time.
    first_refresh = last_refresh.get_attribute("datetime")
    user_api.set("emergency-bivy", 1)
    anonymous.post(cart_url, json={"productId": "water-filter", "quantity": 3}, timeout=30).raise_for_status()
    local_stack.drain()
    totals = admin_api.totals()
    assert totals["emergency-bivy"] == before.get("emergency-bivy", 0) + 1
    assert totals["water-filter"] == before.get("water-filter", 0) + 3
    shop.by("admin-refresh").click()
    expect(last_refresh).not_to_have_attribute("datetime", first_refresh)
    expect(shop.by("admin-refresh")).to_have_attribute("aria-busy", "false")
    expect_page_shows(shop, totals, product_ids)


def test_non_admins_are_kept_out_of_the_admin_page(page: Page, local_stack: RunningStack) -> None:
    totals_requests: list[str] = []

    def watch(request: Request) -> None:
        if "/cart/totals" in request.url or request.url.endswith("/total"):
            totals_requests.append(request.url)

    page.on("request", watch)

    # Anonymous: sent to sign in first.
    Shop(page).open("/admin")
    shop = Shop(page)
    assert wait_for_path(page, "/signin") == {"redirect": "/admin"}
    expect(shop.by("signin-purpose")).to_have_text("Sign in to open the admin page.")

    # Signed in, but not in the admin group: told so, and the totals are never requested.
    shop.sign_in(create_user(local_stack, "notadmin"), from_header=False)
    wait_for_path(page, "/admin")
    expect(shop.by("not-authorised")).to_be_visible()
    expect(shop.by("not-authorised")).to_contain_text("Not authorised")
    expect(shop.by("admin-table")).to_have_count(0)
    expect(shop.by("admin-chart")).to_have_count(0)
    expect(shop.by("admin-refresh")).to_have_count(0)
    expect(shop.by("admin-link")).to_have_count(0)
    shop.open("/admin")
    expect(shop.by("not-authorised")).to_be_visible()
    assert totals_requests == []
