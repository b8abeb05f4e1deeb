"""Volume: 20 clients each adding one product 50 times to one cart, all at once, through the local
stack. Last of the suite's HTTP tests on purpose: its 1000 stream records make every later
transaction slower in moto (see conftest.py)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.local_stack import RunningStack

from .http_support import Shopper, assert_totals_equal_a_full_scan, stored_lines

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CLIENTS = 20
ADDS_PER_CLIENT = 50


def test_twenty_clients_adding_one_product_fifty_times_count_exactly_1000(
    local_stack: RunningStack, cart_api: str, product_ids: list[str], admin_token: str
):
    product = product_ids[0]
    # One anonymous cart, twenty browsers holding its cookie (a signed-in cart is the same code path
    # below the identity, and each run of 1000 requests costs about half a minute here).
    first = Shopper(cart_api)
    assert first.request("GET", "/cart").status_code == 200  # the server issues the cookie
    cart_id = first.cart_id
    clients = [first.with_cookie(cart_id) for _ in range(CLIENTS)]
    start = threading.Barrier(CLIENTS)

    def shop(client: Shopper) -> list[int]:
        start.wait()  # every client starts at once
        seen = []
        for _ in range(ADDS_PER_CLIENT):
            response = client.add(product, 1)
            assert response.status_code == 200, response.text
            seen.append(response.json()["quantity"])
        return seen

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        answers = [quantity for seen in pool.map(shop, clients) for quantity in seen]

    # Each add was applied atomically: the quantities the adds returned are exactly 1..1000, each once.
    assert sorted(answers) == list(range(1, CLIENTS * ADDS_PER_CLIENT + 1))
    assert clients[0].cart() == {product: 1000}
    assert int(stored_lines(local_stack, f"cart#{cart_id}")[product]["quantity"]["N"]) == 1000
    # 1000 is the line's limit: one more is refused, and nothing changes.
    assert clients[0].add(product, 1).status_code == 409
    assert clients[1].cart() == {product: 1000}
    assert_totals_equal_a_full_scan(local_stack, admin_token)
