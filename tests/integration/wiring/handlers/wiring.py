"""Handlers of the test-only wiring app: they echo what the local stack handed them."""

import contextlib
import json
import os
import time

import boto3


def _table():
    return boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def api(event, context):
    if event["resource"] == "/items":
        item = json.loads(event["body"])
        if item.pop("cancelledTransactionFirst", False):
            _cancelled_transaction(item)
        _table().put_item(Item=item)
        return {"statusCode": 201, "body": json.dumps(item)}
    body = {
        "resource": event["resource"],
        "path": event["path"],
        "pathParameters": event["pathParameters"],
        "claims": (event["requestContext"].get("authorizer") or {}).get("claims"),
        "setting": os.environ["WIRING_SETTING"],
        "functionName": context.function_name,
        "remainingMs": context.get_remaining_time_in_millis(),
    }
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def _cancelled_transaction(item):
    client = boto3.client("dynamodb")
    name = os.environ["TABLE_NAME"]
    with contextlib.suppress(client.exceptions.TransactionCanceledException):
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": name, "Item": {"pk": {"S": "item#phantom"}, "sk": {"S": "a"}}}},
                {
                    "ConditionCheck": {
                        "TableName": name,
                        "Key": {"pk": {"S": "never"}, "sk": {"S": "there"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )


def on_stream(event, _context):
    for record in event["Records"]:
        keys = record["dynamodb"]["Keys"]
        if keys["sk"]["S"] == "poison":
            raise RuntimeError("poison record")
        _table().put_item(
            Item={
                "pk": "seen#" + keys["pk"]["S"],
                "sk": record["eventName"],
                "batchSize": len(event["Records"]),
                "userIdentity": json.dumps(record.get("userIdentity")),
                "at": int(time.time()),
            }
        )


def on_message(event, _context):
    failures = []
    for record in event["Records"]:
        if record["body"] == "fail":
            failures.append({"itemIdentifier": record["messageId"]})
        else:
            _table().put_item(Item={"pk": "message#" + record["body"], "sk": "done"})
    return {"batchItemFailures": failures}
