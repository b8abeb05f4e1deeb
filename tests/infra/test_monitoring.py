"""Monitoring: alarms to the SNS topic for every failure mode, and the cart's dashboard."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Template
from infra_helpers import (
    SKIP_BUNDLING,
    Synthesized,
    function_by_handler,
    only,
    ref,
    resolve_cross_stack,
    resources,
)

from shopping_cart import Auth, Monitoring, ShoppingCart
from shopping_cart.monitoring import CART_METRICS

REPO_ROOT = Path(__file__).resolve().parents[2]
CART_FUNCTIONS = ("cart.api.handler", "cart.aggregator.handler", "cart.delete_worker.handler")


def _alarms(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [alarm["Properties"] for alarm in resources(template, "AWS::CloudWatch::Alarm").values()]


def _find(alarms: list[dict[str, Any]], metric: str, dimension: Any) -> dict[str, Any]:
    [alarm] = [
        a
        for a in alarms
        if a["MetricName"] == metric and [d["Value"] for d in a["Dimensions"]] == [dimension]
    ]
    return alarm


def _dashboard(template: dict[str, Any]) -> dict[str, Any]:
    """The dashboard body as JSON, each token (region, names) replaced by a placeholder string."""
    body = only(template, "AWS::CloudWatch::Dashboard")[1]["Properties"]["DashboardBody"]
    if isinstance(body, str):
        return json.loads(body)
    parts = body["Fn::Join"][1]
    return json.loads("".join(part if isinstance(part, str) else "<token>" for part in parts))


def _metrics(dashboard: dict[str, Any]) -> list[list[Any]]:
    return [metric for widget in dashboard["widgets"] for metric in widget["properties"].get("metrics", [])]


@pytest.fixture(scope="module")
def cart(synth: Synthesized) -> dict[str, Any]:
    return synth.json["ShoppingCart-Cart"]


# --- Alarms --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["ShoppingCart-Cart", "ShoppingCart-ProductMock"])
def test_every_alarm_notifies_the_shared_topic_and_ignores_missing_data(
    synth: Synthesized, stack: str
) -> None:
    operations = synth.json["ShoppingCart-Operations"]
    topic = only(operations, "AWS::SNS::Topic")[0]
    alarms = _alarms(synth.json[stack])
    assert alarms
    for alarm in alarms:
        [action] = alarm["AlarmActions"]
        assert alarm["OKActions"] == [action]
        assert resolve_cross_stack(action, synth) == {
            "Producer": "ShoppingCart-Operations",
            "Value": {"Ref": topic},
        }
        assert alarm["TreatMissingData"] == "notBreaching"
        assert len(alarm["AlarmDescription"]) > 20


def test_dead_letter_queues_alarm_on_the_first_message(cart: dict[str, Any]) -> None:
    queues = resources(cart, "AWS::SQS::Queue")
    [delete_queue] = [name for name, q in queues.items() if "RedrivePolicy" in q["Properties"]]
    dlq = ref(queues[delete_queue]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])
    [failure_queue] = [name for name in queues if name not in (delete_queue, dlq)]
    alarms = _alarms(cart)
    watched = {
        a["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for a in alarms
        if a["MetricName"] == "ApproximateNumberOfMessagesVisible"
    }
    assert watched == {dlq, failure_queue}
    for queue in (dlq, failure_queue):
        alarm = _find(alarms, "ApproximateNumberOfMessagesVisible", {"Fn::GetAtt": [queue, "QueueName"]})
        assert alarm["Namespace"] == "AWS/SQS"
        assert (alarm["Statistic"], alarm["Period"]) == ("Maximum", 300)
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
        assert alarm["EvaluationPeriods"] == 1


def test_aggregator_iterator_age(cart: dict[str, Any]) -> None:
    aggregator = function_by_handler(cart, "cart.aggregator.handler")[0]
    alarm = _find(_alarms(cart), "IteratorAge", {"Ref": aggregator})
    assert alarm["Namespace"] == "AWS/Lambda"
    assert (alarm["Statistic"], alarm["Period"]) == ("Maximum", 60)
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (5, 5)
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanOrEqualToThreshold", 300_000)
    assert len([a for a in _alarms(cart) if a["MetricName"] == "IteratorAge"]) == 1


@pytest.mark.parametrize(
    ("stack", "handlers"),
    [("ShoppingCart-Cart", CART_FUNCTIONS), ("ShoppingCart-ProductMock", ("products.api.handler",))],
)
def test_errors_and_throttles_of_every_function(
    synth: Synthesized, stack: str, handlers: tuple[str, ...]
) -> None:
    template = synth.json[stack]
    alarms = _alarms(template)
    for handler in handlers:
        function = function_by_handler(template, handler)[0]
        for metric in ("Errors", "Throttles"):
            alarm = _find(alarms, metric, {"Ref": function})
            assert alarm["Namespace"] == "AWS/Lambda"
            assert (alarm["Statistic"], alarm["Period"]) == ("Sum", 300)
            assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)
    watched = {
        a["Dimensions"][0]["Value"]["Ref"] for a in alarms if a["MetricName"] in ("Errors", "Throttles")
    }
    assert watched == set(resources(template, "AWS::Lambda::Function"))


@pytest.mark.parametrize("stack", ["ShoppingCart-Cart", "ShoppingCart-ProductMock"])
def test_api_5xx(synth: Synthesized, stack: str) -> None:
    template = synth.json[stack]
    api_name = only(template, "AWS::ApiGateway::RestApi")[1]["Properties"]["Name"]
    alarm = _find(_alarms(template), "5XXError", api_name)
    assert alarm["Namespace"] == "AWS/ApiGateway"
    assert (alarm["Statistic"], alarm["Period"]) == ("Sum", 300)
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)


def test_alarm_counts(synth: Synthesized) -> None:
    # Cart: 2 queues, 1 iterator age, 3 x (errors, throttles), 1 API. Products: 1 API, 1 x 2 function.
    assert len(_alarms(synth.json["ShoppingCart-Cart"])) == 10
    assert len(_alarms(synth.json["ShoppingCart-ProductMock"])) == 3
    assert not resources(synth.json["ShoppingCart-ProductMock"], "AWS::CloudWatch::Dashboard")


# --- Dashboard -----------------------------------------------------------------------------------------


def test_runtime_emits_the_metrics_the_dashboard_shows() -> None:
    api = (REPO_ROOT / "runtime" / "cart" / "api.py").read_text()
    emitted = set(re.findall(r'add_metric\(name="([A-Za-z]+)"', api))
    assert emitted == set(CART_METRICS)


def test_dashboard_shows_the_carts_key_figures(cart: dict[str, Any]) -> None:
    dashboard = _dashboard(cart)
    metrics = _metrics(dashboard)
    env = function_by_handler(cart, "cart.api.handler")[1]["Properties"]["Environment"]["Variables"]
    namespace, service = env["POWERTOOLS_METRICS_NAMESPACE"], env["POWERTOOLS_SERVICE_NAME"]
    for name in CART_METRICS:
        assert [namespace, name, "service", service, {"label": name, "stat": "Sum"}] in metrics
    api_name = only(cart, "AWS::ApiGateway::RestApi")[1]["Properties"]["Name"]
    names = {(m[0], m[1]) for m in metrics}
    for metric in ("Count", "4XXError", "5XXError", "Latency", "IntegrationLatency"):
        assert ("AWS/ApiGateway", metric) in names
        assert any(m[1] == metric and m[3] == api_name for m in metrics)
    latency = {m[-1]["stat"] for m in metrics if m[1] == "Latency"}
    assert latency == {"p50", "p90", "p99"}
    assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible") in names
    assert ("AWS/Lambda", "IteratorAge") in names
    for metric in ("Invocations", "Errors", "Throttles", "Duration", "ConcurrentExecutions"):
        assert ("AWS/Lambda", metric) in names
    assert ("AWS/DynamoDB", "ConsumedWriteCapacityUnits") in names
    titles = [w["properties"].get("title") for w in dashboard["widgets"]]
    assert "Dead-letter queues (messages)" in titles
    assert "Alarms" in titles


def test_dashboard_alarm_widget_lists_every_alarm(cart: dict[str, Any]) -> None:
    [widget] = [w for w in _dashboard(cart)["widgets"] if w["properties"].get("title") == "Alarms"]
    assert len(widget["properties"]["alarms"]) == len(_alarms(cart))


# --- Props ---------------------------------------------------------------------------------------------


def test_monitoring_props(custom: Synthesized) -> None:
    embedded = custom.json["Embedded"]
    topics = resources(embedded, "AWS::SNS::Topic")
    assert len(topics) == 1  # the app's topic; the cart made none of its own
    [topic] = topics
    alarms = _alarms(embedded)
    assert len(alarms) == 10  # the product mock's monitoring is off
    assert all(a["AlarmActions"] == [{"Ref": topic}] for a in alarms)
    aggregator = function_by_handler(embedded, "cart.aggregator.handler")[0]
    assert _find(alarms, "IteratorAge", {"Ref": aggregator})["Threshold"] == 120_000
    assert [a["Threshold"] for a in alarms if a["MetricName"] == "5XXError"] == [5]
    dashboard = only(embedded, "AWS::CloudWatch::Dashboard")[1]["Properties"]
    assert dashboard["DashboardName"] == "shop-cart"


def test_a_cart_without_a_topic_gets_its_own_and_monitoring_can_be_off() -> None:
    stack = Stack(App(context=SKIP_BUNDLING), "S")
    auth = Auth(stack, "Auth")
    common = {
        "user_pool": auth.user_pool,
        "user_pool_client": auth.user_pool_client,
        "product_service_url": "https://products.example.com",
        "allowed_origins": [],
    }
    watched = ShoppingCart(stack, "Watched", **common)
    unwatched = ShoppingCart(stack, "Unwatched", monitoring=False, **common)
    assert isinstance(watched.monitoring, Monitoring)
    assert unwatched.monitoring is None
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::SNS::Topic", 1)
    template.resource_count_is("AWS::CloudWatch::Alarm", 10)
    template.resource_count_is("AWS::CloudWatch::Dashboard", 1)
    assert watched.monitoring.alarm_topic.node.path == "S/Watched/Monitoring/AlarmTopic"
    assert set(watched.monitoring.alarms) == {
        "DeleteDeadLetterQueueDepth",
        "TotalsFailureQueueDepth",
        "TotalsAggregatorIteratorAge",
        "CartApiErrors",
        "CartApiThrottles",
        "TotalsAggregatorErrors",
        "TotalsAggregatorThrottles",
        "DeleteWorkerErrors",
        "DeleteWorkerThrottles",
        "CartServerErrors",
    }
