"""CDK integration test of the whole shop, for a real AWS account: ``make integ`` (integ-runner).

Deploys every stack of the app (removalPolicy destroy, so nothing is left behind) plus a probe stack,
then asserts end to end, each assertion a call of the probe function (tests/integ/probe/journey.py):

1. the storefront URL serves index.html with the content security policy;
2. ``POST /cart`` through CloudFront adds a product (the cart's signed product lookup passes WAF), a
   user made with AdminCreateUser/AdminSetUserPassword migrates that cart and checks out;
3. the totals follow within two minutes (polled; read by an administrator through CloudFront);
4. SetAlarmState on one alarm delivers a message to an SQS queue subscribed to the alarm topic.

``make test`` synthesizes this app (no account) and compares it with its snapshot
(tests/integ/test_integ_snapshots.py), so it stays valid.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from aws_cdk import Acknowledgment, App, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import integ_tests_alpha as integ

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from app import build_app  # noqa: E402
from shopping_cart import functions  # noqa: E402

PREFIX = "ShopInteg"
CONTEXT = {
    "stackPrefix": PREFIX,
    "removalPolicy": "destroy",
    "enablePasswordAuth": True,  # the probe signs in with USER_PASSWORD_AUTH
    "frontendPath": str(HERE / "storefront"),
    "logRetentionDays": 1,
}


def build(context: dict[str, Any] | None = None, outdir: str | None = None) -> App:
    app = build_app({**CONTEXT, **(context or {})}, outdir=outdir, checks=False)
    stacks = {child.node.id: child for child in app.node.children if isinstance(child, Stack)}
    auth, operations = stacks[f"{PREFIX}-Auth"], stacks[f"{PREFIX}-Operations"]
    cart, frontend = stacks[f"{PREFIX}-Cart"], stacks[f"{PREFIX}-Frontend"]

    probe_stack = Stack(app, f"{PREFIX}-Probe")
    inbox = sqs.Queue(probe_stack, "AlarmInbox", enforce_ssl=True, retention_period=Duration.hours(1))
    operations.alarm_topic.add_subscription(subscriptions.SqsSubscription(inbox, raw_message_delivery=True))
    alarm = cart.cart.monitoring.alarms["DeleteDeadLetterQueueDepth"]
    probe = functions.service_function(
        probe_stack,
        "Probe",
        handler="journey.handler",
        code=lambda_.Code.from_asset(str(HERE / "probe")),
        description="Shop integration test probe",
        timeout=Duration.minutes(2),
        environment={
            "STOREFRONT_URL": frontend.frontend.url,
            "USER_POOL_ID": auth.auth.user_pool.user_pool_id,
            "USER_POOL_CLIENT_ID": auth.auth.user_pool_client.user_pool_client_id,
            "ALARM_NAME": alarm.alarm_name,
            "QUEUE_URL": inbox.queue_url,
            "ADMIN_GROUP": auth.auth.admin_group_name,
        },
        layers=[],
        log_retention=logs.RetentionDays.ONE_DAY,
        removal_policy=RemovalPolicy.DESTROY,
    )
    probe.add_to_role_policy(
        iam.PolicyStatement(
            actions=[
                "cognito-idp:AdminCreateUser",
                "cognito-idp:AdminSetUserPassword",
                "cognito-idp:AdminAddUserToGroup",
            ],
            resources=[auth.auth.user_pool.user_pool_arn],
        )
    )
    probe.add_to_role_policy(
        iam.PolicyStatement(actions=["cloudwatch:SetAlarmState"], resources=[alarm.alarm_arn])
    )
    inbox.grant_consume_messages(probe)
    Validations.of(inbox).acknowledge(
        Acknowledgment(
            id="AwsSolutions-SQS3", reason="A test inbox of alarm notifications, read once by the probe."
        )
    )

    test = integ.IntegTest(
        app,
        "Shop",
        test_cases=[*stacks.values(), probe_stack],
        diff_assets=False,
        stack_update_workflow=False,
    )

    def step(name: str) -> integ.IApiCall:
        return test.assertions.invoke_function(
            function_name=probe.function_name, payload=f'{{"step": "{name}"}}'
        )

    ok = integ.ExpectedResult.object_like({"Payload": integ.Match.string_like_regexp('"ok": true')})
    step("storefront").expect(ok)
    journey = step("journey")
    journey.expect(ok)
    totals = step("totals")
    totals.expect(ok)
    totals.wait_for_assertions(total_timeout=Duration.minutes(2), interval=Duration.seconds(15))
    journey.next(totals)
    step("alarm").expect(ok)
    return app


if __name__ == "__main__":
    build().synth()
