"""scripts/cost_model.py: the arithmetic, the committed inputs, the bench overlay and docs/COST.md's table;
bench/capacity.py: the billing rules by which make bench measures the counts it hands the model."""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bench import capacity

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "cost_model.py"


def _load_script() -> Any:
    spec = importlib.util.spec_from_file_location("cost_model", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["cost_model"] = module
    spec.loader.exec_module(module)
    return module


cost_model = _load_script()


@pytest.fixture
def committed() -> dict[str, Any]:
    return cost_model.load_inputs(cost_model.INPUTS, bench=None)


def _unit_prices(inputs: dict[str, Any]) -> dict[str, Any]:
    """Every price $1 per unit, so a cost line equals its usage."""
    inputs = copy.deepcopy(inputs)
    for item in inputs["prices"]["items"].values():
        item["usd"], item["per"] = 1.0, 1
    return inputs


def _tiny(committed: dict[str, Any]) -> dict[str, Any]:
    """One operation with round counts, no background work, no fixed items: easy to check by hand."""
    inputs = _unit_prices(committed)
    inputs["month_days"] = 10
    inputs["functions"] = {
        "cart_api": {"memory_mb": 1024, "duration_ms": 500},
        "products": {"memory_mb": 128, "duration_ms": 1},
        "aggregator": {"memory_mb": 2048, "duration_ms": 1000},
        "delete_worker": {"memory_mb": 512, "duration_ms": 100},
    }
    inputs["operations"] = {
        "op": {
            "cloudfront_requests": 2,
            "cloudfront_function_invocations": 2,
            "data_out_kb": 1024,
            "waf_requests": 1,
            "apigateway_requests": 1,
            "lambda": {"cart_api": 1},
            "dynamodb_read_units": 3,
            "dynamodb_write_units": 5,
            "sqs_requests": 1,
            "log_kb": 1024,
            "traced_requests": 1,
        }
    }
    inputs["mix"] = {"op": 2}
    inputs["background"].update(sqs_idle_poll_requests_per_month=0, background_log_kb_per_invocation=0)
    inputs["storage"].update(lines_per_cart=0, cloudfront_log_kb_per_request=0, log_compression=0)
    inputs["fixed"] = dict.fromkeys(inputs["fixed"], 0)
    inputs["xray"] = {"reservoir_per_second": 1, "rate": 0.05}
    inputs["cognito"] = {"sign_ins_per_user_per_month": 1, "free_mau": 0}
    return inputs


def test_hand_computed_month(committed: dict[str, Any]) -> None:
    inputs = _tiny(committed)
    result = cost_model.estimate(inputs, carts_per_day=100)
    usage, costs = result["usage"], result["costs"]
    # 100 carts x 2 calls x 10 days = 2,000 calls.
    assert usage["apigateway_requests"] == 2_000
    assert usage["cloudfront_requests"] == 4_000
    assert usage["cloudfront_data_out_gb"] == pytest.approx(2_000 / 1024)
    assert usage["dynamodb_read_units"] == 6_000
    assert usage["dynamodb_write_units"] == 10_000
    assert usage["sqs_requests"] == 2_000
    assert usage["lambda_invocations"] == 2_000
    assert usage["lambda_gb_seconds"] == pytest.approx(2_000 * 0.5 * 1.0)
    assert usage["log_ingest_gb"] == pytest.approx(2_000 / 1024)
    assert usage["xray_traces"] == 2_000  # under the reservoir: every request is traced
    assert usage["cognito_mau"] == 0
    assert costs["apigateway_requests"] == 2_000
    assert costs["waf_fixed"] == 0
    assert costs["dynamodb_writes"] == 10_000
    assert result["total"] == pytest.approx(sum(costs.values()))
    assert result["per_1000_carts"] == pytest.approx(result["total"] / 1_000 * 1_000)


def test_x_ray_samples_beyond_the_reservoir(committed: dict[str, Any]) -> None:
    inputs = _tiny(committed)
    reservoir = 86_400 * 10  # 1 a second for 10 days
    carts = (reservoir + 100_000) / 2 / 10  # 100,000 requests over the reservoir
    usage = cost_model.estimate(inputs, carts_per_day=carts)["usage"]
    assert usage["xray_traces"] == pytest.approx(reservoir + 0.05 * 100_000)


def test_aggregator_batches_by_size_and_by_window(committed: dict[str, Any]) -> None:
    inputs = _tiny(committed)
    inputs["operations"]["op"] = {"stream_records": 1}
    inputs["background"].update(totals_batch_size=100, totals_batching_window_s=60, catalogue_products=16)
    # Busy: 8,640,000 records a day = 100 a second: full batches of 100, 16 products and a marker each.
    busy = cost_model.estimate(inputs, carts_per_day=8_640_000 / 2)["usage"]
    assert busy["aggregator_batches"] == pytest.approx(86_400 * 10)
    assert busy["dynamodb_write_units"] == pytest.approx(86_400 * 10 * 2 * 17)
    # Quiet: 1,440 records a day = one a minute: the window closes each batch with one record.
    quiet = cost_model.estimate(inputs, carts_per_day=720)["usage"]
    assert quiet["aggregator_batches"] == pytest.approx(1_440 * 10)
    assert quiet["dynamodb_write_units"] == pytest.approx(1_440 * 10 * 2 * 2)


def test_delete_worker_and_cognito(committed: dict[str, Any]) -> None:
    inputs = _tiny(committed)
    inputs["operations"]["migrate"] = {"delete_messages": 2, "sqs_requests": 1}
    inputs["mix"] = {"migrate": 1}
    inputs["cognito"] = {"sign_ins_per_user_per_month": 2, "free_mau": 100}
    result = cost_model.estimate(inputs, carts_per_day=100)
    usage = result["usage"]
    # 1,000 migrations: 1,000 sends; 2,000 messages, each received and deleted.
    assert usage["sqs_requests"] == 1_000 + 2_000 * 2
    assert usage["dynamodb_write_units"] == 2_000
    assert usage["lambda_invocations"] == 2_000
    assert usage["cognito_mau"] == 500
    assert result["costs"]["cognito_users"] == 400


def test_cost_grows_linearly_apart_from_fixed_items(committed: dict[str, Any]) -> None:
    small = cost_model.estimate(committed, 100_000)
    large = cost_model.estimate(committed, 1_000_000)
    for item in ("apigateway_requests", "dynamodb_reads", "cloudfront_requests", "lambda_compute"):
        assert large["costs"][item] == pytest.approx(10 * small["costs"][item])
    for item in ("waf_fixed", "cloudwatch_alarms", "cloudwatch_dashboard", "cloudwatch_metrics"):
        assert large["costs"][item] == small["costs"][item]
    assert small["costs"]["waf_fixed"] == 5 + 5  # one web ACL, five rules
    assert small["costs"]["cloudwatch_alarms"] == pytest.approx(1.3)


def test_committed_inputs_are_complete(committed: dict[str, Any]) -> None:
    for name, item in committed["prices"]["items"].items():
        assert item["per"] > 0, name
        assert item["source"].startswith("https://aws.amazon.com/"), name
        assert item["unit"], name
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", committed["prices"]["as_of"])
    assert committed["prices"]["region"] == "us-east-1"
    for name, operation in committed["operations"].items():
        assert operation["note"], name
        unknown = set(operation) - {*cost_model.COUNT_KEYS, "lambda", "note"}
        assert not unknown, (name, unknown)
        assert set(operation.get("lambda", {})) <= set(committed["functions"]), name
    assert set(committed["mix"]) - {"note"} <= set(committed["operations"])
    # Every line item is priced by one of the committed prices.
    cost_model.estimate(committed, 1)


def test_fixed_counts_are_the_synthesized_ones(committed: dict[str, Any], synth: Any) -> None:
    """Web ACL rules and alarms are billed per month: the inputs count what the templates hold."""
    templates = synth.json.values()
    acls = [r for t in templates for r in t["Resources"].values() if r["Type"] == "AWS::WAFv2::WebACL"]
    alarms = [r for t in templates for r in t["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert committed["fixed"]["waf_web_acls"] == len(acls)
    assert committed["fixed"]["waf_rules"] == sum(len(acl["Properties"]["Rules"]) for acl in acls)
    assert committed["fixed"]["alarms"] == len(alarms)


def test_counts_follow_the_design(committed: dict[str, Any]) -> None:
    """The numbers docs/COST.md derives from DESIGN.md: transactional writes cost 2 WRU per item."""
    operations = committed["operations"]
    assert operations["migrate"]["dynamodb_write_units"] == 2 * 2 * 2  # 2 lines x 2 actions x 2 WRU
    assert operations["checkout"]["dynamodb_write_units"] == 2 * 2  # 2 lines x 1 delete x 2 WRU
    assert operations["get_cart"]["dynamodb_read_units"] == 1  # a strongly consistent Query under 4 KB
    assert operations["add_to_cart"]["stream_records"] == 1
    assert operations["get_totals"]["dynamodb_read_units"] == 0.5  # eventually consistent, under 4 KB
    assert committed["background"]["aggregator_write_units_per_item"] == 2  # transactional writes
    # The fixed items match the stacks: 13 alarms, 5 web ACL rules.
    assert committed["fixed"]["alarms"] == 13
    assert committed["fixed"]["waf_rules"] == 5
    assert committed["functions"]["cart_api"]["memory_mb"] == 512


#: The shape bench/run.py writes (bench/inprocess.py's cost_operations), trimmed to two operations.
BENCH_OUTPUT = {
    "command": "make bench",
    "figures": [],
    "operations": {
        "migrate": {
            "dynamodb_read_units": 3,
            "dynamodb_write_units": 12,
            "sqs_requests": 2,
            "stream_records": 9,
            "delete_messages": 3,
            "requests": {"DynamoDB Query": 2, "DynamoDB TransactWriteItems": 1, "SQS SendMessageBatch": 1},
            "moto_consumed_capacity": 2,
            "note": "POST /cart/migrate of 3 anonymous lines ...",
        },
        "get_cart": {
            "dynamodb_read_units": 1,
            "dynamodb_write_units": 0,
            "sqs_requests": 0,
            "stream_records": 0,
            "requests": {"DynamoDB Query": 1},
            "moto_consumed_capacity": 1,
            "note": "GET /cart of a 2-line cart ...",
        },
    },
    "background": {
        "aggregator_write_units_per_item": 3,
        "delete_worker_write_units_per_message": 2,
        "note": "aggregator: ...",
    },
    "capacity": {"source": "computed", "rules": []},
}


def test_bench_operations_replace_the_committed_counts(committed: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "bench.json"
    path.write_text(json.dumps(BENCH_OUTPUT))
    inputs = cost_model.load_inputs(cost_model.INPUTS, bench=path)
    migrate = inputs["operations"]["migrate"]
    assert migrate["dynamodb_read_units"] == 3
    assert migrate["dynamodb_write_units"] == 12
    assert migrate["sqs_requests"] == 2
    assert migrate["stream_records"] == 9
    assert migrate["delete_messages"] == 3
    assert migrate["measured"] is True
    # What bench cannot measure stays committed, and so do the operations it did not measure.
    for key in ("cloudfront_requests", "waf_requests", "apigateway_requests", "lambda", "log_kb", "note"):
        assert migrate[key] == committed["operations"]["migrate"][key], key
    assert inputs["operations"]["checkout"] == committed["operations"]["checkout"]
    assert inputs["background"]["aggregator_write_units_per_item"] == 3
    assert inputs["background"]["delete_worker_write_units_per_message"] == 2
    assert inputs["background"]["totals_batch_size"] == committed["background"]["totals_batch_size"]
    assert inputs["measured"] == {
        "source": str(path),
        "operations": {
            "migrate": [
                "dynamodb_read_units",
                "dynamodb_write_units",
                "sqs_requests",
                "stream_records",
                "delete_messages",
            ],
            "get_cart": ["dynamodb_read_units", "dynamodb_write_units", "sqs_requests", "stream_records"],
        },
        "background": ["aggregator_write_units_per_item", "delete_worker_write_units_per_message"],
    }
    # The explanations bench writes beside the counts are not reported as unknown.
    assert cost_model.apply_bench(copy.deepcopy(committed), BENCH_OUTPUT) == []


def test_measured_counts_change_the_estimate(committed: dict[str, Any]) -> None:
    inputs = copy.deepcopy(committed)
    cost_model.apply_bench(inputs, BENCH_OUTPUT)
    before = cost_model.estimate(committed, 100_000)["usage"]
    after = cost_model.estimate(inputs, 100_000)["usage"]
    migrations = 100_000 * committed["mix"]["migrate"] * committed["month_days"]
    assert after["dynamodb_read_units"] - before["dynamodb_read_units"] == pytest.approx(migrations * (3 - 2))
    # SQS: one more send per migration, and one more message (received and deleted) per migration.
    worker_sqs = committed["background"]["delete_worker_sqs_requests_per_message"]
    assert after["sqs_requests"] - before["sqs_requests"] == pytest.approx(migrations * (1 + worker_sqs))
    assert after["dynamodb_stream_records"] - before["dynamodb_stream_records"] == pytest.approx(
        migrations * 3
    )


def test_measured_aggregator_rate(committed: dict[str, Any]) -> None:
    inputs = _tiny(committed)
    inputs["operations"]["op"] = {"stream_records": 1}
    inputs["background"].update(totals_batch_size=100, totals_batching_window_s=60, catalogue_products=16)
    cost_model.apply_bench(inputs, {"operations": {}, "background": {"aggregator_write_units_per_item": 3}})
    busy = cost_model.estimate(inputs, carts_per_day=8_640_000 / 2)["usage"]
    assert busy["dynamodb_write_units"] == pytest.approx(86_400 * 10 * 3 * 17)


def test_unknown_operations_and_keys_are_reported(committed: dict[str, Any], tmp_path: Path) -> None:
    bench = {
        "operations": {
            "add_to_cart": {"dynamodb_write_units": 2, "lambda": {"cart_api": 1}, "latency_ms": 12},
            "teleport": {"sqs_requests": 9},
            "get_cart": {"dynamodb_read_units": "one"},
        },
        "background": {"aggregator_write_units_per_item": 2, "totals_batch_size": 5},
        "functions": {"cart_api": {"duration_ms": 30}},
    }
    inputs = copy.deepcopy(committed)
    ignored = cost_model.apply_bench(inputs, bench, source="b.json")
    assert sorted(ignored) == [
        "b.json: add_to_cart: ignored key 'latency_ms'",
        "b.json: background: ignored key 'totals_batch_size'",
        "b.json: get_cart: ignored key 'dynamodb_read_units'",
        "b.json: unknown operation 'teleport'",
    ]
    add = inputs["operations"]["add_to_cart"]
    assert add["dynamodb_write_units"] == 2
    assert add["lambda"] == {"cart_api": 1.0}
    assert "latency_ms" not in add
    assert "teleport" not in inputs["operations"]
    # A measured key that is not a number changes nothing; an operation with no usable key is not measured.
    assert inputs["operations"]["get_cart"] == committed["operations"]["get_cart"]
    assert "get_cart" not in inputs["measured"]["operations"]
    # Only the background figures bench measures may be replaced.
    assert inputs["background"]["totals_batch_size"] == committed["background"]["totals_batch_size"]
    assert inputs["functions"]["cart_api"]["duration_ms"] == 30


def test_a_bench_file_without_operations_changes_nothing(committed: dict[str, Any]) -> None:
    inputs = copy.deepcopy(committed)
    assert cost_model.apply_bench(inputs, {"figures": []}) == [
        "bench: no 'operations' object; using the committed counts"
    ]
    assert inputs == committed


def test_the_report_says_what_was_measured(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], committed: dict[str, Any]
) -> None:
    path = tmp_path / "bench.json"
    path.write_text(json.dumps(BENCH_OUTPUT))
    cost_model.main(["--bench", str(path), "--carts", "1000"])
    report = capsys.readouterr().out.split("\n\n", 1)[1]
    assert f"Measured by make bench ({path}): migrate, get_cart (" in report
    assert (
        "DynamoDB read units, DynamoDB write units, SQS requests, stream records, delete messages)" in report
    )
    assert "Measured background: aggregator_write_units_per_item, delete_worker_write_units_per_message." in (
        report
    )
    committed_line = next(
        line for line in report.splitlines() if line.startswith("From docs/cost-inputs.json")
    )
    for name in set(committed["operations"]) - {"migrate", "get_cart"}:
        assert name in committed_line
    for what in (
        "CloudFront requests",
        "WAF requests",
        "API Gateway requests",
        "Lambda invocations",
        "log KB",
    ):
        assert what in committed_line
    assert "DynamoDB" not in committed_line

    cost_model.main(["--no-bench", "--carts", "1000"])
    assert "Counts: docs/cost-inputs.json (no bench" in capsys.readouterr().out


def test_make_cost_works_without_bench_results(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cost_model.main(["--bench", str(tmp_path / "missing.json")]) == 0
    assert "**total (USD/month)**" in capsys.readouterr().out


def test_mix_overrides_and_unknown_operations(committed: dict[str, Any]) -> None:
    mix = cost_model._parse_mix(["checkout=0.5"], committed["mix"])
    assert mix["checkout"] == 0.5
    assert "note" not in mix
    with pytest.raises(ValueError, match="unknown operation"):
        cost_model.estimate(committed, 1, {"teleport": 1})


def test_cost_md_shows_what_the_script_prints(capsys: pytest.CaptureFixture[str]) -> None:
    cost_model.main(["--no-bench"])
    table = capsys.readouterr().out.split("\n\n")[0].strip()
    document = (REPO_ROOT / "docs" / "COST.md").read_text()
    [committed_table] = re.findall(
        r"<!-- cost-table:start -->\n(.*?)\n<!-- cost-table:end -->", document, re.S
    )
    assert committed_table == table, "regenerate docs/COST.md's table: scripts/cost_model.py --no-bench"


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    cost_model.main(["--no-bench", "--format", "json", "--carts", "1000", "--mix", "migrate=0"])
    document = json.loads(capsys.readouterr().out)
    [estimate] = document["estimates"]
    assert estimate["carts_per_day"] == 1000
    assert estimate["costs"]["cognito_users"] == 0
    assert document["mix"]["migrate"] == 0


# -- bench/capacity.py: what the bench counts as billed ------------------------------------------------------


def test_item_sizes_follow_dynamodbs_rules() -> None:
    assert capacity.item_size(None) == 0
    assert capacity.item_size({"pk": {"S": "cart#ab"}}) == 2 + 7
    assert capacity.item_size({"name": {"S": "é"}}) == 4 + 2  # UTF-8 bytes
    # Numbers: 1 byte per two significant digits (leading and trailing zeroes trimmed), plus 1.
    assert capacity.item_size({"q": {"N": "7"}}) == 1 + 2
    assert capacity.item_size({"q": {"N": "1234"}}) == 1 + 3
    assert capacity.item_size({"q": {"N": "12300"}}) == 1 + 3
    assert capacity.item_size({"q": {"N": "0.00125"}}) == 1 + 3
    assert capacity.item_size({"b": {"BOOL": True}, "n": {"NULL": True}}) == 2 + 2
    # A map: 3 bytes, and 1 byte per element besides the element's name and value.
    assert capacity.item_size({"d": {"M": {"name": {"S": "Lamp"}, "price": {"N": "3499"}}}}) == (
        1 + 3 + (1 + 4 + 4) + (1 + 5 + 3)
    )
    assert capacity.item_size({"l": {"L": [{"S": "ab"}, {"N": "1"}]}}) == 1 + 3 + (1 + 2) + (1 + 2)
    assert capacity.item_size({"s": {"SS": ["a", "bc"]}}) == 1 + 3


def test_capacity_unit_rules() -> None:
    kb = capacity.KB
    # Writes: per started KB of the larger of before and after, at least 1; transactions twice that.
    assert capacity.write_units(0, 0) == 1
    assert capacity.write_units(300, 0) == 1
    assert capacity.write_units(kb, 0) == 1
    assert capacity.write_units(kb + 1, 10) == 2
    assert capacity.write_units(10, 2 * kb + 1) == 3
    assert capacity.write_units(300, 400, transactional=True) == 2
    assert capacity.write_units(1500, 0, transactional=True) == 4
    # Reads: per started 4 KB, at least 1; eventually consistent half; transactional twice.
    assert capacity.read_units(0, consistent=True) == 1
    assert capacity.read_units(0, consistent=False) == 0.5
    assert capacity.read_units(4 * kb, consistent=True) == 1
    assert capacity.read_units(4 * kb + 1, consistent=True) == 2
    assert capacity.read_units(9 * kb, consistent=False) == 1.5
    assert capacity.read_units(100, consistent=True, transactional=True) == 2
    # SQS: per started 64 KB of payload, at least 1.
    assert capacity.sqs_requests(0) == 1
    assert capacity.sqs_requests(64 * kb) == 1
    assert capacity.sqs_requests(64 * kb + 1) == 2


@dataclass
class Metered:
    meter: Any
    dynamodb: Any
    sqs: Any
    table: str
    queue: str


@pytest.fixture
def metered() -> Iterator[Metered]:
    """A table and a queue in moto, the meter, and DynamoDB and SQS clients it meters.

    Named afresh each time: when the unit tests' session-wide moto is running, this one nests in it
    and starts with what is there.
    """
    name = f"cost-model-{uuid.uuid4()}"
    with mock_aws():
        peek = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        peek.create_table(
            TableName=name,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        queue = sqs.create_queue(QueueName=name)["QueueUrl"]
        meter = capacity.CapacityMeter(peek, streamed=lambda key: key["pk"]["S"].startswith("cart#"))
        meter.attach(dynamodb, sqs)
        yield Metered(meter, dynamodb, sqs, name, queue)


def _line(pk: str, sk: str, padding: int = 0) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}, "quantity": {"N": "1"}, "detail": {"S": "x" * padding}}


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def test_meter_counts_what_dynamodb_bills(metered: Metered) -> None:
    meter, dynamodb, table = metered.meter, metered.dynamodb, metered.table
    with meter.measuring() as usage:
        dynamodb.put_item(TableName=table, Item=_line("cart#1", "a", padding=1500))  # 1.5 KB: 2 WRU
    assert (usage.write_units, usage.stream_records) == (2, 1)
    with meter.measuring() as usage:
        # Changes an item of 1.5 KB: the larger of its sizes counts.
        dynamodb.update_item(
            TableName=table,
            Key=_key("cart#1", "a"),
            UpdateExpression="SET quantity = :q",
            ExpressionAttributeValues={":q": {"N": "2"}},
        )
    assert (usage.write_units, usage.stream_records) == (2, 1)
    with meter.measuring() as usage:
        dynamodb.transact_write_items(
            TransactItems=[{"Put": {"TableName": table, "Item": _line("cart#2", f"p{i}")}} for i in range(3)]
            + [{"Put": {"TableName": table, "Item": _line("totals", "p0")}}]
        )
    # 2 WRU an item in a transaction; the totals item is written but filtered out of the stream.
    assert (usage.write_units, usage.stream_records) == (8, 3)
    assert usage.calls == {"DynamoDB TransactWriteItems": 1}
    with meter.measuring() as usage:
        dynamodb.query(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "cart#1"}},
            ProjectionExpression="sk",
            ConsistentRead=True,
        )
        dynamodb.query(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "cart#none"}},
        )
        dynamodb.get_item(TableName=table, Key=_key("cart#1", "a"))
    # The projection does not make the read cheaper; an empty Query still costs the minimum.
    assert usage.read_units == 1 + 0.5 + 0.5
    # ReturnConsumedCapacity was added to the requests: moto answered it (with its constants).
    assert usage.moto_capacity > 0
    with meter.measuring() as usage, pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
        dynamodb.delete_item(
            TableName=table, Key=_key("cart#1", "a"), ConditionExpression="attribute_exists(migratedTo)"
        )
    # A failed condition still costs the item's size, and changes nothing: no stream record.
    assert (usage.write_units, usage.stream_records) == (2, 0)
    with meter.measuring() as usage:
        dynamodb.delete_item(TableName=table, Key=_key("cart#9", "absent"))
    assert (usage.write_units, usage.stream_records) == (1, 0)


def test_meter_counts_sqs_requests_per_64_kb(metered: Metered) -> None:
    meter, sqs, queue = metered.meter, metered.sqs, metered.queue
    with meter.measuring() as usage:
        sqs.send_message_batch(
            QueueUrl=queue, Entries=[{"Id": str(i), "MessageBody": '{"pk": "cart#1"}'} for i in range(10)]
        )
    assert (usage.sqs_requests, usage.messages_sent) == (1, 10)
    with meter.measuring() as usage:
        sqs.send_message_batch(
            QueueUrl=queue, Entries=[{"Id": str(i), "MessageBody": "x" * 30_000} for i in range(5)]
        )
    assert (usage.sqs_requests, usage.messages_sent) == (3, 5)  # 150,000 bytes: three 64 KB chunks


def test_meter_is_idle_outside_a_measurement(metered: Metered) -> None:
    metered.dynamodb.put_item(TableName=metered.table, Item=_line("cart#1", "a"))
    with metered.meter.measuring() as usage:
        pass
    assert usage == capacity.Usage()
