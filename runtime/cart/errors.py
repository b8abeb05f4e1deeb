"""Domain errors. The API maps each one to an HTTP status in one place (api.py); the message is safe
to show to the caller and never contains a token, a cookie or an AWS error text."""

from __future__ import annotations


class CartError(Exception):
    """Base of every error the cart reports to its caller."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidQuantityError(CartError):
    """A quantity outside the range the rule allows (422)."""


class QuantityLimitError(CartError):
    """An add would take a line above the maximum quantity (409)."""


class ConcurrentUpdateError(CartError):
    """The cart kept changing under a conditional write, even after retries (409: try again)."""


class ProductNotFoundError(CartError):
    """The product service does not know the product (404)."""


class DependencyUnavailableError(CartError):
    """The product service or the token keys cannot be reached in time (503)."""


class AuthenticationError(CartError):
    """No valid identity where one is required, or an invalid token (401)."""


class ForbiddenError(CartError):
    """A valid identity without the right to do this (403)."""
