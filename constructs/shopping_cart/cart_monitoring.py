"""CartMonitoring: the alarms and dashboard of one shopping cart (a :class:`Monitoring` for its parts)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_sns as sns

from constructs import Construct

from .cart_api import CartApi
from .cleanup import MigratedLineCleanup
from .monitoring import CART_METRICS, FIVE_MINUTES, Monitoring
from .totals import TotalsAggregator


class CartMonitoring(Monitoring):
    """Alarms on both dead-letter queues, the aggregator's iterator age, API 5xx and errors and throttles
    of every function; a dashboard of requests, latency, errors, carts updated, migrated and checked
    out, queue depths and the table's capacity.

    Keyword properties:
        table, api, totals, cleanup: the parts of the cart to watch.
        service_name, metrics_namespace: where the cart API's Powertools metrics are.
        iterator_age_alarm_threshold: the aggregator's IteratorAge alarm.
        server_error_alarm_threshold: 5xx answers per 5 minutes that fire the API alarm.
        alarm_topic, dashboard_name: as :class:`shopping_cart.Monitoring`.

    Attributes: those of :class:`shopping_cart.Monitoring`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: dynamodb.ITable,
        api: CartApi,
        totals: TotalsAggregator,
        cleanup: MigratedLineCleanup,
        service_name: str = "shopping-cart",
        metrics_namespace: str = "ShoppingCart",
        iterator_age_alarm_threshold: Duration = Duration.minutes(5),
        server_error_alarm_threshold: int = 1,
        alarm_topic: sns.ITopic | None = None,
        dashboard_name: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id, alarm_topic=alarm_topic, dashboard_name=dashboard_name)
        self._table, self._api, self._totals, self._cleanup = table, api, totals, cleanup
        self._functions = [
            ("CartApi", api.function),
            ("TotalsAggregator", totals.function),
            ("DeleteWorker", cleanup.function),
        ]
        self._queues = [
            (
                "DeleteDeadLetterQueue",
                cleanup.dead_letter_queue,
                "the delete queue's dead-letter queue (migrated lines the worker could not delete)",
            ),
            (
                "TotalsFailureQueue",
                totals.failure_queue,
                "the totals aggregator's on-failure queue (stream batches whose totals were not applied)",
            ),
        ]
        self._iterator_age = iterator_age_alarm_threshold
        self._add_alarms(server_error_alarm_threshold)
        self._add_overview(service_name, metrics_namespace)
        self.add_api_widgets("Cart", api.api)
        # One call, one row of widgets (wrapped at the dashboard's width), as before.
        self.add_widgets(*self._queue_widgets(), *self._table_widgets())
        self.add_function_widgets(self._functions)
        self.add_alarm_status()

    def _add_alarms(self, server_error_alarm_threshold: int) -> None:
        for label, queue, what in self._queues:
            self.alarm_on_dead_letter_queue(label, queue, what)
        self.alarm_on_iterator_age("TotalsAggregator", self._totals.function, self._iterator_age)
        for label, function in self._functions:
            self.alarm_on_function(label, function)
        self.alarm_on_api("Cart", self._api.api, server_error_alarm_threshold)

    def _add_overview(self, service_name: str, metrics_namespace: str) -> None:
        def cart_metric(name: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=metrics_namespace,
                metric_name=name,
                dimensions_map={"service": service_name},
                statistic="Sum",
                period=FIVE_MINUTES,
                label=name,
            )

        self.add_widgets(
            cloudwatch.TextWidget(
                markdown=f"# Shopping cart ({service_name})\n"
                "Requests, latency and errors of the cart API; carts updated, migrated at sign-in and "
                "checked out (Powertools metrics of the cart API); dead-letter queues (should stay at 0).",
                width=24,
                height=2,
            ),
            cloudwatch.SingleValueWidget(
                title="Carts in the time range",
                metrics=[cart_metric(name) for name in CART_METRICS],
                set_period_to_time_range=True,
                width=12,
                height=6,
            ),
            cloudwatch.GraphWidget(
                title="Carts updated, migrated, checked out",
                left=[cart_metric(name) for name in CART_METRICS],
                width=12,
            ),
        )

    def _queue_widgets(self) -> list[cloudwatch.IWidget]:
        delete_queue = self._cleanup.queue
        return [
            cloudwatch.GraphWidget(
                title="Dead-letter queues (messages)",
                left=[
                    queue.metric_approximate_number_of_messages_visible(
                        period=FIVE_MINUTES, statistic="Maximum", label=label
                    )
                    for label, queue, _ in self._queues
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Delete queue",
                left=[
                    delete_queue.metric_approximate_number_of_messages_visible(
                        period=FIVE_MINUTES, statistic="Maximum", label="visible"
                    )
                ],
                right=[
                    delete_queue.metric_approximate_age_of_oldest_message(
                        period=FIVE_MINUTES, statistic="Maximum", label="oldest (s)"
                    )
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Totals aggregator iterator age (ms)",
                left=[
                    self._totals.function.metric(
                        "IteratorAge", period=FIVE_MINUTES, statistic="Maximum", label="maximum"
                    )
                ],
                left_annotations=[
                    cloudwatch.HorizontalAnnotation(value=self._iterator_age.to_milliseconds(), label="alarm")
                ],
                width=8,
            ),
        ]

    def _table_widgets(self) -> list[cloudwatch.IWidget]:
        table = self._table
        return [
            cloudwatch.GraphWidget(
                title="Table: consumed capacity units",
                left=[
                    table.metric_consumed_read_capacity_units(
                        period=FIVE_MINUTES, statistic="Sum", label="read"
                    ),
                    table.metric_consumed_write_capacity_units(
                        period=FIVE_MINUTES, statistic="Sum", label="write"
                    ),
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Table: throttle events",
                left=[
                    table.metric(name, period=FIVE_MINUTES, statistic="Sum", label=name)
                    for name in ("ReadThrottleEvents", "WriteThrottleEvents")
                ],
                width=12,
            ),
        ]
