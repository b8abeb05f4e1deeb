"""shopping_cart: reusable AWS CDK constructs of the serverless shopping cart.

    from shopping_cart import Auth, ProductMock, ShoppingCart

The Lambda code ships inside this package as ``shopping_cart.runtime`` (the repo's ``runtime/``).
"""

from .auth import Auth
from .cart import ShoppingCart
from .functions import POWERTOOLS_VERSION
from .product_mock import ProductMock

__all__ = ["POWERTOOLS_VERSION", "Auth", "ProductMock", "ShoppingCart"]
