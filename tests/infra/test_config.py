"""One configuration schema (runtime/shared/config.py): the README's table, cdk.json, the constructs'
defaults, each function's environment and the storefront's config.json all come from it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from infra_helpers import Synthesized, function_by_handler
from test_frontend import _config

from app import _KEYS, _RETENTION, Settings
from shopping_cart import CartRules, ShoppingCartProps
from shopping_cart.runtime.shared import config

REPO = Path(__file__).resolve().parents[2]
HANDLERS = {
    "cart.api.handler": "api",
    "cart.aggregator.handler": "aggregator",
    "cart.delete_worker.handler": "delete_worker",
    "products.api.handler": "products",
}


def _default(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return json.dumps(list(value))
    return '""' if value == "" else str(value)


def _readme_rows() -> list[tuple[str, ...]]:
    section = (REPO / "README.md").read_text().split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return [tuple(cell.strip() for cell in row.strip().strip("|").split(" | ")) for row in rows]


def test_the_readme_table_is_the_schema() -> None:
    expected = [(f"`{s.key}`", f"`{_default(s.default)}`", s.meaning) for s in config.APP.values()]
    assert _readme_rows() == expected


def test_cdk_json_holds_known_keys_with_valid_values() -> None:
    context = json.loads((REPO / "cdk.json").read_text())["context"]["shopping-cart"]
    assert set(context) <= set(config.APP)
    for key, value in context.items():
        config.APP[key].parse(value)


def test_the_app_reads_every_key_and_only_those() -> None:
    assert tuple(config.APP) == _KEYS
    assert set(vars(Settings())) == {s.attribute for s in config.APP.values()}
    assert set(_RETENTION) == set(config.LOG_RETENTION_DAYS)


def test_construct_defaults_are_the_schema_defaults() -> None:
    rules = CartRules()
    assert rules.max_quantity == config.APP["maxQuantity"].default == config.ENV["MAX_QUANTITY"].default
    assert rules.anonymous_cart_ttl.to_seconds() == config.APP["anonymousCartTtlDays"].default * 86400
    assert rules.user_cart_ttl.to_seconds() == config.APP["userCartTtlDays"].default * 86400
    assert rules.admin_group == config.APP["adminGroup"].default
    assert ShoppingCartProps.totals_batch_size == config.APP["totalsBatchSize"].default
    window = ShoppingCartProps.totals_batching_window.to_seconds()
    assert window == config.APP["totalsBatchingWindowSeconds"].default


@pytest.mark.parametrize("handler", sorted(HANDLERS))
def test_each_function_gets_exactly_its_variables(synth: Synthesized, handler: str) -> None:
    template = synth.json[
        "ShoppingCart-ProductMock" if handler.startswith("products") else "ShoppingCart-Cart"
    ]
    variables = function_by_handler(template, handler)[1]["Properties"]["Environment"]["Variables"]
    assert set(variables) == set(config.FUNCTIONS[HANDLERS[handler]])


def test_environment_refuses_values_outside_the_bounds_and_unknown_ones() -> None:
    with pytest.raises(config.SettingError, match="MAX_QUANTITY"):
        config.environment("api", {"max_quantity": 0, "table_name": "t"})
    with pytest.raises(config.SettingError, match="no variable for max_quantity"):
        config.environment("aggregator", {"table_name": "t", "max_quantity": 5})
    with pytest.raises(config.SettingError, match="TABLE_NAME required"):
        config.environment("aggregator", {})


def test_the_storefront_gets_max_quantity(
    synth: Synthesized, dev: Synthesized, overridden: Synthesized
) -> None:
    # On AWS in config.json (the Frontend's deployment); locally from the Cart stack's outputs, which
    # the local stack turns into config.json.
    assert _config(synth, synth.json["ShoppingCart-Frontend"])["maxQuantity"] == 1000
    assert _config(overridden, overridden.json["Test-Frontend"])["maxQuantity"] == 99
    assert dev.json["ShoppingCart-Cart"]["Outputs"]["MaxQuantity"]["Value"] == "1000"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "https://a.example.com/, ,http://localhost:8080",
            ("https://a.example.com", "http://localhost:8080"),
        ),
        ('["https://a.example.com/"]', ("https://a.example.com",)),
        (["https://a.example.com"], ("https://a.example.com",)),
        ("", ()),
    ],
)
def test_one_origins_parser_for_the_app_and_both_runtimes(raw: Any, expected: tuple[str, ...]) -> None:
    assert config.parse_origins(raw) == expected


def test_no_other_origins_parser() -> None:
    # The CDK app, the cart's settings and the product mock all parse origins with config.parse_origins.
    for path in ("app.py", "runtime/cart/settings.py", "runtime/products/api.py"):
        text = (REPO / path).read_text()
        assert 'split(",")' not in text, path
