"""FrontendStack: the storefront and both APIs on one CloudFront distribution."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack

from constructs import Construct
from shopping_cart import Frontend


class FrontendStack(Stack):
    """Holds ``frontend`` (a :class:`shopping_cart.Frontend`); keyword arguments other than Stack's go
    to Frontend (``asset_path``, ``cart_api_url``, ``product_api_url``, ``user_pool``...).

    Its outputs are named so that they never shadow the API stacks' ``CartApiUrl``/``ProductApiUrl``
    (the local stack builds config.json from every output).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        description: str | None = "Shopping cart: storefront and APIs on CloudFront (one origin)",
        env: Any = None,
        **frontend_props: Any,
    ) -> None:
        super().__init__(scope, construct_id, description=description, env=env)
        self.frontend = Frontend(self, "Frontend", **frontend_props)
        CfnOutput(self, "StorefrontUrl", value=self.frontend.url, description="The shop: storefront and APIs")
        CfnOutput(self, "DistributionId", value=self.frontend.distribution.distribution_id)
        CfnOutput(self, "StorefrontBucketName", value=self.frontend.bucket.bucket_name)
