"""Execution environments that die while idle, through the local stack: the next invocation that
lands on one fails (Lambda's Runtime.ExitError), never succeeds silently. The API answers 502 as API
Gateway does for a crashed function and applies nothing; the stream poller retries the batch within
the synthesized mapping's retry budget (then the on-failure destination); the queue poller leaves the
messages of the failed batch on the queue until their visibility timeout.

Outcomes follow from the synthesized event source mappings (retry budget, queue redrive), not from
timing: every wait polls with a generous deadline.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from local.assembly import CloudAssembly
from tests.support.local_stack import RunningStack

from .http_support import Shopper, assert_totals_equal_a_full_scan, new_user, stored_lines

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DEADLINE_SECONDS = 120


def environments(stack: RunningStack, handler: str) -> list[int]:
    """PIDs of the local stack's execution environments that run `handler` (their _HANDLER)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            variables = (entry / "environ").read_bytes().split(b"\0")
        except (OSError, ValueError):
            continue  # gone meanwhile, or not ours to read
        if parent == stack.process.pid and f"_HANDLER={handler}".encode() in variables:
            found.append(int(entry.name))
    return found


def kill_idle_environments(stack: RunningStack, handler: str) -> int:
    """Kills every environment of the function (all idle: nothing is sent to it now); how many."""
    pids = environments(stack, handler)
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + DEADLINE_SECONDS
    while any(_alive(pid) for pid in pids):
        assert time.monotonic() < deadline, f"environments {pids} of {handler} did not die"
        time.sleep(0.1)
    return len(pids)


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def mapping_of(stack: RunningStack, source_attribute: str) -> dict[str, Any]:
    """The synthesized event source mapping whose source is a stream ("StreamArn") or a queue ("Arn")."""
    for artifact in CloudAssembly(stack.assembly_dir).stacks:
        for resource in artifact.resources_of_type("AWS::Lambda::EventSourceMapping").values():
            if resource["Properties"]["EventSourceArn"]["Fn::GetAtt"][1] == source_attribute:
                return resource["Properties"]
    raise AssertionError(f"no event source mapping reads a {source_attribute}")


def function_status(stack: RunningStack, handler_fragment: str) -> dict[str, int]:
    functions = requests.get(f"{stack.url}/_local/status", timeout=30).json()["functions"]
    (status,) = [s for name, s in functions.items() if handler_fragment in name]
    return status


def queue_depth(stack: RunningStack, queue_url: str) -> int:
    attributes = stack.aws("sqs").get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_a_cart_api_environment_killed_while_idle_answers_502_and_applies_nothing(
    local_stack: RunningStack, cart_api: str, product_ids: list[str]
):
    shopper = Shopper(cart_api)
    assert shopper.add(product_ids[0], 1).status_code == 200  # the cart exists; its environments are warm
    killed = kill_idle_environments(local_stack, "cart.api.handler")
    assert killed >= 1

    statuses = []
    while not statuses or statuses[-1] != 200:
        assert len(statuses) <= killed, statuses
        response = shopper.add(product_ids[1], 2)
        statuses.append(response.status_code)
        if response.status_code == 502:
            assert response.json() == {"message": "Internal server error"}

    # One 502 per dead environment (each is handed one request, then dropped), then a fresh one.
    assert statuses == [502] * killed + [200]
    assert shopper.cart() == {product_ids[0]: 1, product_ids[1]: 2}


def test_an_aggregator_environment_killed_while_idle_fails_one_delivery_that_is_retried(
    local_stack: RunningStack, cart_api: str, product_ids: list[str], admin_token: str
):
    mapping = mapping_of(local_stack, "StreamArn")
    failure_queue = local_stack.config["totalsFailureQueueUrl"]
    local_stack.drain()
    failed_batches_before = queue_depth(local_stack, failure_queue)
    cold_starts_before = function_status(local_stack, "Aggregator")["coldStarts"]
    killed = kill_idle_environments(local_stack, "cart.aggregator.handler")
    assert killed >= 1

    shopper = Shopper(cart_api)
    for offset, product in enumerate(product_ids[:3]):
        assert shopper.add(product, offset + 1).status_code == 200
    local_stack.drain()

    # Each dead environment fails one invocation: within the retry budget, the batch is delivered
    # again to a fresh environment and counted once; beyond it, it goes to the on-failure queue.
    assert killed <= int(mapping["MaximumRetryAttempts"])
    assert function_status(local_stack, "Aggregator")["coldStarts"] > cold_starts_before
    assert queue_depth(local_stack, failure_queue) == failed_batches_before
    assert_totals_equal_a_full_scan(local_stack, admin_token)


def test_a_delete_worker_environment_killed_while_idle_leaves_its_messages_until_they_are_visible_again(
    local_stack: RunningStack, cart_api: str, product_ids: list[str], admin_token: str
):
    config = local_stack.config
    queue = local_stack.aws("sqs").get_queue_attributes(
        QueueUrl=config["deleteQueueUrl"], AttributeNames=["RedrivePolicy", "VisibilityTimeout"]
    )["Attributes"]
    local_stack.drain()
    dead_letters_before = queue_depth(local_stack, config["deleteDeadLetterQueueUrl"])
    # The queue's mapping names the worker's logical id, whatever the construct calls it.
    worker = mapping_of(local_stack, "Arn")["FunctionName"]["Ref"]
    invocations_before = function_status(local_stack, worker)["invocations"]
    killed = kill_idle_environments(local_stack, "cart.delete_worker.handler")
    assert killed >= 1
    shopper = Shopper(cart_api)
    for product in product_ids[:2]:
        assert shopper.add(product, 1).status_code == 200
    anonymous = f"cart#{shopper.cart_id}"
    _, shopper.token = new_user(local_stack)

    assert shopper.migrate().status_code == 200
    deadline = time.monotonic() + DEADLINE_SECONDS
    while function_status(local_stack, worker)["invocations"] == invocations_before:
        assert time.monotonic() < deadline, "the delete worker was never invoked"
        time.sleep(0.2)
    local_stack.drain()

    # The first invocation landed on a dead environment: its batch's lines are still stored (marked,
    # so invisible to reads and totals), its messages invisible on the queue until the timeout ends.
    left = stored_lines(local_stack, anonymous)
    assert left
    assert all("migratedTo" in line for line in left.values())
    assert shopper.cart() == dict.fromkeys(product_ids[:2], 1)
    # Each killed environment fails the one invocation it is given and is replaced, so a redelivery
    # may meet another dead one: at most `killed` failed receives before a live worker deletes them.
    for _ in range(killed):
        assert local_stack.advance_time(int(queue["VisibilityTimeout"]))["releasedMessages"] >= 1
        local_stack.drain()
        if not stored_lines(local_stack, anonymous):
            break

    # Received at most killed + 1 times, below the redrive's maxReceiveCount: deleted, none dead-lettered.
    assert int(json.loads(queue["RedrivePolicy"])["maxReceiveCount"]) > killed + 1
    assert stored_lines(local_stack, anonymous) == {}
    assert queue_depth(local_stack, config["deleteDeadLetterQueueUrl"]) == dead_letters_before
    assert_totals_equal_a_full_scan(local_stack, admin_token)
