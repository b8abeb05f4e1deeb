"""OperationsStack: what the other stacks share for protection and operations, deployed first."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, RemovalPolicy, Stack
from aws_cdk import aws_logs as logs

from constructs import Construct
from shopping_cart import ApiWebAcl, create_alarm_topic


class OperationsStack(Stack):
    """The alarm topic (``alarm_topic``, with an optional email subscription) and, unless
    ``web_acl=False``, the REGIONAL web ACL of both APIs (``web_acl``, an :class:`shopping_cart.ApiWebAcl`).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        description: str | None = "Shopping cart: alarm topic and the APIs' web ACL",
        env: Any = None,
        alarm_email: str | None = None,
        web_acl: bool = True,
        rate_limit: int = 2000,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, construct_id, description=description, env=env)
        self.alarm_topic = create_alarm_topic(self, "AlarmTopic", email=alarm_email)
        CfnOutput(self, "AlarmTopicArn", value=self.alarm_topic.topic_arn)
        self.web_acl: ApiWebAcl | None = None
        if web_acl:
            self.web_acl = ApiWebAcl(
                self,
                "ApiWebAcl",
                rate_limit=rate_limit,
                log_retention=log_retention,
                removal_policy=removal_policy,
            )
            CfnOutput(self, "ApiWebAclArn", value=self.web_acl.arn)
