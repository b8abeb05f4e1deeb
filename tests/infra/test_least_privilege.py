"""Each function's role may call exactly the DynamoDB actions its code calls, writing only its keys.

The expected actions are derived from runtime/ (runtime_calls.py scans each handler's reachable code),
never written here: a new DynamoDB call in the runtime (an idempotency record, a marker) fails
test_each_role_allows_exactly_what_its_code_calls until TABLE_ACCESS in constructs/shopping_cart/cart.py
grants it, with the partition keys it writes.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from infra_helpers import Synthesized, as_list, function_by_handler, resources, role_statements
from runtime_calls import dynamodb_actions, string_prefixes

from shopping_cart import functions
from shopping_cart.cart import ANONYMOUS_LINE_KEYS, CART_LINE_KEYS, MARKER_KEYS, TABLE_ACCESS, TOTALS_KEYS

RUNTIME = Path(__file__).resolve().parents[2] / "runtime"
HANDLERS = {
    "api": functions.CART_API_HANDLER,
    "aggregator": functions.AGGREGATOR_HANDLER,
    "delete_worker": functions.DELETE_WORKER_HANDLER,
}
#: Read actions: IAM reads need no key condition here (the API reads lines and totals).
READS = {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchGetItem"}
#: Stream actions belong to the event source mapping and target the stream, not the table.
STREAM_ACTIONS = {
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
}


def _module(handler: str) -> str:
    return handler.rsplit(".", 1)[0]


def _table_statements(synthesized: Synthesized, handler: str) -> list[dict[str, Any]]:
    [template] = [t for t in synthesized.json.values() if resources(t, "AWS::DynamoDB::Table")]
    [table] = resources(template, "AWS::DynamoDB::Table")
    _, function = function_by_handler(template, handler)
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    target = {"Fn::GetAtt": [table, "Arn"]}
    return [s for s in role_statements(template, role) if target in as_list(s["Resource"])]


@pytest.mark.parametrize("name", sorted(HANDLERS))
@pytest.mark.parametrize("fixture", ["synth", "custom"])
def test_each_role_allows_exactly_what_its_code_calls(
    name: str, fixture: str, request: pytest.FixtureRequest
) -> None:
    synthesized: Synthesized = request.getfixturevalue(fixture)
    called = dynamodb_actions(RUNTIME, _module(HANDLERS[name]))
    statements = _table_statements(synthesized, HANDLERS[name])
    allowed = {action for s in statements if s["Effect"] == "Allow" for action in as_list(s["Action"])}
    assert allowed - STREAM_ACTIONS == called, (
        f"{name}: grant {sorted(allowed)} but the code calls {sorted(called)}"
    )
    declared = TABLE_ACCESS[name]
    assert set(declared["reads"]) | set(declared["writes"]) == called


@pytest.mark.parametrize("name", sorted(HANDLERS))
def test_every_write_is_scoped_to_the_partition_keys_it_writes(name: str, synth: Synthesized) -> None:
    writes = TABLE_ACCESS[name]["writes"]
    assert isinstance(writes, dict)
    for statement in _table_statements(synth, HANDLERS[name]):
        actions = set(as_list(statement["Action"])) - STREAM_ACTIONS
        if actions <= READS:
            continue
        assert not actions & READS, "reads and writes never share a statement"
        keys = statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
        for action in actions:
            assert tuple(keys) == writes[action], (name, action, keys)


def test_the_key_patterns_are_the_runtimes_own_prefixes() -> None:
    """The LeadingKeys patterns follow the item layout the runtime writes (docs/DESIGN.md)."""
    import sys

    sys.path.insert(0, str(RUNTIME))
    try:
        from cart.repository import CART_PK_PREFIXES, TOTALS_PK
    finally:
        sys.path.remove(str(RUNTIME))
    assert tuple(f"{prefix}*" for prefix in CART_PK_PREFIXES.values()) == CART_LINE_KEYS
    assert (f"{CART_PK_PREFIXES['anonymous']}*",) == ANONYMOUS_LINE_KEYS
    assert TOTALS_KEYS == (TOTALS_PK,)
    marker_prefixes = {p for p in string_prefixes(RUNTIME, "cart.aggregator") if p.endswith("#")}
    assert tuple(f"{prefix}*" for prefix in sorted(marker_prefixes)) == MARKER_KEYS


def test_the_product_function_has_no_table_access(synth: Synthesized) -> None:
    assert dynamodb_actions(RUNTIME, _module(functions.PRODUCT_HANDLER)) == set()
    _, template = synth.by_suffix("-ProductMock")
    for policy in resources(template, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert not any(a.startswith("dynamodb:") for a in as_list(statement["Action"]))


def test_the_scan_finds_direct_string_dispatched_and_transaction_calls(tmp_path: Path) -> None:
    """The derivation itself: a handler that scans, dispatches by name and checks a condition in a
    transaction is seen to need Scan, BatchWriteItem and ConditionCheckItem; unreachable code is not."""
    source = {
        "cart/__init__.py": "",
        "cart/worker.py": """
            from .store import Store

            def handler(event, context):
                return Store().sweep()
        """,
        "cart/store.py": """
            def _call(operation, **request):
                return getattr(client(), operation)(**request)

            class Store:
                def sweep(self):
                    client().scan(TableName="t")
                    _call("batch_write_item", RequestItems={})
                    client().transact_write_items(TransactItems=[{"ConditionCheck": {"TableName": "t"}}])

                def never_called(self):
                    client().delete_table(TableName="t")
        """,
    }
    for name, text in source.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(textwrap.dedent(text))
    assert dynamodb_actions(tmp_path, "cart.worker") == {
        "dynamodb:Scan",
        "dynamodb:BatchWriteItem",
        "dynamodb:ConditionCheckItem",
    }


def test_the_scan_sees_import_time_code_and_library_persistence(tmp_path: Path) -> None:
    """Powertools idempotency configured at import calls DynamoDB from inside the library."""
    source = {
        "cart/__init__.py": "",
        "cart/worker.py": """
            from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

            persistence = DynamoDBPersistenceLayer(table_name="t")

            def handler(event, context):
                return None
        """,
    }
    for name, text in source.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(textwrap.dedent(text))
    assert dynamodb_actions(tmp_path, "cart.worker") == {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    }


def test_the_cart_may_invoke_the_product_service_route_only(synth: Synthesized) -> None:
    """execute-api:Invoke on exactly the AWS_IAM method the cart calls, signed (PRODUCT_SERVICE_AUTH)."""
    import json

    from infra_helpers import resolve_cross_stack

    _, cart = synth.by_suffix("-Cart")
    _, function = function_by_handler(cart, functions.CART_API_HANDLER)
    assert function["Properties"]["Environment"]["Variables"]["PRODUCT_SERVICE_AUTH"] == "iam"
    statements = [
        s
        for s in role_statements(cart, function["Properties"]["Role"]["Fn::GetAtt"][0])
        if any(a.startswith("execute-api:") for a in as_list(s["Action"]))
    ]
    [statement] = statements
    assert statement["Action"] == "execute-api:Invoke"
    [resource] = as_list(statement["Resource"])
    arn = json.dumps(resolve_cross_stack(resource, synth))
    _, products = synth.by_suffix("-ProductMock")
    [api] = resources(products, "AWS::ApiGateway::RestApi")
    assert ":execute-api:" in arn
    assert json.dumps({"Ref": api}) in arn
    assert arn.endswith('"/GET/internal/product/*"]]}')
    # Every other role of the app has no execute-api permission at all.
    for template in synth.json.values():
        for policy in resources(template, "AWS::IAM::Policy").values():
            for s in policy["Properties"]["PolicyDocument"]["Statement"]:
                if s is not statement and s != statement:
                    assert not any(a.startswith("execute-api:") for a in as_list(s["Action"]))
