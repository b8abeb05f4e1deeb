"""Monitoring: CloudWatch alarms to an SNS topic, and a dashboard of the cart's key figures.

:class:`shopping_cart.ShoppingCart` and :class:`shopping_cart.ProductMock` create one each by default
(prop ``monitoring``), so an embedding app gets its alarms without writing any; the ``alarm_topic`` prop
sends them to a topic of the app's choosing (one topic for the whole shop).

Alarms (each sends ALARM and OK notifications to the topic; missing data is "not breaching"):

=============================  ====================================================  ================
alarm                          metric                                                fires when
=============================  ====================================================  ================
``<queue>Depth``               SQS ApproximateNumberOfMessagesVisible (Maximum)      > 0 (a DLQ)
``<function>IteratorAge``      Lambda IteratorAge (Maximum), stream consumers only   >= threshold, 5
                                                                                     minutes in a row
``<function>Errors``           Lambda Errors (Sum, 5 minutes)                        >= 1
``<function>Throttles``        Lambda Throttles (Sum, 5 minutes)                     >= 1
``<api>ServerErrors``          API Gateway 5XXError (Sum, 5 minutes)                 >= threshold
=============================  ====================================================  ================

The API contract says no input produces a 5xx, so any 5xx is a bug or a dependency down (the cart
answers 503 when the product service is).
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Acknowledgment, Duration, Stack, Validations
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs

from constructs import Construct

#: The figures the cart API emits with Powertools Metrics (runtime/cart/api.py), in namespace
#: POWERTOOLS_METRICS_NAMESPACE with the dimension ``service`` = POWERTOOLS_SERVICE_NAME.
CART_METRICS = ("CartUpdated", "CartMigrated", "CartCheckedOut")

FIVE_MINUTES = Duration.minutes(5)
ONE_MINUTE = Duration.minutes(1)


def create_alarm_topic(scope: Construct, construct_id: str, *, email: str | None = None) -> sns.Topic:
    """An SNS topic for alarms, SSL enforced, with an optional email subscription.

    Not KMS-encrypted: CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed SNS
    key, and the notifications carry alarm names and metric values, nothing about shoppers.

    Who may publish: ``enforce_ssl`` creates an AWS::SNS::TopicPolicy, which replaces the topic's
    default policy (the one that lets the account publish) and holds only a Deny of non-TLS requests.
    CloudWatch publishes alarm notifications as the service principal ``cloudwatch.amazonaws.com``, so
    the policy allows exactly that, for alarms of this account and region (aws:SourceAccount and
    aws:SourceArn, as AWS recommends against the confused-deputy problem).
    """
    topic = sns.Topic(scope, construct_id, display_name="Shopping cart alarms", enforce_ssl=True)
    allow_cloudwatch_alarms(topic)
    if email:
        subscription = topic.add_subscription(subscriptions.EmailSubscription(email))
        Validations.of(subscription).acknowledge(
            Acknowledgment(
                id="Serverless-SNSRedrivePolicy",
                reason="An email subscription for alarm notifications: SNS retries email delivery itself, "
                "and a lost notification is still in the alarm's history and state in CloudWatch.",
            )
        )
    Validations.of(topic.node.default_child).acknowledge(
        Acknowledgment(
            id="AwsSolutions-SNS2",
            reason="Alarm notifications only: they carry alarm names and metric values, no shopper data, "
            "and CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key.",
        )
    )
    return topic


def allow_cloudwatch_alarms(topic: sns.ITopic) -> None:
    """Let CloudWatch alarms of the topic's account and region publish to it."""
    stack = Stack.of(topic)
    topic.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchAlarms",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["sns:Publish"],
            resources=[topic.topic_arn],
            conditions={
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {
                    "aws:SourceArn": f"arn:{stack.partition}:cloudwatch:{stack.region}:{stack.account}:alarm:*"
                },
            },
        )
    )


