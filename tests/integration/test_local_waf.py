"""Over real HTTP: what stands in front of the APIs on AWS stands in front of them locally.

- The shopping cart as `make dev` runs it (the session's local stack): its web ACL refuses a request
  without User-Agent and a body over 8 KB with WAF's 403, lets the rest through, and says so in
  /_local/status; the suites' context override reached the rate rules.
- A test-only app (tests/integration/edge_app): a rate rule with a small limit, over HTTP, and an
  AWS_IAM method called by real function environments signing with their own credentials.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from local.stack import LocalStack
from tests.integration.edge_app.app import RATE_LIMIT, build
from tests.support.local_stack import TEST_CONTEXT, RunningStack

pytestmark = pytest.mark.integration

FORBIDDEN = {"message": "Forbidden"}


def _status(url: str) -> dict:
    return requests.get(f"{url}/_local/status", timeout=10).json()


def _raw_get(url: str) -> tuple[int, bytes]:
    """A GET with no User-Agent at all, as Python's http.client sends it."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request("GET", parts.path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


# --- the shopping cart, as make dev runs it ------------------------------------------------------------


def test_python_requests_and_the_storefront_clients_send_a_user_agent() -> None:
    # The suites' HTTP clients meet NoUserAgent_HEADER like any other client.
    assert requests.utils.default_user_agent().startswith("python-requests/")


def test_a_request_without_user_agent_gets_wafs_403(local_stack: RunningStack) -> None:
    product_api = local_stack.config["productApiUrl"]
    status, body = _raw_get(f"{product_api}/product")
    assert (status, json.loads(body)) == (403, FORBIDDEN)
    assert requests.get(f"{product_api}/product", timeout=10).status_code == 200
    blocked = next(iter(_status(local_stack.url)["webAcls"].values()))["decisions"]["block"]
    assert blocked["AWSManagedRulesCommonRuleSet/NoUserAgent_HEADER"] >= 1


def test_a_body_over_8_kb_gets_wafs_403(local_stack: RunningStack) -> None:
    cart_api = local_stack.config["cartApiUrl"]
    product = requests.get(f"{local_stack.config['productApiUrl']}/product", timeout=10).json()["products"][0]

    def add(padding: int) -> requests.Response:
        body = json.dumps({"productId": product["productId"], "quantity": 1, "note": "x" * padding})
        return requests.post(
            f"{cart_api}/cart", data=body, headers={"Content-Type": "application/json"}, timeout=30
        )

    refused = add(9 * 1024)
    assert (refused.status_code, refused.json()) == (403, FORBIDDEN)
    # 8 KB passes WAF: what answers is the API itself (its validator has a view on the extra field).
    passed = add(8192 - len(json.dumps({"productId": product["productId"], "quantity": 1, "note": ""})))
    assert passed.json() != FORBIDDEN
    acl = next(iter(_status(local_stack.url)["webAcls"].values()))
    assert acl["decisions"]["block"]["AWSManagedRulesCommonRuleSet/SizeRestrictions_BODY"] >= 1


def test_the_suites_raise_the_rate_limit_through_context(local_stack: RunningStack) -> None:
    [limit] = [pair.partition("=")[2] for pair in TEST_CONTEXT if pair.startswith("wafRateLimit=")]
    acl = next(iter(_status(local_stack.url)["webAcls"].values()))
    per_ip = [rule for rule in acl["rateBasedRules"].values() if rule["requestsByKey"]]
    assert per_ip, "every local request counts against a per-IP rate rule"
    assert all(rule["limit"] >= int(limit) for rule in per_ip)


# --- the test-only edge app ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    outdir = tmp_path_factory.mktemp("edge") / "cdk.out"
    build(str(outdir)).synth()
    with LocalStack(Path(outdir), port=0, access_log=False, seed_users=False, ttl_interval=3600) as local:
        yield local


def _output(stack: LocalStack, name: str) -> str:
    return stack.cloud.outputs["Edge"][name]


def test_a_rate_rule_blocks_the_request_after_its_limit_until_the_window_moves_on(edge: LocalStack) -> None:
    url = _output(edge, "EdgeApiUrl").rstrip("/") + "/open"
    assert all(requests.get(url, timeout=10).status_code == 200 for _ in range(RATE_LIMIT))
    blocked = requests.get(url, timeout=10)
    assert (blocked.status_code, blocked.json()) == (403, FORBIDDEN)
    assert edge.status()["webAcls"]["edge-acl"]["decisions"]["block"] == {"OpenPerIp": 1}
    requests.post(f"{edge.url}/_local/advance-time", json={"seconds": 60}, timeout=10).raise_for_status()
    assert requests.get(url, timeout=10).status_code == 200


def test_an_aws_iam_method_admits_a_signed_call_from_a_role_with_the_grant(edge: LocalStack) -> None:
    answer, error = edge.invoke(_output(edge, "GrantedFunction"), {})
    assert error is None
    assert answer["status"] == 200, answer
    assert answer["body"]["userArn"].startswith("arn:aws:sts::123456789012:assumed-role/")
    assert answer["body"]["userArn"].endswith("/" + _output(edge, "GrantedFunction").rsplit(":", 1)[-1])


def test_an_aws_iam_method_refuses_a_role_without_the_grant_and_an_unsigned_call(edge: LocalStack) -> None:
    answer, _ = edge.invoke(_output(edge, "StrangerFunction"), {})
    assert answer["status"] == 403
    assert "is not authorized to perform: execute-api:Invoke on resource" in answer["body"]["Message"]
    unsigned, _ = edge.invoke(_output(edge, "GrantedFunction"), {"signed": False})
    assert unsigned == {"status": 403, "body": {"message": "Missing Authentication Token"}}
