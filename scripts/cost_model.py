"""Monthly AWS cost of the shopping cart for a number of carts a day: request counts x on-demand prices.

    .venv/bin/python scripts/cost_model.py                         # 10k, 100k and 1M carts a day
    .venv/bin/python scripts/cost_model.py --carts 50000 --mix checkout=0.2 --mix get_cart=5
    .venv/bin/python scripts/cost_model.py --format json           # every usage driver and line item
    .venv/bin/python scripts/cost_model.py --no-bench              # the committed counts only

The inputs (docs/cost-inputs.json, explained in docs/COST.md) hold, per API operation, the AWS requests
one call makes (CloudFront, WAF, API Gateway, Lambda, DynamoDB units, SQS, stream records...), the
operations a cart makes in a day (the mix), and each price with its source and date. When
bench/results/bench.json exists (``make bench``), what it measured replaces the committed values key by
key: ``{"operations": {"add_to_cart": {"dynamodb_write_units": 1, ...}, ...}, "background":
{"aggregator_write_units_per_item": 2, ...}}``, with the keys of docs/cost-inputs.json (``note``,
``requests`` and ``moto_consumed_capacity`` are explanations; unknown operations and keys are reported
on stderr and ignored). The report says which operations were measured and what stayed committed.

Usage per month = (sum over operations of mix x counts) x carts a day x days a month, plus what follows
from it (the aggregator's batches, the delete worker's messages, X-Ray sampling, stored lines) and fixed
monthly items (web ACL and rules, alarms, dashboard, custom metrics, idle SQS polling).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
INPUTS = REPO_ROOT / "docs" / "cost-inputs.json"
BENCH = REPO_ROOT / "bench" / "results" / "bench.json"
DEFAULT_CARTS = (10_000, 100_000, 1_000_000)

#: Per-call counts an operation may have (plus "lambda": {function: invocations}).
COUNT_KEYS = (
    "cloudfront_requests",
    "cloudfront_function_invocations",
    "data_out_kb",
    "waf_requests",
    "apigateway_requests",
    "dynamodb_read_units",
    "dynamodb_write_units",
    "sqs_requests",
    "stream_records",
    "delete_messages",
    "log_kb",
    "traced_requests",
)
#: Explanations an operation measured by bench may carry beside its counts (not reported as unknown).
INFO_KEYS = ("note", "requests", "moto_consumed_capacity")
#: Background figures that bench measures (the rest are assumptions about Lambda's pollers and batching).
MEASURABLE_BACKGROUND = ("aggregator_write_units_per_item", "delete_worker_write_units_per_message")
#: How the report names the count keys.
KEY_LABELS = {
    "cloudfront_requests": "CloudFront requests",
    "cloudfront_function_invocations": "CloudFront Functions",
    "data_out_kb": "data out",
    "waf_requests": "WAF requests",
    "apigateway_requests": "API Gateway requests",
    "dynamodb_read_units": "DynamoDB read units",
    "dynamodb_write_units": "DynamoDB write units",
    "sqs_requests": "SQS requests",
    "stream_records": "stream records",
    "delete_messages": "delete messages",
    "log_kb": "log KB",
    "traced_requests": "traces",
    "lambda": "Lambda invocations",
}
KB_PER_GB = 1024 * 1024
SECONDS_PER_DAY = 86_400

#: Line items, in the order of the report, with the service they belong to.
LINE_ITEMS = {
    "cloudfront_requests": "CloudFront",
    "cloudfront_data_out": "CloudFront",
    "cloudfront_functions": "CloudFront",
    "waf_fixed": "WAF",
    "waf_requests": "WAF",
    "apigateway_requests": "API Gateway",
    "lambda_requests": "Lambda",
    "lambda_compute": "Lambda",
    "dynamodb_reads": "DynamoDB",
    "dynamodb_writes": "DynamoDB",
    "dynamodb_storage": "DynamoDB",
    "dynamodb_streams": "DynamoDB",
    "sqs_requests": "SQS",
    "cloudwatch_logs": "CloudWatch",
    "cloudwatch_alarms": "CloudWatch",
    "cloudwatch_dashboard": "CloudWatch",
    "cloudwatch_metrics": "CloudWatch",
    "xray_traces": "X-Ray",
    "cognito_users": "Cognito",
    "s3_log_storage": "S3",
}


def load_inputs(path: Path = INPUTS, bench: Path | None = BENCH) -> dict[str, Any]:
    """The committed inputs, with what ``make bench`` measured replacing them when it ran."""
    inputs = json.loads(path.read_text())
    if bench is not None and bench.is_file():
        source = bench.resolve()
        shown = source.relative_to(REPO_ROOT) if source.is_relative_to(REPO_ROOT) else source
        apply_bench(inputs, json.loads(bench.read_text()), source=str(shown))
    return inputs


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def apply_bench(inputs: dict[str, Any], bench: Mapping[str, Any], *, source: str = "bench") -> list[str]:
    """Overlay measured values; returns (and prints to stderr) what was ignored.

    Records what was applied in ``inputs["measured"]``: the source, the measured keys of each
    operation and the measured background figures. Each measured operation is also marked
    ``"measured": True``.
    """
    ignored: list[str] = []
    applied: dict[str, list[str]] = {}
    measured = bench.get("operations")
    if not isinstance(measured, Mapping):
        ignored.append(f"{source}: no 'operations' object; using the committed counts")
    else:
        for name, counts in measured.items():
            if name not in inputs["operations"] or not isinstance(counts, Mapping):
                ignored.append(f"{source}: unknown operation {name!r}")
                continue
            operation = inputs["operations"][name]
            keys: list[str] = []
            for key, value in counts.items():
                if key in INFO_KEYS:
                    continue
                if key == "lambda" and isinstance(value, Mapping):
                    unknown = [f for f in value if f not in inputs["functions"]]
                    ignored.extend(f"{source}: {name}: unknown function {f!r}" for f in unknown)
                    operation["lambda"] = {f: float(n) for f, n in value.items() if f not in unknown}
                    keys.append(key)
                elif key in COUNT_KEYS and _is_number(value):
                    operation[key] = value
                    keys.append(key)
                else:
                    ignored.append(f"{source}: {name}: ignored key {key!r}")
            if keys:
                operation["measured"] = True
                applied[name] = keys
    background_applied: list[str] = []
    background = bench.get("background")
    if isinstance(background, Mapping):
        for key, value in background.items():
            if key in INFO_KEYS:
                continue
            if key in MEASURABLE_BACKGROUND and _is_number(value):
                inputs["background"][key] = value
                background_applied.append(key)
            else:
                ignored.append(f"{source}: background: ignored key {key!r}")
    for name, function in (bench.get("functions") or {}).items():
        if name in inputs["functions"] and isinstance(function, Mapping):
            inputs["functions"][name].update(
                {k: float(v) for k, v in function.items() if k in ("memory_mb", "duration_ms")}
            )
    if applied or background_applied:
        inputs["measured"] = {"source": source, "operations": applied, "background": background_applied}
    for message in ignored:
        print(f"cost_model: {message}", file=sys.stderr)
    return ignored


def provenance(inputs: Mapping[str, Any]) -> list[str]:
    """Which counts were measured by make bench and which are the committed ones, in words."""
    measured = inputs.get("measured")
    if not measured:
        return [
            "Counts: docs/cost-inputs.json (no bench/results/bench.json with operations: see make bench)."
        ]
    operations = measured["operations"]
    lines = []
    if operations:
        keys = list(dict.fromkeys(key for keys in operations.values() for key in keys))
        lines.append(
            f"Measured by make bench ({measured['source']}): {', '.join(operations)}"
            f" ({', '.join(KEY_LABELS.get(key, key) for key in keys)})."
        )
    if measured["background"]:
        lines.append(f"Measured background: {', '.join(measured['background'])}.")
    committed = [name for name in inputs["operations"] if name not in operations]
    measured_keys = {key for keys in operations.values() for key in keys}
    other = [KEY_LABELS[key] for key in (*COUNT_KEYS, "lambda") if key not in measured_keys]
    lines.append(
        "From docs/cost-inputs.json: "
        + (f"{', '.join(committed)}; " if committed else "")
        + f"every operation's {', '.join(other)} (not measurable in-process)."
    )
    return lines


def price(inputs: Mapping[str, Any], item: str) -> float:
    """USD per single unit of a price item."""
    entry = inputs["prices"]["items"][item]
    return entry["usd"] / entry["per"]


def daily_counts(inputs: Mapping[str, Any], mix: Mapping[str, float]) -> dict[str, float]:
    """Per cart per day: every count summed over the mix; Lambda invocations as ``lambda:<name>``."""
    totals = dict.fromkeys(COUNT_KEYS, 0.0)
    for name, calls in mix.items():
        if name == "note":
            continue
        if name not in inputs["operations"]:
            raise ValueError(f"mix: unknown operation {name!r} (known: {', '.join(inputs['operations'])})")
        operation = inputs["operations"][name]
        for key in COUNT_KEYS:
            totals[key] += calls * float(operation.get(key, 0))
        for function, invocations in operation.get("lambda", {}).items():
            totals[f"lambda:{function}"] = totals.get(f"lambda:{function}", 0.0) + calls * invocations
    return totals


def monthly_usage(
    inputs: Mapping[str, Any], carts_per_day: float, mix: Mapping[str, float]
) -> dict[str, float]:
    """What the shop uses in a month: request counts, units, GB-seconds, GB stored, traces, users."""
    days = inputs["month_days"]
    per_cart = daily_counts(inputs, mix)
    per_day = {key: value * carts_per_day for key, value in per_cart.items()}
    background = inputs["background"]
    functions = inputs["functions"]

    # The totals aggregator: batches bounded by the batch size and, at low traffic, by the window.
    records_per_day = per_day["stream_records"]
    records_per_batch = min(
        background["totals_batch_size"],
        max(1.0, records_per_day / SECONDS_PER_DAY * background["totals_batching_window_s"]),
    )
    batches_per_day = records_per_day / records_per_batch if records_per_day else 0.0
    products_per_batch = min(records_per_batch, background["catalogue_products"])
    aggregator_write_units = (
        batches_per_day * background["aggregator_write_units_per_item"] * (products_per_batch + 1)
    )

    # The delete worker: one message per migrated line.
    messages = per_day["delete_messages"]
    invocations = {name: per_day.get(f"lambda:{name}", 0.0) for name in functions if name != "note"}
    invocations["aggregator"] += batches_per_day
    invocations["delete_worker"] += messages * background["delete_worker_invocations_per_message"]
    background_invocations = batches_per_day + invocations["delete_worker"]

    gb_seconds = sum(
        count * functions[name]["duration_ms"] / 1000 * functions[name]["memory_mb"] / 1024
        for name, count in invocations.items()
    )
    api_requests = per_day["traced_requests"] * days
    traced_per_month = api_requests + background_invocations * days
    reservoir = inputs["xray"]["reservoir_per_second"] * SECONDS_PER_DAY * days
    traces = min(traced_per_month, reservoir) + inputs["xray"]["rate"] * max(
        0.0, traced_per_month - reservoir
    )

    log_gb = (
        (per_day["log_kb"] + background_invocations * background["background_log_kb_per_invocation"])
        * days
        / KB_PER_GB
    )
    storage = inputs["storage"]
    stored_lines = carts_per_day * storage["lines_per_cart"] * storage["line_lifetime_days"]
    cognito = inputs["cognito"]
    # Each migration is a sign-in; a shopper signs in sign_ins_per_user_per_month times.
    monthly_users = carts_per_day * mix.get("migrate", 0.0) * days / cognito["sign_ins_per_user_per_month"]
    return {
        "cloudfront_requests": per_day["cloudfront_requests"] * days,
        "cloudfront_function_invocations": per_day["cloudfront_function_invocations"] * days,
        "cloudfront_data_out_gb": per_day["data_out_kb"] * days / KB_PER_GB,
        "waf_requests": per_day["waf_requests"] * days,
        "apigateway_requests": per_day["apigateway_requests"] * days,
        "lambda_invocations": sum(invocations.values()) * days,
        "lambda_gb_seconds": gb_seconds * days,
        "dynamodb_read_units": per_day["dynamodb_read_units"] * days,
        "dynamodb_write_units": (
            per_day["dynamodb_write_units"]
            + aggregator_write_units
            + messages * background["delete_worker_write_units_per_message"]
        )
        * days,
        "dynamodb_stream_records": records_per_day * days,
        "dynamodb_storage_gb": stored_lines * storage["line_kb"] / KB_PER_GB,
        "sqs_requests": (
            per_day["sqs_requests"] + messages * background["delete_worker_sqs_requests_per_message"]
        )
        * days
        + background["sqs_idle_poll_requests_per_month"],
        "log_ingest_gb": log_gb,
        "log_storage_gb": log_gb * storage["log_retention_days"] / days * storage["log_compression"],
        "cloudfront_log_storage_gb": per_day["cloudfront_requests"]
        * storage["cloudfront_log_kb_per_request"]
        * storage["log_retention_days"]
        / KB_PER_GB,
        "xray_traces": traces,
        "cognito_mau": monthly_users,
        "aggregator_batches": batches_per_day * days,
    }


def monthly_cost(inputs: Mapping[str, Any], usage: Mapping[str, float]) -> dict[str, float]:
    """USD per line item (see LINE_ITEMS) for a month of ``usage``."""
    fixed = inputs["fixed"]
    cognito = inputs["cognito"]
    return {
        "cloudfront_requests": usage["cloudfront_requests"] * price(inputs, "cloudfront_request"),
        "cloudfront_data_out": usage["cloudfront_data_out_gb"] * price(inputs, "cloudfront_data_out_gb"),
        "cloudfront_functions": usage["cloudfront_function_invocations"]
        * price(inputs, "cloudfront_function_invocation"),
        "waf_fixed": fixed["waf_web_acls"] * price(inputs, "waf_web_acl_month")
        + fixed["waf_rules"] * price(inputs, "waf_rule_month"),
        "waf_requests": usage["waf_requests"] * price(inputs, "waf_request"),
        "apigateway_requests": usage["apigateway_requests"] * price(inputs, "apigateway_request"),
        "lambda_requests": usage["lambda_invocations"] * price(inputs, "lambda_request"),
        "lambda_compute": usage["lambda_gb_seconds"] * price(inputs, "lambda_gb_second_arm64"),
        "dynamodb_reads": usage["dynamodb_read_units"] * price(inputs, "dynamodb_read_request_unit"),
        "dynamodb_writes": usage["dynamodb_write_units"] * price(inputs, "dynamodb_write_request_unit"),
        "dynamodb_storage": usage["dynamodb_storage_gb"]
        * (price(inputs, "dynamodb_storage_gb_month") + price(inputs, "dynamodb_pitr_gb_month")),
        "dynamodb_streams": usage["dynamodb_stream_records"] * price(inputs, "dynamodb_stream_read_request"),
        "sqs_requests": usage["sqs_requests"] * price(inputs, "sqs_request"),
        "cloudwatch_logs": usage["log_ingest_gb"] * price(inputs, "cloudwatch_logs_ingest_gb")
        + usage["log_storage_gb"] * price(inputs, "cloudwatch_logs_storage_gb_month"),
        "cloudwatch_alarms": fixed["alarms"] * price(inputs, "cloudwatch_alarm_month"),
        "cloudwatch_dashboard": fixed["dashboards"] * price(inputs, "cloudwatch_dashboard_month"),
        "cloudwatch_metrics": fixed["custom_metrics"] * price(inputs, "cloudwatch_custom_metric_month"),
        "xray_traces": usage["xray_traces"] * price(inputs, "xray_trace"),
        "cognito_users": max(0.0, usage["cognito_mau"] - cognito["free_mau"]) * price(inputs, "cognito_mau"),
        "s3_log_storage": usage["cloudfront_log_storage_gb"] * price(inputs, "s3_storage_gb_month"),
    }


def by_service(costs: Mapping[str, float]) -> dict[str, float]:
    services: dict[str, float] = {}
    for item, service in LINE_ITEMS.items():
        services[service] = services.get(service, 0.0) + costs[item]
    return services


def estimate(inputs: Mapping[str, Any], carts_per_day: float, mix: Mapping[str, float] | None = None) -> dict:
    mix = dict(mix if mix is not None else inputs["mix"])
    usage = monthly_usage(inputs, carts_per_day, mix)
    costs = monthly_cost(inputs, usage)
    total = sum(costs.values())
    return {
        "carts_per_day": carts_per_day,
        "usage": usage,
        "costs": costs,
        "services": by_service(costs),
        "total": total,
        "per_1000_carts": total / (carts_per_day * inputs["month_days"]) * 1000
        if carts_per_day
        else math.nan,
    }


def _money(value: float) -> str:
    return f"{value:,.2f}"


def markdown(inputs: Mapping[str, Any], estimates: Sequence[Mapping[str, Any]]) -> str:
    """The monthly cost per service for each scenario, as a Markdown table."""
    header = "| service | " + " | ".join(f"{e['carts_per_day']:,.0f} carts/day" for e in estimates) + " |"
    lines = [header, "|---|" + "---:|" * len(estimates)]
    services = list(dict.fromkeys(LINE_ITEMS.values()))
    for service in services:
        lines.append(f"| {service} | " + " | ".join(_money(e["services"][service]) for e in estimates) + " |")
    lines.append(
        "| **total (USD/month)** | " + " | ".join(f"**{_money(e['total'])}**" for e in estimates) + " |"
    )
    lines.append("| per 1,000 carts | " + " | ".join(_money(e["per_1000_carts"]) for e in estimates) + " |")
    lines.append(
        "| total without Cognito | "
        + " | ".join(_money(e["total"] - e["services"]["Cognito"]) for e in estimates)
        + " |"
    )
    return "\n".join(lines)


def _parse_mix(pairs: Sequence[str], base: Mapping[str, float]) -> dict[str, float]:
    mix = {key: value for key, value in base.items() if key != "note"}
    for pair in pairs:
        name, separator, value = pair.partition("=")
        if not separator:
            raise SystemExit(f"--mix expects operation=calls, got {pair!r}")
        mix[name] = float(value)
    return mix


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--carts", type=float, action="append", help="carts a day (repeatable)")
    parser.add_argument("--mix", action="append", default=[], help="operation=calls per cart per day")
    parser.add_argument("--inputs", type=Path, default=INPUTS)
    parser.add_argument("--bench", type=Path, default=BENCH, help="measured counts (default: %(default)s)")
    parser.add_argument("--no-bench", action="store_true", help="ignore bench results")
    parser.add_argument("--format", choices=("markdown", "json"), default="markdown")
    arguments = parser.parse_args(argv)
    inputs = load_inputs(arguments.inputs, None if arguments.no_bench else arguments.bench)
    mix = _parse_mix(arguments.mix, inputs["mix"])
    estimates = [estimate(inputs, carts, mix) for carts in (arguments.carts or DEFAULT_CARTS)]
    if arguments.format == "json":
        print(
            json.dumps(
                {
                    "prices_as_of": inputs["prices"]["as_of"],
                    "mix": mix,
                    "measured": inputs.get("measured"),
                    "estimates": estimates,
                },
                indent=2,
            )
        )
    else:
        print(markdown(inputs, estimates))
        print(f"\nPrices: {inputs['prices']['region']}, as of {inputs['prices']['as_of']}.")
        print("\n".join(provenance(inputs)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
