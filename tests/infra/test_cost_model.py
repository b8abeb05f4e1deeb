"""scripts/cost_model.py: the arithmetic, the committed inputs, the bench overlay and docs/COST.md's table."""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

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
    assert small["costs"]["waf_fixed"] == 5 + 4  # one web ACL, four rules
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


def test_counts_follow_the_design(committed: dict[str, Any]) -> None:
    """The numbers docs/COST.md derives from DESIGN.md: transactional writes cost 2 WRU per item."""
    operations = committed["operations"]
    assert operations["migrate"]["dynamodb_write_units"] == 2 * 2 * 2  # 2 lines x 2 actions x 2 WRU
    assert operations["checkout"]["dynamodb_write_units"] == 2 * 2  # 2 lines x 1 delete x 2 WRU
    assert operations["get_cart"]["dynamodb_read_units"] == 1  # a strongly consistent Query under 4 KB
    assert operations["add_to_cart"]["stream_records"] == 1
    # The fixed items match the stacks: 13 alarms, 4 web ACL rules.
    assert committed["fixed"]["alarms"] == 13
    assert committed["fixed"]["waf_rules"] == 4
    assert committed["functions"]["cart_api"]["memory_mb"] == 512


def test_bench_results_replace_measured_counts(committed: dict[str, Any], tmp_path: Path) -> None:
    bench = {
        "operations": {
            "add_to_cart": {"dynamodb_write_units": 2, "lambda": {"cart_api": 1}, "latency_ms": 12},
            "teleport": {"sqs_requests": 9},
        },
        "functions": {"cart_api": {"duration_ms": 30}},
    }
    path = tmp_path / "bench.json"
    path.write_text(json.dumps(bench))
    inputs = cost_model.load_inputs(cost_model.INPUTS, bench=path)
    add = inputs["operations"]["add_to_cart"]
    assert add["dynamodb_write_units"] == 2
    assert add["lambda"] == {"cart_api": 1.0}
    assert add["measured"] is True
    assert "latency_ms" not in add
    assert inputs["functions"]["cart_api"]["duration_ms"] == 30
    assert inputs["operations"]["get_cart"] == committed["operations"]["get_cart"]
    ignored = cost_model.apply_bench(copy.deepcopy(committed), bench)
    assert any("teleport" in message for message in ignored)
    assert any("latency_ms" in message for message in ignored)


def test_a_bench_file_without_operations_changes_nothing(committed: dict[str, Any]) -> None:
    inputs = copy.deepcopy(committed)
    assert cost_model.apply_bench(inputs, {"results": []})
    assert inputs == committed


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
