"""Concurrency through the local stack: many browsers at once, every Lambda in its own worker
processes (at most 4 per function), DynamoDB behind moto's per-request lock, the stream and the
aggregator as deployed (with the tests' 1 s batching window). The 20 x 50 adds are in test_volume.py,
the migration races in test_concurrency_migrations.py."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.local_stack import RunningStack

from .http_support import Shopper, assert_totals_equal_a_full_scan, new_user

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_many_carts_changing_at_once_leave_totals_equal_to_a_full_scan(
    local_stack: RunningStack, cart_api: str, product_ids: list[str], admin_token: str
):
    rng = random.Random(1)
    users = [new_user(local_stack)[1] for _ in range(4)]
    shoppers = [Shopper(cart_api) for _ in range(20)] + [Shopper(cart_api, token) for token in users]
    products = product_ids[:6]
    # Per shopper, a script of adds, removes and sets; a few sign in and migrate, the users check out.
    scripts = []
    for shopper in shoppers:
        steps = []
        for _ in range(10):
            product = rng.choice(products)
            kind = rng.choice(["add", "add", "remove", "set"])
            steps.append((kind, product, rng.randint(1, 5)))
        scripts.append((shopper, steps))

    def run(script) -> None:
        shopper, steps = script
        for kind, product, quantity in steps:
            if kind == "add":
                response = shopper.add(product, quantity)
            elif kind == "remove":
                response = shopper.add(product, -quantity)
            else:
                response = shopper.set(product, quantity)
            assert response.status_code == 200, response.text
            assert response.json()["quantity"] >= 0

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(run, scripts))
    # Some anonymous carts move into the users' carts while the users keep shopping, then two users
    # check out while others add: migrations and checkouts race with plain writes.
    movers = [(shoppers[i].with_cookie(shoppers[i].cart_id), users[i]) for i in range(4)]

    def until_not_409(send) -> None:
        # A migration or checkout that keeps losing races with writes to the same cart answers 409
        # (documented: "the cart changed, try again"), after its own retries; a client tries again.
        for _ in range(5):
            response = send()
            if response.status_code != 409:
                break
        assert response.status_code == 200, response.text

    def migrate(pair) -> None:
        browser, token = pair
        browser.token = token
        until_not_409(browser.migrate)

    def checkout(token: str) -> None:
        until_not_409(Shopper(cart_api, token).checkout)

    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(migrate, pair) for pair in movers]
        futures += [pool.submit(checkout, token) for token in users[2:]]
        futures += [pool.submit(run, script) for script in scripts[-4:]]
        for future in futures:
            future.result()

    for shopper in shoppers:
        assert all(quantity > 0 for quantity in shopper.cart().values())
    assert_totals_equal_a_full_scan(local_stack, admin_token)
