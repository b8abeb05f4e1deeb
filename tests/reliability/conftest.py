"""Fixtures of the reliability suite.

Tests that need the whole system talk HTTP to the session's local stack (`local_stack`, from
tests/conftest.py). Tests that inject faults at a precise point run the handlers in-process against
moto, with the unit suite's fixtures (imported here, so both suites share one way of running the
runtime: serialised moto requests, the real product mock and a JWKS endpoint over HTTP).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from botocore.retries.standard import ExponentialBackoff

import cart.repository
from tests.support.local_stack import RunningStack
from tests.unit.conftest import (  # noqa: F401 (fixtures, found by name)
    _atomic_moto_requests,
    aws,
    aws_requests,
    call,
    identity_provider,
    moto_clients,
    product_service,
    products_mock,
    runtime_env,
)
from tests.unit.support import MotoClients

from .faults import FaultyAws, exempt, faulty_aws


@pytest.fixture
def faults(aws, moto_clients: MotoClients, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultyAws]:  # noqa: F811
    """An AWS that fails where a test says; the tests' own clients are never faulted.

    Retries happen as in AWS, without the waiting: botocore's backoff is zero here (the tests count
    attempts, they do not time them).
    """
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)
    monkeypatch.setattr(cart.repository, "_pause", lambda seconds: None, raising=False)
    exempt(moto_clients.dynamodb, moto_clients.sqs, moto_clients.streams)
    # New SDK clients, as in a new container: botocore's retry quota lives in the client, and the
    # failures of one test would otherwise use up the retries of the next.
    for name in ("_dynamodb", "_dynamodb_single_attempt", "_sqs"):
        if hasattr(cart.repository, name):  # (so that the suite also runs against older runtimes)
            getattr(cart.repository, name).cache_clear()
    with faulty_aws() as injected:
        yield injected


def pytest_configure(config: pytest.Config) -> None:
    # The same expected warnings as the unit suite (Powertools, on reads and malformed bodies).
    config.addinivalue_line("filterwarnings", "ignore:No application metrics to publish:UserWarning")


# -- the local stack ----------------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def cart_api(local_stack: RunningStack) -> str:
    return local_stack.config["cartApiUrl"]


@pytest.fixture(scope="package")
def product_ids(local_stack: RunningStack) -> list[str]:
    response = requests.get(f"{local_stack.config['productApiUrl']}/product", timeout=30)
    return sorted(product["productId"] for product in response.json()["products"])


@pytest.fixture(scope="package")
def admin_token(local_stack: RunningStack) -> str:
    return local_stack.sign_in("admin@example.com")
