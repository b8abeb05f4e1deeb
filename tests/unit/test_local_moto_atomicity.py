"""local/moto_atomicity.py: DynamoDB's transaction semantics on moto (all or nothing, no stream record
of a cancelled transaction), at the cost of the items a transaction touches, and no model instance kept
after nothing refers to it. The unit suite runs on this patch (tests/unit/support.py installs it)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item

from .support import REGION, AwsStack, MotoClients, create_stack


@pytest.fixture
def stack(moto_clients: MotoClients) -> Iterator[AwsStack]:
    created = create_stack(moto_clients)
    yield created
    created.delete()


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def put(stack: AwsStack, pk: str, sk: str, quantity: int) -> None:
    stack.dynamodb.put_item(
        TableName=stack.table_name, Item={**key(pk, sk), "quantity": {"N": str(quantity)}}
    )


def items(stack: AwsStack) -> dict[tuple[str, str], int]:
    return {(i["pk"]["S"], i["sk"]["S"]): int(i["quantity"]["N"]) for i in stack.scan()}


def stored_item(stack: AwsStack, pk: str, sk: str) -> Item:
    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].tables[stack.table_name]
    return table.items[DynamoType({"S": pk})][DynamoType({"S": sk})]


def four_actions(stack: AwsStack, last: dict[str, Any]) -> list[dict[str, Any]]:
    """An update, a delete and a put of a new item, then `last`."""
    table = stack.table_name
    return [
        {
            "Update": {
                "TableName": table,
                "Key": key("cart#a", "product#1"),
                "UpdateExpression": "SET quantity = quantity + :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        },
        {"Delete": {"TableName": table, "Key": key("cart#a", "product#2")}},
        {"Put": {"TableName": table, "Item": {**key("cart#new", "product#3"), "quantity": {"N": "3"}}}},
        last,
    ]


@pytest.fixture
def arranged(stack: AwsStack) -> AwsStack:
    put(stack, "cart#a", "product#1", 1)
    put(stack, "cart#a", "product#2", 2)
    put(stack, "cart#b", "product#1", 5)
    stack.stream_records()  # read past the arrangement
    return stack


def failing_check(stack: AwsStack) -> dict[str, Any]:
    return {
        "ConditionCheck": {
            "TableName": stack.table_name,
            "Key": key("cart#b", "product#1"),
            "ConditionExpression": "quantity > :big",
            "ExpressionAttributeValues": {":big": {"N": "100"}},
        }
    }


def test_a_transaction_cancelled_by_its_last_action_changes_nothing_and_writes_no_stream_record(
    arranged: AwsStack,
):
    before = items(arranged)

    with pytest.raises(ClientError) as cancelled:
        arranged.dynamodb.transact_write_items(TransactItems=four_actions(arranged, failing_check(arranged)))

    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r["Code"] for r in cancelled.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "None", "ConditionalCheckFailed"]
    assert items(arranged) == before
    assert arranged.stream_records() == []
    # The stream goes on after the rollback: the next write is the next record a reader sees.
    put(arranged, "cart#b", "product#9", 9)
    assert [r["eventName"] for r in arranged.stream_records()] == ["INSERT"]


def test_a_transaction_naming_one_item_twice_is_rejected_and_changes_nothing(arranged: AwsStack):
    before = items(arranged)
    twice = {"Delete": {"TableName": arranged.table_name, "Key": key("cart#a", "product#1")}}

    with pytest.raises(ClientError) as rejected:
        arranged.dynamodb.transact_write_items(TransactItems=four_actions(arranged, twice))

    assert rejected.value.response["Error"]["Code"] == "ValidationException"
    assert items(arranged) == before
    assert arranged.stream_records() == []


def test_a_transaction_that_succeeds_applies_every_action_with_its_stream_records(arranged: AwsStack):
    passing = {"Delete": {"TableName": arranged.table_name, "Key": key("cart#b", "product#1")}}

    arranged.dynamodb.transact_write_items(TransactItems=four_actions(arranged, passing))

    assert items(arranged) == {("cart#a", "product#1"): 2, ("cart#new", "product#3"): 3}
    records = arranged.stream_records()
    assert [r["eventName"] for r in records] == ["MODIFY", "REMOVE", "INSERT", "REMOVE"]
    assert records[0]["dynamodb"]["OldImage"]["quantity"] == {"N": "1"}


def test_a_cancelled_transaction_puts_back_the_items_as_they_were_not_copies_that_differ(arranged: AwsStack):
    with pytest.raises(ClientError):
        arranged.dynamodb.transact_write_items(TransactItems=four_actions(arranged, failing_check(arranged)))

    updated = arranged.get_item("cart#a", "product#1")
    assert updated == {**key("cart#a", "product#1"), "quantity": {"N": "1"}}
    assert arranged.get_item("cart#new", "product#3") is None


def test_a_transaction_copies_the_items_it_touches_not_the_table(
    arranged: AwsStack, monkeypatch: pytest.MonkeyPatch
):
    for number in range(500):
        put(arranged, f"cart#{number % 50}", f"product#{number}", 1)
    copies = []
    original = Item.__deepcopy__
    monkeypatch.setattr(Item, "__deepcopy__", lambda self, memo: copies.append(self) or original(self, memo))

    with pytest.raises(ClientError):
        arranged.dynamodb.transact_write_items(TransactItems=four_actions(arranged, failing_check(arranged)))

    # The journal's copy of each item named, and the update's old image: never the 500 items.
    assert 0 < len(copies) <= 2 * 4


def test_an_item_version_nothing_refers_to_is_freed(stack: AwsStack):
    """moto's models kept a reference to every instance ever made (each item version, each copy of a
    table): memory grew with every write and never came back."""
    put(stack, "cart#a", "product#1", 1)
    first = weakref.ref(stored_item(stack, "cart#a", "product#1"))
    put(stack, "cart#a", "product#1", 2)
    stack.dynamodb.transact_write_items(
        TransactItems=[{"Delete": {"TableName": stack.table_name, "Key": key("cart#a", "product#1")}}]
    )
    # The stream records hold images (plain dicts), not the items.
    gc.collect()

    assert first() is None
