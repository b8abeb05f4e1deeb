"""Thin stacks of the app: each holds one construct of ``shopping_cart`` and its outputs."""

from .auth_stack import AuthStack
from .cart_stack import ShoppingCartStack
from .product_mock_stack import ProductMockStack

__all__ = ["AuthStack", "ProductMockStack", "ShoppingCartStack"]
