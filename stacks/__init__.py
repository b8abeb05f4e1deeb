"""Thin stacks of the app: each holds one construct of ``shopping_cart`` and its outputs."""

from .auth_stack import AuthStack
from .cart_stack import ShoppingCartStack
from .frontend_stack import FrontendStack
from .operations_stack import OperationsStack
from .product_mock_stack import ProductMockStack

__all__ = ["AuthStack", "FrontendStack", "OperationsStack", "ProductMockStack", "ShoppingCartStack"]
