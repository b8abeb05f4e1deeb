"""Cart rules: what an add, a set, a migration and a checkout do, independent of HTTP.

The service decides; the repository carries each decision out as one conditional write. When a
condition fails because another request got there first, the service reads the new state and decides
again, a bounded number of times.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aws_lambda_powertools import Logger, Tracer

from .domain import CartLine, CartOwner, ProductTotal, check_added_quantity, check_set_quantity
from .errors import ConcurrentUpdateError, QuantityLimitError
from .repository import MAX_TRANSACTION_ACTIONS, LineChangedError, LineMove

logger = Logger(child=True)
# A subsegment per cart operation in X-Ray; responses are not recorded (they hold cart contents).
tracer = Tracer()

# Conditional writes that lose a race are retried this many times before the caller gets a 409.
MAX_ATTEMPTS = 5
# Two actions per migrated line (mark the anonymous line, add to the user's line).
LINES_PER_MIGRATION_TRANSACTION = MAX_TRANSACTION_ACTIONS // 2
LINES_PER_CHECKOUT_TRANSACTION = MAX_TRANSACTION_ACTIONS

_CONCURRENT_MESSAGE = "the cart changed while it was being updated, please try again"


class CartStore(Protocol):
    """What the service needs from storage (implemented by repository.CartRepository)."""

    def read_cart(self, owner: CartOwner) -> list[CartLine]: ...
    def increase_line(
        self,
        owner: CartOwner,
        product_id: str,
        amount: int,
        product_detail: dict[str, Any],
        expiration_time: int,
        now: int,
        max_quantity: int,
    ) -> int: ...
    def replace_dead_line(self, owner: CartOwner, line: CartLine, now: int) -> None: ...
    def decrease_line(
        self, owner: CartOwner, product_id: str, amount: int, expiration_time: int, now: int
    ) -> int: ...
    def delete_line_if_unchanged(self, owner: CartOwner, line: CartLine, now: int) -> None: ...
    def put_line(self, owner: CartOwner, line: CartLine) -> None: ...
    def delete_line(self, owner: CartOwner, product_id: str) -> None: ...
    def move_lines(
        self, anonymous: CartOwner, user: CartOwner, moves: Sequence[LineMove], now: int
    ) -> bool: ...
    def delete_lines_if_unchanged(self, owner: CartOwner, lines: Sequence[CartLine]) -> bool: ...
    def enqueue_migrated_line_deletes(self, owner: CartOwner, product_ids: Sequence[str]) -> list[str]: ...
    def get_total(self, product_id: str) -> int: ...
    def list_totals(self) -> list[ProductTotal]: ...


class ProductLookup(Protocol):
    def get_product(self, product_id: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class CartPolicy:
    """The settings the rules depend on."""

    anonymous_ttl_seconds: int
    user_ttl_seconds: int
    max_quantity: int

    def ttl_seconds(self, owner: CartOwner) -> int:
        return self.user_ttl_seconds if owner.is_user else self.anonymous_ttl_seconds


def live_lines(lines: Sequence[CartLine], now: int) -> list[CartLine]:
    return sorted((line for line in lines if line.is_live(now)), key=lambda line: line.product_id)


def _chunks(items: Sequence[CartLine], size: int) -> list[Sequence[CartLine]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


class CartService:
    def __init__(
        self,
        store: CartStore,
        products: ProductLookup,
        policy: CartPolicy,
        clock: Callable[[], float] = time.time,
        pause: Callable[[float], None] = time.sleep,
    ) -> None:
        self._store = store
        self._products = products
        self._policy = policy
        self._clock = clock
        self._pause = pause

    def _back_off(self, attempt: int) -> None:
        """After a lost race on a whole cart (migrate, checkout): wait a little, with jitter, so that the
        requests that keep colliding spread out instead of colliding again at once."""
        if attempt:
            self._pause(random.uniform(0, min(0.2, 0.02 * 2**attempt)))

    def _now(self) -> int:
        return int(self._clock())

    @tracer.capture_method(capture_response=False)
    def get_cart(self, owner: CartOwner) -> list[CartLine]:
        """The owner's live lines: not expired, not migrated, quantity above zero."""
        return live_lines(self._store.read_cart(owner), self._now())

    @tracer.capture_method(capture_response=False)
    def add(self, owner: CartOwner, product_id: str, quantity: int) -> int:
        """Add (or, when negative, remove) a quantity; returns the line's new quantity.

        A removal never goes below zero: the line is deleted when it reaches zero, and removing from
        a line that is not there is a no-op. Only an add asks the product service (a removal needs no
        product details, and must work for a product that has left the catalogue).
        """
        check_added_quantity(quantity, self._policy.max_quantity)
        if quantity > 0:
            return self._increase(owner, product_id, quantity)
        return self._decrease(owner, product_id, -quantity)

    def _increase(self, owner: CartOwner, product_id: str, amount: int) -> int:
        product = self._products.get_product(product_id)
        max_quantity = self._policy.max_quantity
        for _ in range(MAX_ATTEMPTS):
            now = self._now()
            expires = now + self._policy.ttl_seconds(owner)
            try:
                # The common case: one UpdateItem that adds to a live line or creates an absent one.
                return self._store.increase_line(
                    owner, product_id, amount, product, expires, now, max_quantity
                )
            except LineChangedError as changed:
                current = changed.current
            if current is not None and current.is_live(now):
                raise QuantityLimitError(
                    f"a cart line holds at most {max_quantity}; it holds {current.quantity}"
                ) from None
            # An expired line not yet deleted by DynamoDB, or an anonymous line already migrated (an old
            # cookie used again): its old quantity is gone or counted elsewhere, so start afresh.
            fresh = CartLine(product_id, amount, product, expires)
            try:
                self._store.replace_dead_line(owner, fresh, now)
            except LineChangedError:
                continue  # someone revived it first: add to theirs on the next attempt
            return amount
        raise ConcurrentUpdateError(_CONCURRENT_MESSAGE)

    def _decrease(self, owner: CartOwner, product_id: str, amount: int) -> int:
        for _ in range(MAX_ATTEMPTS):
            now = self._now()
            expires = now + self._policy.ttl_seconds(owner)
            try:
                return self._store.decrease_line(owner, product_id, amount, expires, now)
            except LineChangedError as changed:
                current = changed.current
            if current is None or not current.is_live(now):
                return 0
            # Removing at least what the line holds: delete it, on condition it still holds that much.
            try:
                self._store.delete_line_if_unchanged(owner, current, now)
            except LineChangedError:
                continue
            return 0
        raise ConcurrentUpdateError(_CONCURRENT_MESSAGE)

    @tracer.capture_method(capture_response=False)
    def set_quantity(self, owner: CartOwner, product_id: str, quantity: int) -> int:
        """Set a line's quantity; zero removes the line (without asking the product service)."""
        check_set_quantity(quantity, self._policy.max_quantity)
        if quantity == 0:
            self._store.delete_line(owner, product_id)
            return 0
        product = self._products.get_product(product_id)
        now = self._now()
        line = CartLine(product_id, quantity, product, now + self._policy.ttl_seconds(owner))
        self._store.put_line(owner, line)
        return quantity

    @tracer.capture_method(capture_response=False)
    def migrate(self, anonymous: CartOwner, user: CartOwner) -> tuple[list[CartLine], int]:
        """Merge the anonymous cart into the user's cart exactly once.

        Returns the user's cart after the merge and the number of lines moved. Each transaction marks
        the anonymous lines it moves, on condition they are unchanged and unmarked, so a concurrent or
        repeated migration of the same cart cancels, reads again, and finds nothing left to move.
        """
        moved_total = 0
        for attempt in range(MAX_ATTEMPTS):
            self._back_off(attempt)
            user_cart, moved, completed = self._migrate_attempt(anonymous, user)
            moved_total += moved
            if completed:
                if moved_total:
                    logger.info("anonymous cart migrated", extra={"lines": moved_total})
                return user_cart, moved_total
        raise ConcurrentUpdateError(_CONCURRENT_MESSAGE)

    def _migrate_attempt(self, anonymous: CartOwner, user: CartOwner) -> tuple[list[CartLine], int, bool]:
        """One read of both carts and the transactions it allows: (user's cart, lines moved, done?).

        A cancelled transaction ends the attempt; the transactions before it stay committed (their lines
        are marked), so the next attempt's read no longer sees them.
        """
        now = self._now()
        anonymous_lines = live_lines(self._store.read_cart(anonymous), now)
        user_lines = {line.product_id: line for line in live_lines(self._store.read_cart(user), now)}
        user_expires = now + self._policy.user_ttl_seconds
        moved = 0
        for chunk in _chunks(anonymous_lines, LINES_PER_MIGRATION_TRANSACTION):
            moves = [
                LineMove(
                    line, user_line_is_live=line.product_id in user_lines, user_expiration_time=user_expires
                )
                for line in chunk
            ]
            if not self._store.move_lines(anonymous, user, moves, now):
                return [], moved, False
            self._queue_deletes(anonymous, [line.product_id for line in chunk])
            moved += len(chunk)
            for line in chunk:
                held = user_lines.get(line.product_id)
                user_lines[line.product_id] = CartLine(
                    product_id=line.product_id,
                    quantity=line.quantity + (held.quantity if held else 0),
                    product_detail=held.product_detail if held else line.product_detail,
                    expiration_time=user_expires,
                )
        return live_lines(list(user_lines.values()), now), moved, True

    def _queue_deletes(self, anonymous: CartOwner, product_ids: list[str]) -> None:
        """Ask the delete worker to remove migrated lines. Best effort: the lines are already invisible
        to reads and totals, and their TTL removes them anyway if a message is lost."""
        try:
            failed = self._store.enqueue_migrated_line_deletes(anonymous, product_ids)
        except Exception:
            logger.exception("could not queue migrated lines for deletion; their TTL will remove them")
            return
        if failed:
            logger.warning("some migrated lines were not queued for deletion", extra={"count": len(failed)})

    @tracer.capture_method(capture_response=False)
    def checkout(self, user: CartOwner) -> list[CartLine]:
        """Empty the user's cart (every page of it) and return what was bought.

        Each line is deleted on condition it still holds the quantity read, so what is returned is
        exactly what was removed; a concurrent change cancels its transaction and the rest is re-read.
        """
        bought: list[CartLine] = []
        for attempt in range(MAX_ATTEMPTS):
            self._back_off(attempt)
            now = self._now()
            lines = live_lines(self._store.read_cart(user), now)
            completed = True
            for chunk in _chunks(lines, LINES_PER_CHECKOUT_TRANSACTION):
                if not self._store.delete_lines_if_unchanged(user, chunk):
                    completed = False
                    break
                bought.extend(chunk)
            if completed:
                return sorted(bought, key=lambda line: line.product_id)
        raise ConcurrentUpdateError(_CONCURRENT_MESSAGE)

    @tracer.capture_method(capture_response=False)
    def product_total(self, product_id: str) -> int:
        """A product's total over all carts; 0 when no cart ever held it."""
        return self._store.get_total(product_id)

    @tracer.capture_method(capture_response=False)
    def all_totals(self) -> list[ProductTotal]:
        return sorted(self._store.list_totals(), key=lambda total: total.product_id)
