"""Talking to the local stack over HTTP, as a browser and an admin do, and reading the truth from the
table (a full scan) to compare the totals with."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests

from tests.support.local_stack import PASSWORD, RunningStack

TIMEOUT = 30


@dataclass
class Shopper:
    """One browser: its own cookie jar (the anonymous cartId), and an ID token once signed in."""

    cart_api: str
    token: str | None = None
    session: requests.Session = field(default_factory=requests.Session)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {**self._headers(), **kwargs.pop("headers", {})}
        return self.session.request(method, self.cart_api + path, headers=headers, timeout=TIMEOUT, **kwargs)

    def add(self, product_id: str, quantity: int = 1) -> requests.Response:
        return self.request("POST", "/cart", json={"productId": product_id, "quantity": quantity})

    def set(self, product_id: str, quantity: int) -> requests.Response:
        return self.request("PUT", f"/cart/{product_id}", json={"quantity": quantity})

    def migrate(self) -> requests.Response:
        return self.request("POST", "/cart/migrate")

    def checkout(self) -> requests.Response:
        return self.request("POST", "/cart/checkout")

    def cart(self) -> dict[str, int]:
        response = self.request("GET", "/cart")
        assert response.status_code == 200, response.text
        return quantities(response.json())

    @property
    def cart_id(self) -> str | None:
        return self.session.cookies.get("cartId")

    def with_cookie(self, cart_id: str) -> Shopper:
        """Another browser holding the same anonymous cookie (another tab, or someone who has it)."""
        other = Shopper(self.cart_api, self.token)
        other.session.cookies.set("cartId", cart_id)
        return other


def quantities(cart_body: dict[str, Any]) -> dict[str, int]:
    return {line["productId"]: line["quantity"] for line in cart_body["products"]}


def new_user(stack: RunningStack, *, admin: bool = False) -> tuple[str, str]:
    """A fresh user of the local pool: (email, ID token)."""
    config = stack.config
    cognito = stack.aws("cognito-idp")
    email = f"reliability-{uuid.uuid4().hex[:12]}@example.com"
    cognito.admin_create_user(
        UserPoolId=config["userPoolId"],
        Username=email,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(
        UserPoolId=config["userPoolId"], Username=email, Password=PASSWORD, Permanent=True
    )
    if admin:
        cognito.admin_add_user_to_group(UserPoolId=config["userPoolId"], Username=email, GroupName="admin")
    return email, stack.sign_in(email)


def totals(stack: RunningStack, admin_token: str) -> dict[str, int]:
    response = requests.get(
        f"{stack.config['cartApiUrl']}/cart/totals",
        headers={"Authorization": f"Bearer {admin_token}"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text
    return {t["product"]: t["quantity"] for t in response.json()["totals"] if t["quantity"]}


def scan_items(stack: RunningStack) -> list[dict[str, Any]]:
    dynamodb = stack.aws("dynamodb")
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=stack.config["tableName"]):
        items.extend(page["Items"])
    return items


def scanned_totals(stack: RunningStack) -> dict[str, int]:
    """What the totals must be: every unmigrated cart line in the table, summed per product.

    Lines past their expiry count until the TTL deletes them, exactly as the aggregator counts them
    (its delta comes with the REMOVE record); tests make time pass with advance_time, which deletes.
    """
    sums: Counter[str] = Counter()
    for item in scan_items(stack):
        if item["pk"]["S"].startswith(("cart#", "user#")) and "migratedTo" not in item:
            sums[item["sk"]["S"].removeprefix("product#")] += int(item["quantity"]["N"])
    return {product: quantity for product, quantity in sums.items() if quantity}


def assert_totals_equal_a_full_scan(stack: RunningStack, admin_token: str) -> None:
    stack.drain()
    # A second look after a short wait: nothing may arrive once the pollers said they were idle.
    first, truth = totals(stack, admin_token), scanned_totals(stack)
    if first != truth:
        differences = {
            p: (first.get(p, 0), truth.get(p, 0)) for p in {*first, *truth} if first.get(p) != truth.get(p)
        }
        failures = stack.aws("sqs").get_queue_attributes(
            QueueUrl=stack.config["totalsFailureQueueUrl"], AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]["ApproximateNumberOfMessages"]
        raise AssertionError(f"totals != scan: (totals, scan) {differences}; failed batches: {failures}")
    time.sleep(0.2)
    assert totals(stack, admin_token) == first


def stored_lines(stack: RunningStack, pk: str) -> dict[str, dict[str, Any]]:
    """Every stored line of one cart (live, expired or migrated), by product."""
    response = stack.aws("dynamodb").query(
        TableName=stack.config["tableName"],
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": pk}},
        ConsistentRead=True,
    )
    return {item["sk"]["S"].removeprefix("product#"): item for item in response["Items"]}
