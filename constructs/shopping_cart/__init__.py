"""shopping_cart: reusable AWS CDK constructs of the serverless shopping cart.

    from shopping_cart import ApiWebAcl, Auth, Frontend, Monitoring, ProductMock, ShoppingCart

``ShoppingCart`` is composed of parts usable alone: ``CartTable``, ``CartApi``, ``TotalsAggregator``,
``MigratedLineCleanup`` and ``CartMonitoring``.

The Lambda code ships inside this package as ``shopping_cart.runtime`` (the repo's ``runtime/``).
"""

from .auth import Auth
from .cart import ShoppingCart, ShoppingCartProps
from .cart_api import CartApi, CartRules
from .cart_monitoring import CartMonitoring
from .cleanup import MigratedLineCleanup
from .frontend import Frontend, content_security_policy
from .functions import POWERTOOLS_VERSION, FunctionOptions
from .monitoring import Monitoring, create_alarm_topic
from .product_mock import ProductMock
from .table import CartTable
from .totals import TotalsAggregator
from .web_acl import VIEWER_IP_HEADER, ApiWebAcl

__all__ = [
    "POWERTOOLS_VERSION",
    "VIEWER_IP_HEADER",
    "ApiWebAcl",
    "Auth",
    "CartApi",
    "CartMonitoring",
    "CartRules",
    "CartTable",
    "Frontend",
    "FunctionOptions",
    "MigratedLineCleanup",
    "Monitoring",
    "ProductMock",
    "ShoppingCart",
    "ShoppingCartProps",
    "TotalsAggregator",
    "content_security_policy",
    "create_alarm_topic",
]
