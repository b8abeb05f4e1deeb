"""The totals aggregator, fed with the table's real stream records (moto's DynamoDB stream)."""

from __future__ import annotations

import copy
import uuid

import pytest
from botocore.exceptions import ClientError

import cart.aggregator
import cart.delete_worker
import cart.repository
from cart.aggregator import batch_id, chunks, live_quantity, product_deltas

from .support import LambdaContext

LANTERN = "trail-lantern"
TENT = "dome-tent-2p"
TTL_DELETION = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


def aggregate(records):
    return cart.aggregator.handler({"Records": records}, LambdaContext())


def sqs_event(messages):
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:queue",
                "awsRegion": "us-east-1",
            }
            for message in messages
        ]
    }


@pytest.fixture
def transactions():
    """The TransactItems of every TransactWriteItems the runtime sends."""
    sent = []

    def record(params, **_kwargs):
        sent.append(params["TransactItems"])

    events = cart.repository._dynamodb().meta.events
    events.register("provide-client-params.dynamodb.TransactWriteItems", record)
    yield sent
    events.unregister("provide-client-params.dynamodb.TransactWriteItems", record)


def test_totals_follow_every_kind_of_cart_change(call, aws, identity_provider):
    anonymous = str(uuid.uuid4())
    token = identity_provider.token(sub="shopper")
    call("POST", "/cart", json_body={"productId": LANTERN, "quantity": 3}, cart_id=anonymous)
    call("POST", "/cart", json_body={"productId": TENT, "quantity": 1}, cart_id=anonymous)
    call("POST", "/cart", json_body={"productId": LANTERN, "quantity": 2}, token=token)
    aggregate(aws.stream_records())
    assert aws.stored_totals() == {LANTERN: 5, TENT: 1}

    call("POST", "/cart", json_body={"productId": LANTERN, "quantity": -1}, cart_id=anonymous)
    call("PUT", f"/cart/{TENT}", json_body={"quantity": 4}, cart_id=anonymous)
    call("POST", "/cart/migrate", cart_id=anonymous, token=token)
    aggregate(aws.stream_records())
    assert aws.stored_totals() == aws.expected_totals() == {LANTERN: 4, TENT: 4}

    call("POST", "/cart/checkout", token=token)
    aggregate(aws.stream_records())
    assert aws.stored_totals() == {}
    assert call("GET", "/cart/totals", token=identity_provider.admin_token()).body == {
        "totals": [{"product": TENT, "quantity": 0}, {"product": LANTERN, "quantity": 0}]
    }


def test_a_batch_delivered_twice_changes_nothing(call, aws):
    cart_id = str(uuid.uuid4())
    call("POST", "/cart", json_body={"productId": LANTERN, "quantity": 3}, cart_id=cart_id)
    call("POST", "/cart", json_body={"productId": TENT, "quantity": 1}, cart_id=cart_id)
    batch = aws.stream_records()

    aggregate(batch)
    aggregate(copy.deepcopy(batch))

    assert aws.stored_totals() == {LANTERN: 3, TENT: 1}


def test_a_batch_retried_after_failing_midway_is_applied_exactly_once(aws, transactions, monkeypatch):
    products = [f"product-{number:03d}" for number in range(150)]
    for product in products:
        aws.put_line(f"cart#{uuid.uuid4()}", product, 2)
    batch = aws.stream_records()
    real_add = cart.repository.CartRepository.add_to_totals
    calls = []

    def fail_on_second_chunk(self, marker, deltas, expiration_time):
        calls.append(marker)
        if len(calls) == 2:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "Transact")
        return real_add(self, marker, deltas, expiration_time)

    monkeypatch.setattr(cart.repository.CartRepository, "add_to_totals", fail_on_second_chunk)
    with pytest.raises(ClientError):
        aggregate(batch)
    assert len(aws.stored_totals()) == 99  # the first chunk was written before the failure

    monkeypatch.setattr(cart.repository.CartRepository, "add_to_totals", real_add)
    aggregate(copy.deepcopy(batch))  # Lambda retries the whole batch

    assert aws.stored_totals() == dict.fromkeys(products, 2)
    assert [len(items) for items in transactions] == [100, 100, 52]  # the retry's first chunk was refused


def test_ttl_deletion_lowers_the_total(call, aws):
    cart_id = str(uuid.uuid4())
    call("POST", "/cart", json_body={"productId": LANTERN, "quantity": 3}, cart_id=cart_id)
    aggregate(aws.stream_records())
    aws.dynamodb.delete_item(
        TableName=aws.table_name, Key={"pk": {"S": f"cart#{cart_id}"}, "sk": {"S": f"product#{LANTERN}"}}
    )
    [removal] = aws.stream_records()
    removal["userIdentity"] = TTL_DELETION  # what DynamoDB adds to the REMOVE events of its TTL deletions

    aggregate([removal])

    assert removal["eventName"] == "REMOVE"
    assert aws.stored_totals() == {}


