"""The aggregator times out: a real execution environment (a worker process of the local stack's
Lambda emulation) is killed at its timeout, after it wrote part of a batch or all of it, and the batch
is delivered again to a fresh environment. The totals still equal a full scan.

Not through the whole local stack: its aggregator has a 60 s timeout and nothing makes it hang. Here a
small wrapper handler hangs after the n-th TransactWriteItems, which the test chooses per invocation.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from local.lambda_runtime import FunctionSpec, LocalFunction

REPO_ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
TIMEOUT_SECONDS = 2

HARNESS = '''
"""Wraps the aggregator: after the n-th TransactWriteItems of an invocation, hang until killed."""
import json
import os
import time
from pathlib import Path

from cart import aggregator, repository


def handler(event, context):
    hang_after = json.loads(Path(os.environ["FAULT_PLAN"]).read_text()).get("hang_after_transactions")
    written = []

    def after_transaction(**_kwargs):
        written.append(1)
        if hang_after is not None and len(written) >= hang_after:
            time.sleep(3600)  # Lambda's timeout ends this

    events = repository._dynamodb().meta.events
    events.register("after-call.dynamodb.TransactWriteItems", after_transaction, unique_id="hang")
    try:
        return aggregator.handler(event, context)
    finally:
        events.unregister("after-call.dynamodb.TransactWriteItems", unique_id="hang")
'''

pytestmark = pytest.mark.slow


@pytest.fixture
def moto_server():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def stream_records(dynamodb: Any, streams: Any, table: str) -> list[dict[str, Any]]:
    arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    records: list[dict[str, Any]] = []
    while True:
        response = streams.get_records(ShardIterator=iterator)
        if not response["Records"]:
            return records
        records.extend(
            {**r, "dynamodb": {**r["dynamodb"], "ApproximateCreationDateTime": 0}}
            for r in response["Records"]
        )
        iterator = response["NextShardIterator"]


def test_an_aggregator_killed_at_its_timeout_is_redelivered_and_counts_each_change_once(
    moto_server, tmp_path
):
    dynamodb, streams = client("dynamodb", moto_server), client("dynamodbstreams", moto_server)
    table = f"cart-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    expected: Counter[str] = Counter()
    for number in range(150):  # batches of 100 (two transactions: 99 + 1 products) and 50 (one)
        product, quantity = f"product-{number:03d}", number % 4 + 1
        dynamodb.put_item(
            TableName=table,
            Item={
                "pk": {"S": f"cart#{uuid.uuid4()}"},
                "sk": {"S": f"product#{product}"},
                "productId": {"S": product},
                "quantity": {"N": str(quantity)},
            },
        )
        expected[product] += quantity
    records = stream_records(dynamodb, streams, table)
    batches = [records[:100], records[100:]]

    code = tmp_path / "asset"
    code.mkdir()
    for package in ("cart", "shared"):  # the asset root holds every runtime package
        (code / package).symlink_to(REPO_ROOT / "runtime" / package)
    (code / "timeout_harness.py").write_text(HARNESS)
    plan = tmp_path / "plan.json"
    spec = FunctionSpec(
        name="aggregator",
        arn=f"arn:aws:lambda:{REGION}:123456789012:function:aggregator",
        handler="timeout_harness.handler",
        code_dir=code,
        environment={
            "TABLE_NAME": table,
            "FAULT_PLAN": str(plan),
            "POWERTOOLS_SERVICE_NAME": "shopping-cart",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        },
        timeout_seconds=TIMEOUT_SECONDS,
        max_concurrency=1,
    )
    environment = {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL": moto_server,
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    with (tmp_path / "function.log").open("w") as log:
        function = LocalFunction(spec, environment, log)
        try:

            def invoke(records: list[dict[str, Any]], hang_after: int | None):
                plan.write_text(json.dumps({"hang_after_transactions": hang_after}))
                return function.invoke({"Records": records})

            assert not invoke([], None).failed  # warm: the timeout below is the handler's alone
            # The environment hangs after the first of the batch's two transactions, then (warm again
            # after the redelivery) after the second batch's only one: all of it written, unacknowledged.
            timed_out = invoke(batches[0], hang_after=1)
            written_before_retry = stored_totals(dynamodb, table)
            redelivered = invoke(batches[0], hang_after=None)
            timed_out_again = invoke(batches[1], hang_after=1)
            redelivered_again = invoke(batches[1], hang_after=None)
        finally:
            function.shutdown()

    assert timed_out.error["errorType"] == timed_out_again.error["errorType"] == "Sandbox.Timedout"
    assert len(written_before_retry) == 99  # the first transaction was committed before the kill
    assert not redelivered.failed
    assert not redelivered_again.failed
    assert function.cold_starts == 3  # each timeout killed its environment
    assert stored_totals(dynamodb, table) == dict(expected)


def stored_totals(dynamodb: Any, table: str) -> dict[str, int]:
    items = dynamodb.query(
        TableName=table, KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": "totals"}}
    )["Items"]
    return {item["sk"]["S"].removeprefix("product#"): int(item["quantity"]["N"]) for item in items}
