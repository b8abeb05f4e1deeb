"""The cart's vocabulary: who owns a cart, what a cart line is, and the quantity rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import InvalidQuantityError

OwnerKind = Literal["anonymous", "user"]


@dataclass(frozen=True)
class CartOwner:
    """An anonymous browser (keyed by its cartId cookie) or a signed-in user (keyed by the token's sub)."""

    kind: OwnerKind
    id: str

    @classmethod
    def anonymous(cls, cart_id: str) -> CartOwner:
        return cls("anonymous", cart_id)

    @classmethod
    def user(cls, sub: str) -> CartOwner:
        return cls("user", sub)

    @property
    def is_user(self) -> bool:
        return self.kind == "user"


@dataclass(frozen=True)
class CartLine:
    """One product in one cart, as stored."""

    product_id: str
    quantity: int
    product_detail: dict[str, Any] = field(default_factory=dict, compare=False)
    expiration_time: int = 0
    # Set once an anonymous line has been merged into a user's cart: from then on it counts for nothing.
    migrated_to: str | None = None

    def is_live(self, now: int) -> bool:
        """Live lines are the only ones a read returns and a migration moves (DESIGN.md, table items).

        An expired line may still be in the table: DynamoDB deletes expired items lazily, up to days later.
        """
        return self.migrated_to is None and self.expiration_time > now and self.quantity > 0


@dataclass(frozen=True)
class ProductTotal:
    product_id: str
    quantity: int


def check_added_quantity(quantity: int, max_quantity: int) -> None:
    """An add moves a line by -max..max; zero would be a write that changes nothing."""
    if quantity == 0 or abs(quantity) > max_quantity:
        raise InvalidQuantityError(
            f"quantity must be a non-zero whole number between -{max_quantity} and {max_quantity}"
        )


def check_set_quantity(quantity: int, max_quantity: int) -> None:
    """A set replaces the quantity; zero removes the line."""
    if not 0 <= quantity <= max_quantity:
        raise InvalidQuantityError(f"quantity must be a whole number between 0 and {max_quantity}")