def test_migration_and_the_delete_worker_leave_totals_unchanged(call, aws, identity_provider):
    cart_id = str(uuid.uuid4())
    call("POST", "/cart", json_body={"productId": LANTERN, "quantity": 3}, cart_id=cart_id)
    aggregate(aws.stream_records())

    call("POST", "/cart/migrate", cart_id=cart_id, token=identity_provider.token(sub="migrant"))
    migration = aws.stream_records()
    aggregate(migration)
    assert aws.stored_totals() == {LANTERN: 3}

    cart.delete_worker.handler(sqs_event(aws.receive_all()), LambdaContext())
    deletion = aws.stream_records()
    aggregate(deletion)

    assert [record["eventName"] for record in migration] == ["MODIFY", "INSERT"]
    assert [record["eventName"] for record in deletion] == ["REMOVE"]
    assert aws.stored_totals() == {LANTERN: 3}


def test_each_product_is_written_once_per_batch(call, aws, transactions):
    cart_id = str(uuid.uuid4())
    for quantity in (1, 2, -1, 3):
        call("POST", "/cart", json_body={"productId": LANTERN, "quantity": quantity}, cart_id=cart_id)
    call("POST", "/cart", json_body={"productId": TENT, "quantity": 2}, cart_id=cart_id)

    aggregate(aws.stream_records())

    [items] = transactions
    updates = [item["Update"]["Key"]["sk"]["S"] for item in items if "Update" in item]
    assert sorted(updates) == [f"product#{TENT}", f"product#{LANTERN}"]
    assert items[-1]["Put"]["ConditionExpression"] == "attribute_not_exists(pk)"
    assert aws.stored_totals() == {LANTERN: 5, TENT: 2}


def test_a_batch_with_no_net_change_writes_nothing(call, aws, aws_requests):
    cart_id = str(uuid.uuid4())
    call("POST", "/cart", json_body={"productId": LANTERN, "quantity": 2}, cart_id=cart_id)
    call("POST", "/cart", json_body={"productId": LANTERN, "quantity": -2}, cart_id=cart_id)
    batch = aws.stream_records()
    aws_requests.clear()

    aggregate(batch)

    assert aws_requests.operations == []


def test_records_that_are_not_cart_lines_are_ignored(aws, aws_requests):
    record = {
        "eventID": "1",
        "eventName": "INSERT",
        "dynamodb": {
            "Keys": {"pk": {"S": "totals"}, "sk": {"S": f"product#{LANTERN}"}},
            "NewImage": {"pk": {"S": "totals"}, "sk": {"S": f"product#{LANTERN}"}, "quantity": {"N": "5"}},
        },
    }
    aws_requests.clear()

    aggregate([record])

    assert aws_requests.operations == []


def test_a_conflict_is_raised_so_that_lambda_retries_the_batch(aws, monkeypatch):
    conflict = ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
            "CancellationReasons": [{"Code": "TransactionConflict"}, {"Code": "None"}],
        },
        "TransactWriteItems",
    )

    class Conflicted:
        def transact_write_items(self, **_kwargs):
            raise conflict

    monkeypatch.setattr(cart.repository, "_dynamodb", Conflicted)
    aws.put_line(f"cart#{uuid.uuid4()}", LANTERN, 1)

    with pytest.raises(ClientError):
        aggregate(aws.stream_records())


# -- the pure parts ------------------------------------------------------------------------------------


def test_live_quantity_counts_unmigrated_lines_only():
    assert live_quantity(None) == 0
    assert live_quantity({"quantity": {"N": "4"}}) == 4
    assert live_quantity({"quantity": {"N": "4"}, "migratedTo": {"S": "user"}}) == 0


def test_product_deltas_net_out_within_a_batch():
    def record(event_name, old, new, pk="cart#a"):
        change = {"Keys": {"pk": {"S": pk}, "sk": {"S": "product#x"}}}
        if old is not None:
            change["OldImage"] = {"quantity": {"N": str(old)}}
        if new is not None:
            change["NewImage"] = {"quantity": {"N": str(new)}}
        return {"eventName": event_name, "dynamodb": change}

    records = [record("INSERT", None, 2), record("MODIFY", 2, 5), record("REMOVE", 5, None, pk="user#b")]

    assert product_deltas(records) == {}
    assert product_deltas(records[:2]) == {"x": 5}


def test_batch_id_depends_on_the_ordered_event_ids():
    records = [{"eventID": "a"}, {"eventID": "b"}]

    assert batch_id(records) == batch_id(copy.deepcopy(records))
    assert batch_id(records) != batch_id(list(reversed(records)))
    assert batch_id(records) != batch_id(records[:1])


def test_chunks_are_sorted_and_hold_99_products():
    deltas = {f"p{number:03d}": 1 for number in reversed(range(200))}

    result = list(chunks(deltas))

    assert [len(chunk) for chunk in result] == [99, 99, 2]
    assert [product for chunk in result for product, _ in chunk] == sorted(deltas)
