"""The delete worker: conditional deletes of migrated lines, partial batch failures, idempotence."""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError

import cart.delete_worker
import cart.repository

from .support import LambdaContext

LANTERN = "trail-lantern"
TENT = "dome-tent-2p"


def message(body, message_id=None):
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": "handle",
        "body": body if isinstance(body, str) else json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:cart-delete-queue",
        "awsRegion": "us-east-1",
    }


def run(*messages):
    return cart.delete_worker.handler({"Records": list(messages)}, LambdaContext())


def key(cart_id, product):
    return {"pk": f"cart#{cart_id}", "sk": f"product#{product}"}


def test_deletes_migrated_lines(aws):
    cart_id = str(uuid.uuid4())
    aws.put_line(f"cart#{cart_id}", LANTERN, 2, migrated_to="user-1")
    aws.put_line(f"cart#{cart_id}", TENT, 1, migrated_to="user-1")

    response = run(message(key(cart_id, LANTERN)), message(key(cart_id, TENT)))

    assert response == {"batchItemFailures": []}
    assert aws.quantities(f"cart#{cart_id}") == {}


def test_the_messages_a_migration_sends_are_the_ones_the_worker_reads(call, aws, identity_provider):
    cart_id = str(uuid.uuid4())
    aws.put_line(f"cart#{cart_id}", LANTERN, 2)
    call("POST", "/cart/migrate", cart_id=cart_id, token=identity_provider.token(sub="user-2"))

    queued = aws.receive_all()
    response = run(*(message(item["Body"], item["MessageId"]) for item in queued))

    assert response == {"batchItemFailures": []}
    assert aws.quantities(f"cart#{cart_id}") == {}
    assert aws.quantities("user#user-2") == {LANTERN: 2}


def test_is_idempotent(aws):
    cart_id = str(uuid.uuid4())
    aws.put_line(f"cart#{cart_id}", LANTERN, 2, migrated_to="user-1")
    delivered = message(key(cart_id, LANTERN))

    first = run(delivered)
    second = run(delivered)  # SQS delivers at least once

    assert first == second == {"batchItemFailures": []}
    assert aws.quantities(f"cart#{cart_id}") == {}


def test_leaves_a_line_that_was_revived_after_its_migration(aws):
    cart_id = str(uuid.uuid4())
    aws.put_line(f"cart#{cart_id}", LANTERN, 1)  # an add through the old cookie removed the mark

    response = run(message(key(cart_id, LANTERN)))

    assert response == {"batchItemFailures": []}
    assert aws.quantities(f"cart#{cart_id}") == {LANTERN: 1}


def test_reports_only_the_messages_that_failed(aws, monkeypatch):
    cart_id = str(uuid.uuid4())
    for product in (LANTERN, TENT, "titanium-pot"):
        aws.put_line(f"cart#{cart_id}", product, 1, migrated_to="user-1")
    real_delete = cart.repository.CartRepository.delete_migrated_line

    def throttled_for_the_tent(self, pk, sk):
        if sk == f"product#{TENT}":
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "DeleteItem")
        return real_delete(self, pk, sk)

    monkeypatch.setattr(cart.repository.CartRepository, "delete_migrated_line", throttled_for_the_tent)

    response = run(
        message(key(cart_id, LANTERN), "m-lantern"),
        message(key(cart_id, TENT), "m-tent"),
        message("not json", "m-garbage"),
        message({"pk": "user#victim", "sk": f"product#{LANTERN}"}, "m-user-line"),
        message(key(cart_id, "titanium-pot"), "m-pot"),
    )

    failed = sorted(item["itemIdentifier"] for item in response["batchItemFailures"])
    assert failed == ["m-garbage", "m-tent", "m-user-line"]
    assert aws.quantities(f"cart#{cart_id}") == {TENT: 1}


def test_never_deletes_a_signed_in_users_line(aws):
    cart_id = str(uuid.uuid4())
    aws.put_line("user#victim", LANTERN, 3, migrated_to="x")  # even one that looks migrated
    aws.put_line(f"cart#{cart_id}", LANTERN, 1, migrated_to="x")

    response = run(
        message({"pk": "user#victim", "sk": f"product#{LANTERN}"}, "m-1"),
        message(key(cart_id, LANTERN), "m-2"),
    )

    assert response["batchItemFailures"] == [{"itemIdentifier": "m-1"}]
    assert aws.quantities("user#victim") == {LANTERN: 3}
    assert aws.quantities(f"cart#{cart_id}") == {}


def test_a_batch_where_everything_fails_is_raised(aws, monkeypatch):
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    with pytest.raises(BatchProcessingError):
        run(message("not json", "m-1"), message("{}", "m-2"))
