"""ProductMockStack: the product catalogue service the cart reads product details from."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack

from constructs import Construct
from shopping_cart import ProductMock


class ProductMockStack(Stack):
    """Holds ``product_mock``; keyword arguments other than Stack's go to ProductMock."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        description: str | None = "Shopping cart: product mock service",
        env: Any = None,
        **product_props: Any,
    ) -> None:
        super().__init__(scope, construct_id, description=description, env=env)
        self.product_mock = ProductMock(self, "ProductMock", **product_props)
        CfnOutput(
            self,
            "ProductApiUrl",
            value=self.product_mock.api_url,
            description="Product API base URL, no trailing slash: {url}/product",
        )
