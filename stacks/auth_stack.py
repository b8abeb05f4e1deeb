"""AuthStack: the Cognito user pool shared by the cart and the storefront."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack

from constructs import Construct
from shopping_cart import Auth


class AuthStack(Stack):
    """Holds ``auth`` (an :class:`shopping_cart.Auth`); keyword arguments other than Stack's go to Auth."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        description: str | None = "Shopping cart: Cognito user pool and web client",
        env: Any = None,
        **auth_props: Any,
    ) -> None:
        super().__init__(scope, construct_id, description=description, env=env)
        self.auth = Auth(self, "Auth", **auth_props)
        CfnOutput(self, "Region", value=self.region, description="AWS region of the shop")
        CfnOutput(self, "UserPoolId", value=self.auth.user_pool.user_pool_id)
        CfnOutput(self, "UserPoolClientId", value=self.auth.user_pool_client.user_pool_client_id)
