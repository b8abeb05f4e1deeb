"""ShoppingCartStack: the cart service, wired to the user pool and the product service."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack

from constructs import Construct
from shopping_cart import ShoppingCart


class ShoppingCartStack(Stack):
    """Holds ``cart`` (a :class:`shopping_cart.ShoppingCart`); keyword arguments other than Stack's go
    to ShoppingCart (``user_pool``, ``user_pool_client``, ``product_service_url``, ``allowed_origins``...).

    Tokens from other stacks (the user pool, the product API) become CloudFormation exports/imports.
    ``MaxQuantity`` is an output too: the local stack builds the storefront's config.json from the
    outputs (on AWS, the Frontend writes it).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        description: str | None = "Shopping cart: cart API, table, totals aggregator and delete worker",
        env: Any = None,
        **cart_props: Any,
    ) -> None:
        super().__init__(scope, construct_id, description=description, env=env)
        self.cart = ShoppingCart(self, "ShoppingCart", **cart_props)
        CfnOutput(
            self,
            "CartApiUrl",
            value=self.cart.api_url,
            description="Cart API base URL, no trailing slash: {url}/cart",
        )
        CfnOutput(self, "TableName", value=self.cart.table.table_name)
        CfnOutput(self, "DeleteQueueUrl", value=self.cart.delete_queue.queue_url)
        CfnOutput(self, "DeleteDeadLetterQueueUrl", value=self.cart.delete_dead_letter_queue.queue_url)
        CfnOutput(self, "TotalsFailureQueueUrl", value=self.cart.totals_failure_queue.queue_url)
        CfnOutput(
            self,
            "MaxQuantity",
            value=str(self.cart.props.max_quantity),
            description="Bound on quantities (the storefront's maxQuantity)",
        )
