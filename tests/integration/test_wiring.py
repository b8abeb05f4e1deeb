"""The local stack is wired from the cloud assembly alone.

A test-only CDK app (tests/integration/wiring) declares routes, an authorizer, a stream with filter
criteria and an on-failure destination, a queue with partial batch responses and a redrive policy, and
a TTL attribute: none of them are the shopping cart's, and local/ has no code that names them.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import boto3
import pytest
import requests

from local.stack import DEFAULT_PASSWORD, LocalStack, absolute_urls
from local.synth import synthesize

pytestmark = pytest.mark.integration

WIRING_APP = Path(__file__).parent / "wiring"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory):
    assembly = synthesize(tmp_path_factory.mktemp("wiring") / "cdk.out", app_dir=WIRING_APP)
    with LocalStack(assembly, port=0, access_log=False, ttl_interval=3600) as local:
        yield local


@pytest.fixture(scope="module")
def api_url(stack: LocalStack) -> str:
    return absolute_urls(stack.config, stack.url)["wiringApiUrl"].rstrip("/")


def _client(stack: LocalStack, service: str):
    return boto3.client(
        service,
        endpoint_url=stack.aws_endpoint,
        region_name=stack.region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def _items(stack: LocalStack) -> list[dict]:
    return _client(stack, "dynamodb").scan(TableName=stack.config["tableName"])["Items"]


def _wait_for(predicate, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def test_route_from_the_assembly_reaches_its_function_with_its_environment(stack: LocalStack, api_url: str):
    response = requests.get(f"{api_url}/echo/bob", timeout=10)

    assert response.status_code == 200
    body = response.json()
    assert body["resource"] == "/echo/{name}"
    assert body["pathParameters"] == {"name": "bob"}
    assert body["setting"] == "from-the-assembly"
    assert body["claims"] is None
    assert 0 < body["remainingMs"] <= 5000  # the function's 5 s timeout from the template


def test_unknown_route_and_method_answer_like_api_gateway(api_url: str):
    assert requests.get(f"{api_url}/nowhere", timeout=10).status_code == 403
    assert requests.delete(f"{api_url}/echo/bob", timeout=10).json() == {
        "message": "Missing Authentication Token"
    }


def test_request_validator_applies_the_method_model(api_url: str):
    invalid = requests.post(f"{api_url}/items", json={"pk": 5, "sk": "a"}, timeout=10)
    not_json = requests.post(
        f"{api_url}/items", data=b"{", headers={"Content-Type": "application/json"}, timeout=10
    )

    assert invalid.status_code == 400
    assert invalid.json() == {"message": "Invalid request body"}
    assert not_json.status_code == 400
    assert (
        requests.post(f"{api_url}/items", json={"pk": "item#valid", "sk": "a"}, timeout=10).status_code == 201
    )


def test_cognito_authorizer_rejects_missing_and_forged_tokens(api_url: str):
    assert requests.post(f"{api_url}/echo/bob/private", timeout=10).status_code == 401
    forged = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImR1bW15In0.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    response = requests.post(f"{api_url}/echo/bob/private", headers={"Authorization": forged}, timeout=10)
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}


def test_cognito_authorizer_passes_claims_as_api_gateway_does(stack: LocalStack, api_url: str):
    tokens = _client(stack, "cognito-idp").initiate_auth(
        ClientId=stack.config["userPoolClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "admin@example.com", "PASSWORD": DEFAULT_PASSWORD},
    )["AuthenticationResult"]

    response = requests.post(
        f"{api_url}/echo/bob/private", headers={"Authorization": f"Bearer {tokens['IdToken']}"}, timeout=10
    )

    assert response.status_code == 200
    claims = response.json()["claims"]
    assert claims["email"] == "admin@example.com"
    assert claims["token_use"] == "id"
    assert claims["cognito:groups"] == "admin"  # claims arrive as strings


def test_stream_mapping_applies_filter_criteria_and_batches(stack: LocalStack, api_url: str):
    requests.post(f"{api_url}/items", json={"pk": "ignored#1", "sk": "a"}, timeout=10)
    for index in range(5):
        requests.post(f"{api_url}/items", json={"pk": f"item#batch{index}", "sk": "a"}, timeout=10)

    _wait_for(lambda: len([i for i in _items(stack) if i["pk"]["S"].startswith("seen#item#batch")]) == 5)
    assert stack.wait_until_idle(30)

    seen = [i for i in _items(stack) if i["pk"]["S"].startswith("seen#")]
    assert {f"seen#item#batch{index}" for index in range(5)} <= {i["pk"]["S"] for i in seen}
    assert not [i for i in seen if "ignored" in i["pk"]["S"]]  # filtered out by the mapping's criteria
    batch_sizes = [int(i["batchSize"]["N"]) for i in seen if "batch" in i["pk"]["S"]]
    assert max(batch_sizes) == 3  # the mapping's BatchSize: five records never arrive together


def test_stream_records_after_a_cancelled_transaction_are_delivered(stack: LocalStack, api_url: str):
    # moto replaces a table's stream when it rolls a cancelled transaction back; the poller must
    # neither miss what comes after it nor deliver the rolled-back write.
    body = {"pk": "item#after-cancel", "sk": "a", "cancelledTransactionFirst": True}
    assert requests.post(f"{api_url}/items", json=body, timeout=10).status_code == 201

    _wait_for(lambda: [i for i in _items(stack) if i["pk"]["S"] == "seen#item#after-cancel"])
    assert stack.wait_until_idle(30)
    assert not [i for i in _items(stack) if "phantom" in i["pk"]["S"]]


def test_ttl_expiry_deletes_items_with_the_service_identity(stack: LocalStack, api_url: str):
    in_a_day = int(time.time()) + 86400
    requests.post(f"{api_url}/items", json={"pk": "item#ttl", "sk": "a", "expiresAt": in_a_day}, timeout=10)
    _wait_for(lambda: [i for i in _items(stack) if i["pk"]["S"] == "seen#item#ttl"])

    assert stack.advance_time(3600)["expiredItems"] == 0
    result = requests.post(
        f"{stack.url}/_local/advance-time", json={"seconds": 86400 + 60}, timeout=30
    ).json()

    assert result["expiredItems"] == 1
    assert not [i for i in _items(stack) if i["pk"]["S"] == "item#ttl"]
    removal = _wait_for(
        lambda: [i for i in _items(stack) if i["pk"]["S"] == "seen#item#ttl" and i["sk"]["S"] == "REMOVE"]
    )
    assert json.loads(removal[0]["userIdentity"]["S"]) == {
        "type": "Service",
        "principalId": "dynamodb.amazonaws.com",
    }


def test_failing_stream_batch_is_retried_then_sent_to_the_on_failure_destination(
    stack: LocalStack, api_url: str
):
    requests.post(f"{api_url}/items", json={"pk": "item#poison", "sk": "poison"}, timeout=10)
    sqs = _client(stack, "sqs")

    messages = _wait_for(
        lambda: sqs.receive_message(QueueUrl=stack.config["streamFailuresQueueUrl"], WaitTimeSeconds=1).get(
            "Messages"
        )
    )

    failure = json.loads(messages[0]["Body"])
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 2  # MaximumRetryAttempts 1
    assert failure["DDBStreamBatchInfo"]["batchSize"] == 1


def test_queue_mapping_honours_partial_batch_responses_and_redrive(stack: LocalStack):
    sqs = _client(stack, "sqs")
    sqs.send_message(QueueUrl=stack.config["jobsQueueUrl"], MessageBody="good")
    sqs.send_message(QueueUrl=stack.config["jobsQueueUrl"], MessageBody="fail")

    _wait_for(lambda: [i for i in _items(stack) if i["pk"]["S"] == "message#good"])
    assert stack.wait_until_idle(30)
    # The failed message is invisible for the queue's 60 s visibility timeout; make that time pass
    # until the poller's receives exceed maxReceiveCount (2) and the message moves to the dead-letter
    # queue. Each round waits for the pollers, not a fixed time; the deadline is for a busy machine.
    dead = None
    deadline = time.monotonic() + 180
    while not dead and time.monotonic() < deadline:
        stack.advance_time(61)
        assert stack.wait_until_idle(60)
        dead = sqs.receive_message(QueueUrl=stack.config["deadLettersQueueUrl"], WaitTimeSeconds=1).get(
            "Messages"
        )
    assert dead, "the failing message did not reach the dead-letter queue"
    assert [m["Body"] for m in dead] == ["fail"]
    assert not [i for i in _items(stack) if i["pk"]["S"] == "message#fail"]
