"""Whole-cart operations that lose a race back off before they read and try again."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from cart.domain import CartLine, CartOwner
from cart.errors import ConcurrentUpdateError
from cart.service import MAX_ATTEMPTS, CartPolicy, CartService

NOW = 1_800_000_000
POLICY = CartPolicy(anonymous_ttl_seconds=86400, user_ttl_seconds=7 * 86400, max_quantity=1000)
LANTERN = CartLine("trail-lantern", 2, {"name": "Trail Lantern"}, NOW + 3600)


class RacingStore:
    """Loses the first `losses` whole-cart writes, as when another request changed the cart first."""

    def __init__(self, losses: int) -> None:
        self.losses = losses
        self.writes = 0

    def read_cart(self, owner: CartOwner) -> list[CartLine]:
        return [LANTERN] if not owner.is_user else []

    def _won(self) -> bool:
        self.writes += 1
        return self.writes > self.losses

    def move_lines(self, anonymous: CartOwner, user: CartOwner, moves: Sequence, now: int) -> bool:
        return self._won()

    def delete_lines_if_unchanged(self, owner: CartOwner, lines: Sequence[CartLine]) -> bool:
        return self._won()

    def enqueue_migrated_line_deletes(self, owner: CartOwner, product_ids: Sequence[str]) -> list[str]:
        return []


def _service(store: RacingStore, pauses: list[float]) -> CartService:
    return CartService(store, products=None, policy=POLICY, clock=lambda: NOW, pause=pauses.append)


@pytest.mark.parametrize("operation", ["migrate", "checkout"])
def test_no_wait_when_nothing_collides(operation: str):
    pauses: list[float] = []
    service = _service(RacingStore(losses=0), pauses)

    if operation == "migrate":
        service.migrate(CartOwner.anonymous("a" * 32), CartOwner.user("u1"))
    else:
        service.checkout(CartOwner.anonymous("a" * 32))

    assert pauses == []


@pytest.mark.parametrize("operation", ["migrate", "checkout"])
def test_each_retry_after_a_lost_race_waits_a_growing_jittered_while(operation: str):
    pauses: list[float] = []
    service = _service(RacingStore(losses=3), pauses)

    if operation == "migrate":
        _, moved = service.migrate(CartOwner.anonymous("a" * 32), CartOwner.user("u1"))
        assert moved == 1
    else:
        assert service.checkout(CartOwner.anonymous("a" * 32)) == [LANTERN]

    assert len(pauses) == 3  # one wait before each of the three retries
    for attempt, pause in enumerate(pauses, start=1):
        assert 0 <= pause <= min(0.2, 0.02 * 2**attempt)


def test_gives_up_with_a_409_after_the_last_attempt():
    pauses: list[float] = []
    service = _service(RacingStore(losses=MAX_ATTEMPTS), pauses)

    with pytest.raises(ConcurrentUpdateError):
        service.checkout(CartOwner.anonymous("a" * 32))
    assert len(pauses) == MAX_ATTEMPTS - 1
