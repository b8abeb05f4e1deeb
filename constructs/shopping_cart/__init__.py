"""shopping_cart: reusable AWS CDK constructs of the serverless shopping cart.

    from shopping_cart import ApiWebAcl, Auth, Frontend, Monitoring, ProductMock, ShoppingCart

The Lambda code ships inside this package as ``shopping_cart.runtime`` (the repo's ``runtime/``).
"""

from .auth import Auth
from .cart import ShoppingCart
from .frontend import Frontend, content_security_policy
from .functions import POWERTOOLS_VERSION
from .monitoring import Monitoring, create_alarm_topic
from .product_mock import ProductMock
from .web_acl import VIEWER_IP_HEADER, ApiWebAcl

__all__ = [
    "POWERTOOLS_VERSION",
    "VIEWER_IP_HEADER",
    "ApiWebAcl",
    "Auth",
    "Frontend",
    "Monitoring",
    "ProductMock",
    "ShoppingCart",
    "content_security_policy",
    "create_alarm_topic",
]