class Monitoring(Construct):
    """Alarms (to ``alarm_topic``) and, optionally, a dashboard; add what to watch with the methods.

    Keyword properties:
        alarm_topic: where alarms go; a new topic (see :func:`create_alarm_topic`) when omitted.
        alarm_email: with no ``alarm_topic``, subscribe this address to the new topic.
        dashboard: create a CloudWatch dashboard (``dashboard_name``: its name, default generated).

    Attributes: ``alarm_topic``, ``alarms`` (by construct id), ``dashboard`` (None without one).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        alarm_topic: sns.ITopic | None = None,
        alarm_email: str | None = None,
        dashboard: bool = True,
        dashboard_name: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if alarm_topic is None:
            alarm_topic = create_alarm_topic(self, "AlarmTopic", email=alarm_email)
        self.alarm_topic = alarm_topic
        self._action = cloudwatch_actions.SnsAction(alarm_topic)
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        self.dashboard: cloudwatch.Dashboard | None = None
        if dashboard:
            self.dashboard = cloudwatch.Dashboard(
                self,
                "Dashboard",
                dashboard_name=dashboard_name,
                default_interval=Duration.hours(3),
            )

    # --- alarms -----------------------------------------------------------------------------------

    def alarm(
        self,
        construct_id: str,
        *,
        metric: cloudwatch.IMetric,
        threshold: float,
        description: str,
        evaluation_periods: int = 1,
        comparison: cloudwatch.ComparisonOperator = (
            cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
        ),
    ) -> cloudwatch.Alarm:
        """An alarm that notifies the topic when it fires and when it recovers."""
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=threshold,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=evaluation_periods,
            comparison_operator=comparison,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.alarms[construct_id] = alarm
        return alarm

    def alarm_on_dead_letter_queue(self, label: str, queue: sqs.IQueue, what: str) -> cloudwatch.Alarm:
        """Fires as soon as one message waits in a dead-letter (or on-failure) queue."""
        return self.alarm(
            f"{label}Depth",
            metric=queue.metric_approximate_number_of_messages_visible(
                period=FIVE_MINUTES, statistic="Maximum"
            ),
            threshold=0,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            description=f"Messages are waiting in {what}: inspect them and redrive.",
        )

    def alarm_on_function(self, label: str, function: lambda_.IFunction) -> list[cloudwatch.Alarm]:
        """Errors and throttles of one function, each at least once in 5 minutes."""
        return [
            self.alarm(
                f"{label}Errors",
                metric=function.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
                threshold=1,
                description=f"{label} (Lambda function) failed: Errors >= 1 in 5 minutes.",
            ),
            self.alarm(
                f"{label}Throttles",
                metric=function.metric_throttles(period=FIVE_MINUTES, statistic="Sum"),
                threshold=1,
                description=f"{label} (Lambda function) was throttled: Throttles >= 1 in 5 minutes.",
            ),
        ]

    def alarm_on_iterator_age(
        self, label: str, function: lambda_.IFunction, threshold: Duration
    ) -> cloudwatch.Alarm:
        """A stream consumer falling behind: IteratorAge above the threshold for 5 minutes in a row."""
        return self.alarm(
            f"{label}IteratorAge",
            metric=function.metric("IteratorAge", period=ONE_MINUTE, statistic="Maximum"),
            threshold=threshold.to_milliseconds(),
            evaluation_periods=5,
            description=f"{label} (Lambda function) lags behind its stream by more than "
            f"{int(threshold.to_seconds())} s: IteratorAge, 5 minutes in a row.",
        )

    def alarm_on_api(self, label: str, api: apigw.RestApi, threshold: int = 1) -> cloudwatch.Alarm:
        """5xx answers of a REST API (all stages)."""
        return self.alarm(
            f"{label}ServerErrors",
            metric=api.metric_server_error(period=FIVE_MINUTES, statistic="Sum"),
            threshold=threshold,
            description=f"{label} (REST API) answered {threshold} or more 5xx in 5 minutes.",
        )

    # --- dashboard --------------------------------------------------------------------------------

    def add_widgets(self, *widgets: cloudwatch.IWidget) -> None:
        if self.dashboard is not None:
            self.dashboard.add_widgets(*widgets)

    def add_api_widgets(self, label: str, api: apigw.RestApi) -> None:
        self.add_widgets(
            cloudwatch.GraphWidget(
                title=f"{label} API: requests and errors",
                left=[
                    api.metric_count(period=FIVE_MINUTES, statistic="Sum", label="requests"),
                    api.metric_client_error(period=FIVE_MINUTES, statistic="Sum", label="4xx"),
                    api.metric_server_error(period=FIVE_MINUTES, statistic="Sum", label="5xx"),
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title=f"{label} API: latency (ms)",
                left=[
                    api.metric_latency(period=FIVE_MINUTES, statistic=statistic, label=statistic)
                    for statistic in ("p50", "p90", "p99")
                ],
                right=[
                    api.metric_integration_latency(
                        period=FIVE_MINUTES, statistic="p99", label="integration p99"
                    )
                ],
                width=12,
            ),
        )

    def add_function_widgets(self, functions: Sequence[tuple[str, lambda_.IFunction]]) -> None:
        def each(metric_name: str, statistic: str) -> list[cloudwatch.IMetric]:
            return [
                function.metric(metric_name, period=FIVE_MINUTES, statistic=statistic, label=label)
                for label, function in functions
            ]

        self.add_widgets(
            cloudwatch.GraphWidget(title="Lambda invocations", left=each("Invocations", "Sum"), width=6),
            cloudwatch.GraphWidget(
                title="Lambda errors and throttles",
                left=each("Errors", "Sum"),
                right=each("Throttles", "Sum"),
                width=6,
            ),
            cloudwatch.GraphWidget(title="Lambda duration p99 (ms)", left=each("Duration", "p99"), width=6),
            cloudwatch.GraphWidget(
                title="Lambda concurrent executions", left=each("ConcurrentExecutions", "Maximum"), width=6
            ),
        )

    def add_alarm_status(self) -> None:
        if self.dashboard is not None and self.alarms:
            self.dashboard.add_widgets(
                cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms.values()), width=24)
            )
