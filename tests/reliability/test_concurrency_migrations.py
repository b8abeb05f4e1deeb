"""Migration races through the local stack: ten concurrent POST /cart/migrate for one anonymous cart
(a double click, a retry, several tabs signing in at once) merge it exactly once, also while the old
cookie keeps adding to the anonymous cart."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.support.local_stack import RunningStack

from .http_support import (
    Shopper,
    assert_totals_equal_a_full_scan,
    new_user,
    quantities,
    stored_lines,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CALLERS = 10


def _concurrently(count: int, action) -> list:
    start = threading.Barrier(count)

    def run(index: int):
        start.wait()
        return action(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_ten_concurrent_migrations_merge_the_anonymous_cart_exactly_once(
    local_stack: RunningStack, cart_api: str, product_ids: list[str], admin_token: str
):
    first, second, third = product_ids[:3]
    _, token = new_user(local_stack)
    signed_in = Shopper(cart_api, token)
    # The user's cart already holds two of the products: only the marks on the anonymous lines can
    # stop a second migration from adding them again.
    assert signed_in.add(first, 2).status_code == 200
    assert signed_in.add(second, 1).status_code == 200
    browser = Shopper(cart_api)
    for product, quantity in ((first, 3), (second, 4), (third, 5)):
        assert browser.add(product, quantity).status_code == 200
    cart_id = browser.cart_id
    tabs = [browser.with_cookie(cart_id) for _ in range(CALLERS)]
    for tab in tabs:
        tab.token = token

    responses: list[requests.Response] = _concurrently(CALLERS, lambda i: tabs[i].migrate())

    merged = {first: 5, second: 5, third: 5}
    assert [r.status_code for r in responses] == [200] * CALLERS, [r.text for r in responses]
    # Every caller is answered with the merged cart, and every one gets a fresh cookie of its own.
    assert all(quantities(r.json()) == merged for r in responses)
    fresh = {r.cookies.get("cartId") for r in responses}
    assert len(fresh) == CALLERS
    assert cart_id not in fresh
    assert signed_in.cart() == merged
    assert Shopper(cart_api).with_cookie(cart_id).cart() == {}  # the old cookie reads an empty cart
    # Each anonymous line was marked once, for this user; the delete worker then removes them.
    assert_totals_equal_a_full_scan(local_stack, admin_token)
    assert stored_lines(local_stack, f"cart#{cart_id}") == {}


def test_migrations_racing_with_adds_through_the_old_cookie_lose_and_count_nothing_twice(
    local_stack: RunningStack, cart_api: str, product_ids: list[str], admin_token: str
):
    product = product_ids[3]
    _, token = new_user(local_stack)
    browser = Shopper(cart_api)
    assert browser.add(product, 5).status_code == 200
    cart_id = browser.cart_id
    migrating = [browser.with_cookie(cart_id) for _ in range(CALLERS)]
    for tab in migrating:
        tab.token = token
    adding = [browser.with_cookie(cart_id) for _ in range(CALLERS)]  # still anonymous

    def act(index: int) -> requests.Response:
        # Half the callers migrate, half add 1 to the anonymous line, all at once.
        return migrating[index].migrate() if index % 2 == 0 else adding[index].add(product, 1)

    responses = _concurrently(CALLERS, act)

    assert [r.status_code for r in responses] == [200] * CALLERS, [r.text for r in responses]
    # Every unit added is in exactly one place: the user's line (moved by a migration) or the
    # anonymous line (an add that came after the last migration revives it).
    user = Shopper(cart_api, token).cart().get(product, 0)
    anonymous = Shopper(cart_api).with_cookie(cart_id).cart().get(product, 0)
    assert user + anonymous == 5 + CALLERS // 2
    assert user >= 5
    assert_totals_equal_a_full_scan(local_stack, admin_token)
