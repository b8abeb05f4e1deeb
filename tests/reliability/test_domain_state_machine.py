"""A Hypothesis state machine of the cart domain, run through the local stack: random sequences of
adds, removals, sets, migrations, checkouts and expiry (time made to pass for the TTL sweeper) keep
every cart equal to a model of it, every quantity positive, and the totals equal to the sum of the
carts once the stream is drained.

Bounded to fit the suite's budget: MACHINES runs of at most STEPS steps, each step checked against
all four carts (about 500 requests).
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from tests.support.local_stack import RunningStack

from .http_support import Shopper, assert_totals_equal_a_full_scan, new_user, quantities

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MACHINES = 6
STEPS = 15
ANONYMOUS = ["anonymous-a", "anonymous-b"]
USERS = ["user-a", "user-b"]
DAY = 86400


def test_random_cart_histories_keep_carts_and_totals_exact(
    local_stack: RunningStack, cart_api: str, product_ids: list[str], admin_token: str
):
    tokens = {name: new_user(local_stack)[1] for name in USERS}
    products = st.sampled_from(product_ids[:4])

    class CartHistory(RuleBasedStateMachine):
        @initialize()
        def start(self) -> None:
            # Fresh browsers; the users' carts are emptied (they outlive one run).
            self.shoppers = {name: Shopper(cart_api) for name in ANONYMOUS}
            self.shoppers.update({name: Shopper(cart_api, tokens[name]) for name in USERS})
            for name in USERS:
                assert self.shoppers[name].checkout().status_code == 200
            self.model: dict[str, Counter[str]] = {name: Counter() for name in self.shoppers}

        @rule(
            owner=st.sampled_from(ANONYMOUS + USERS),
            product=products,
            quantity=st.integers(-4, 4).filter(bool),
        )
        def add(self, owner: str, product: str, quantity: int) -> None:
            response = self.shoppers[owner].add(product, quantity)
            assert response.status_code == 200, response.text
            line = self.model[owner]
            line[product] = max(line[product] + quantity, 0)
            assert response.json()["quantity"] == line[product]

        @rule(owner=st.sampled_from(ANONYMOUS + USERS), product=products, quantity=st.integers(0, 4))
        def set(self, owner: str, product: str, quantity: int) -> None:
            response = self.shoppers[owner].set(product, quantity)
            assert response.status_code == 200, response.text
            self.model[owner][product] = quantity

        @rule(anonymous=st.sampled_from(ANONYMOUS), user=st.sampled_from(USERS))
        def migrate(self, anonymous: str, user: str) -> None:
            browser = self.shoppers[anonymous]
            browser.token = tokens[user]
            response = browser.migrate()
            browser.token = None  # signed out again, with the fresh anonymous cookie it was given
            assert response.status_code == 200, response.text
            self.model[user].update(self.model[anonymous])
            self.model[anonymous] = Counter()
            assert quantities(response.json()) == +self.model[user]

        @rule(user=st.sampled_from(USERS))
        def checkout(self, user: str) -> None:
            response = self.shoppers[user].checkout()
            assert response.status_code == 200, response.text
            assert quantities(response.json()) == +self.model[user]
            self.model[user] = Counter()

        @rule(days=st.sampled_from([1, 8]))
        def time_passes(self, days: int) -> None:
            # Past the anonymous TTL (1 day) or also past the signed-in one (7 days).
            local_stack.advance_time(days * DAY + 60)
            for name in ANONYMOUS + (USERS if days > 7 else []):
                self.model[name] = Counter()

        @invariant()
        def carts_are_as_modelled(self) -> None:
            for name, shopper in self.shoppers.items():
                cart = shopper.cart()
                assert all(quantity > 0 for quantity in cart.values()), cart
                assert cart == +self.model[name], name

        def teardown(self) -> None:
            assert_totals_equal_a_full_scan(local_stack, admin_token)

    run_state_machine_as_test(
        CartHistory,
        settings=settings(
            max_examples=MACHINES,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
