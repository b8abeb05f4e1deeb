"""Property test of the cart rules: random sequences of adds, sets, migrations, checkouts, expiries and
TTL deletions, against a model of what each cart must hold; and the totals, fed the table's stream in
random batches, some delivered twice, must equal the sum of the stored, unmigrated lines."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cart.aggregator
import cart.api
import cart.delete_worker
from cart.domain import CartOwner

from .support import LambdaContext, clear_runtime_caches, create_stack

PRODUCTS = ["trail-lantern", "dome-tent-2p", "titanium-pot"]
ANONYMOUS = [
    CartOwner.anonymous("00000000-0000-4000-8000-00000000000a"),
    CartOwner.anonymous("00000000-0000-4000-8000-00000000000b"),
]
USERS = [CartOwner.user("user-a"), CartOwner.user("user-b")]
OWNERS = ANONYMOUS + USERS
TTL_DELETION = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}

owners = st.sampled_from(OWNERS)
products = st.sampled_from(PRODUCTS)
operations = st.one_of(
    st.tuples(st.just("add"), owners, products, st.integers(-6, 6).filter(bool)),
    st.tuples(st.just("set"), owners, products, st.integers(0, 6)),
    st.tuples(st.just("migrate"), st.sampled_from(ANONYMOUS), st.sampled_from(USERS)),
    st.tuples(st.just("checkout"), st.sampled_from(USERS)),
    st.tuples(st.just("expire"), owners, products),
    st.tuples(st.just("ttl_delete"), owners, products),
    st.tuples(st.just("delete_worker")),
    st.tuples(st.just("aggregate"), st.integers(1, 6), st.booleans()),
)


def pk(owner: CartOwner) -> str:
    return ("cart#" if owner.kind == "anonymous" else "user#") + owner.id


@dataclass
class CartModel:
    """What each line must be: (quantity, state) with state live, expired or migrated."""

    lines: dict[tuple[CartOwner, str], tuple[int, str]] = field(default_factory=dict)

    def live(self, owner: CartOwner) -> dict[str, int]:
        return {p: q for (o, p), (q, state) in self.lines.items() if o == owner and state == "live"}

    def totals(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for (_, product), (quantity, state) in self.lines.items():
            if state != "migrated":
                totals[product] = totals.get(product, 0) + quantity
        return {product: quantity for product, quantity in totals.items() if quantity}

    def add(self, owner: CartOwner, product: str, quantity: int) -> int:
        current, state = self.lines.get((owner, product), (0, "absent"))
        if state != "live":
            current = 0  # expired and migrated lines count for nothing in this cart
            if quantity < 0:
                return 0
        new = current + quantity
        if new <= 0:
            del self.lines[(owner, product)]
            return 0
        self.lines[(owner, product)] = (new, "live")
        return new

    def set(self, owner: CartOwner, product: str, quantity: int) -> None:
        if quantity == 0:
            self.lines.pop((owner, product), None)
        else:
            self.lines[(owner, product)] = (quantity, "live")

    def migrate(self, anonymous: CartOwner, user: CartOwner) -> None:
        for product, quantity in self.live(anonymous).items():
            held = self.live(user).get(product, 0)
            self.lines[(user, product)] = (held + quantity, "live")
            self.lines[(anonymous, product)] = (quantity, "migrated")

    def checkout(self, user: CartOwner) -> dict[str, int]:
        bought = self.live(user)
        for product in bought:
            del self.lines[(user, product)]
        return bought

    def expire(self, owner: CartOwner, product: str) -> bool:
        quantity, state = self.lines.get((owner, product), (0, "absent"))
        if state != "live":
            return False
        self.lines[(owner, product)] = (quantity, "expired")
        return True

    def ttl_delete(self, owner: CartOwner, product: str) -> bool:
        if self.lines.get((owner, product), (0, ""))[1] != "expired":
            return False
        del self.lines[(owner, product)]
        return True

    def delete_migrated(self) -> None:
        self.lines = {key: value for key, value in self.lines.items() if value[1] != "migrated"}


def sqs_records(messages):
    return [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": {},
        }
        for m in messages
    ]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(operations, min_size=1, max_size=25), data=st.data())
def test_carts_follow_the_rules_and_totals_stay_exact(runtime_env, moto_clients, monkeypatch, steps, data):
    stack = create_stack(moto_clients)
    monkeypatch.setenv("TABLE_NAME", stack.table_name)
    monkeypatch.setenv("DELETE_QUEUE_URL", stack.queue_url)
    clear_runtime_caches()
    service = cart.api._cart_service()
    model = CartModel()
    try:
        for step in [*steps, ("delete_worker",), ("aggregate", 3, True)]:
            kind = step[0]
            if kind == "add":
                _, owner, product, quantity = step
                assert service.add(owner, product, quantity) == model.add(owner, product, quantity), step
            elif kind == "set":
                _, owner, product, quantity = step
                service.set_quantity(owner, product, quantity)
                model.set(owner, product, quantity)
            elif kind == "migrate":
                _, anonymous, user = step
                model.migrate(anonymous, user)
                lines, _ = service.migrate(anonymous, user)
                assert {line.product_id: line.quantity for line in lines} == model.live(user), step
            elif kind == "checkout":
                bought = service.checkout(step[1])
                assert {line.product_id: line.quantity for line in bought} == model.checkout(step[1]), step
            elif kind == "expire":
                _, owner, product = step
                if model.expire(owner, product):
                    stack.dynamodb.update_item(
                        TableName=stack.table_name,
                        Key={"pk": {"S": pk(owner)}, "sk": {"S": f"product#{product}"}},
                        UpdateExpression="SET expirationTime = :past",
                        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 1)}},
                    )
            elif kind == "ttl_delete":
                _, owner, product = step
                if model.ttl_delete(owner, product):
                    stack.dynamodb.delete_item(
                        TableName=stack.table_name,
                        Key={"pk": {"S": pk(owner)}, "sk": {"S": f"product#{product}"}},
                    )
            elif kind == "delete_worker":
                messages = stack.receive_all()
                if messages:
                    cart.delete_worker.handler({"Records": sqs_records(messages)}, LambdaContext())
                model.delete_migrated()
            elif kind == "aggregate":
                _, batches, redeliver = step
                records = stack.stream_records()
                for record in records:
                    if record["eventName"] == "REMOVE" and record["dynamodb"]["OldImage"].get(
                        "expirationTime"
                    ):
                        expired = int(record["dynamodb"]["OldImage"]["expirationTime"]["N"]) < time.time()
                        if expired and "migratedTo" not in record["dynamodb"]["OldImage"]:
                            record["userIdentity"] = TTL_DELETION
                cuts = sorted(
                    data.draw(st.sets(st.integers(1, max(len(records) - 1, 1)), max_size=batches - 1))
                )
                for start, end in zip([0, *cuts], [*cuts, len(records)], strict=True):
                    batch = records[start:end]
                    cart.aggregator.handler({"Records": batch}, LambdaContext())
                    if redeliver:
                        cart.aggregator.handler({"Records": copy.deepcopy(batch)}, LambdaContext())
                assert stack.stored_totals() == model.totals() == stack.expected_totals()
            for owner in OWNERS:
                assert {line.product_id: line.quantity for line in service.get_cart(owner)} == model.live(
                    owner
                )
    finally:
        stack.delete()
