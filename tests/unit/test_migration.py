"""POST /cart/migrate: exactly once, merging, retries, transactions filled to the limit."""

from __future__ import annotations

import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

import cart.api
import cart.repository
from cart.domain import CartOwner
from cart.repository import CartRepository

LANTERN = "trail-lantern"
TENT = "dome-tent-2p"
POT = "titanium-pot"


def user_quantities(aws, sub):
    return aws.quantities(f"user#{sub}")


def test_migrate_requires_a_signed_in_user(call, aws):
    cart_id = str(uuid.uuid4())
    aws.put_line(f"cart#{cart_id}", LANTERN, 2)

    result = call("POST", "/cart/migrate", cart_id=cart_id)

    assert result.status == 401
    assert result.body["message"]
    assert "migratedTo" not in aws.get_item(f"cart#{cart_id}", f"product#{LANTERN}")


def test_migrate_moves_the_anonymous_cart_and_rotates_the_cookie(call, aws, identity_provider):
    cart_id = str(uuid.uuid4())
    aws.put_line(f"cart#{cart_id}", LANTERN, 2)
    aws.put_line(f"cart#{cart_id}", TENT, 1)

    result = call("POST", "/cart/migrate", cart_id=cart_id, token=identity_provider.token(sub="mover"))

    assert result.status == 200
    assert [(line["productId"], line["quantity"]) for line in result.body["products"]] == [
        (TENT, 1),
        (LANTERN, 2),
    ]
    assert result.cart_id not in (None, cart_id)
    assert result.set_cookies[0].endswith("; HttpOnly; SameSite=Lax; Secure")
    assert user_quantities(aws, "mover") == {LANTERN: 2, TENT: 1}
    # The anonymous lines are marked at once (invisible to reads and totals) and queued for deletion.
    for product in (LANTERN, TENT):
        assert aws.get_item(f"cart#{cart_id}", f"product#{product}")["migratedTo"] == {"S": "mover"}
    assert call("GET", "/cart", cart_id=cart_id).body == {"products": []}
    queued = sorted(json.loads(message["Body"])["sk"] for message in aws.receive_all())
    assert queued == [f"product#{TENT}", f"product#{LANTERN}"]


def test_migrated_user_lines_get_the_signed_in_ttl(call, aws, identity_provider):
    import time

    cart_id = str(uuid.uuid4())
    aws.put_line(f"cart#{cart_id}", LANTERN, 2, expires_in=100)

    call("POST", "/cart/migrate", cart_id=cart_id, token=identity_provider.token(sub="ttl"))

    expires = int(aws.get_item("user#ttl", f"product#{LANTERN}")["expirationTime"]["N"])
    assert abs(expires - (time.time() + 604800)) < 5


def test_migrate_merges_into_the_existing_user_cart(call, aws, identity_provider):
    cart_id = str(uuid.uuid4())
    aws.put_line("user#merger", LANTERN, 3, detail={"name": "kept"})
    aws.put_line("user#merger", POT, 1)
    aws.put_line(f"cart#{cart_id}", LANTERN, 2, detail={"name": "anonymous copy"})
    aws.put_line(f"cart#{cart_id}", TENT, 1)

    result = call("POST", "/cart/migrate", cart_id=cart_id, token=identity_provider.token(sub="merger"))

    expected = {LANTERN: 5, TENT: 1, POT: 1}
    assert {line["productId"]: line["quantity"] for line in result.body["products"]} == expected
    assert user_quantities(aws, "merger") == expected
    read = call("GET", "/cart", token=identity_provider.token(sub="merger")).body["products"]
    assert {line["productId"]: line["quantity"] for line in read} == expected
    assert {line["productId"]: line["productDetail"]["name"] for line in read}[LANTERN] == "kept"


def test_migrating_twice_counts_once(call, aws, identity_provider):
    cart_id = str(uuid.uuid4())
    aws.put_line(f"cart#{cart_id}", LANTERN, 2)
    token = identity_provider.token(sub="twice")

    first = call("POST", "/cart/migrate", cart_id=cart_id, token=token)
    second = call("POST", "/cart/migrate", cart_id=cart_id, token=token)  # a retried request, old cookie

    assert first.body == second.body
    assert user_quantities(aws, "twice") == {LANTERN: 2}
    assert len(aws.receive_all()) == 1


def test_migration_replaces_an_expired_user_line_instead_of_adding_to_it(call, aws, identity_provider):
    cart_id = str(uuid.uuid4())
    aws.put_line("user#stale", LANTERN, 9, expires_in=-10)
    aws.put_line(f"cart#{cart_id}", LANTERN, 2)

    result = call("POST", "/cart/migrate", cart_id=cart_id, token=identity_provider.token(sub="stale"))

    assert [line["quantity"] for line in result.body["products"]] == [2]
    assert user_quantities(aws, "stale") == {LANTERN: 2}


def test_expired_and_already_migrated_anonymous_lines_stay_behind(call, aws, identity_provider):
    cart_id = str(uuid.uuid4())
    aws.put_line(f"cart#{cart_id}", LANTERN, 2, expires_in=-10)
    aws.put_line(f"cart#{cart_id}", TENT, 4, migrated_to="someone-else")
    aws.put_line(f"cart#{cart_id}", POT, 1)

    call("POST", "/cart/migrate", cart_id=cart_id, token=identity_provider.token(sub="picky"))

    assert user_quantities(aws, "picky") == {POT: 1}


def test_migration_without_a_cookie_writes_nothing_and_issues_a_cookie(
    call, aws, aws_requests, identity_provider
):
    aws.put_line("user#nocookie", LANTERN, 1)
    aws_requests.clear()

    result = call("POST", "/cart/migrate", token=identity_provider.token(sub="nocookie"))

    assert result.status == 200
    assert [line["quantity"] for line in result.body["products"]] == [1]
    assert result.cart_id is not None
    assert aws_requests.counts() == {"Query": 1}


def test_migration_publishes_a_metric_only_when_lines_moved(call, aws, identity_provider, capsys):
    cart_id = str(uuid.uuid4())
    aws.put_line(f"cart#{cart_id}", LANTERN, 1)
    token = identity_provider.token(sub="metric")
    capsys.readouterr()

    call("POST", "/cart/migrate", cart_id=cart_id, token=token)
    call("POST", "/cart/migrate", cart_id=cart_id, token=token)

    assert capsys.readouterr().out.count('"CartMigrated":[1.0]') == 1


def test_large_carts_migrate_in_transactions_of_100_actions(call, aws, aws_requests, identity_provider):
    cart_id = str(uuid.uuid4())
    products = [f"product-{number:03d}" for number in range(101)]
    for product in products:
        aws.put_line(f"cart#{cart_id}", product, 1)
    aws.put_line("user#bulk", products[0], 1)
    transaction_sizes = []

    def record(params, **_kwargs):
        transaction_sizes.append(len(params["TransactItems"]))

    events = cart.repository._dynamodb().meta.events
    events.register("provide-client-params.dynamodb.TransactWriteItems", record)
    aws_requests.clear()
    try:
        result = call("POST", "/cart/migrate", cart_id=cart_id, token=identity_provider.token(sub="bulk"))
    finally:
        events.unregister("provide-client-params.dynamodb.TransactWriteItems", record)

    assert result.status == 200
    assert len(result.body["products"]) == 101
    assert user_quantities(aws, "bulk") == {
        product: 2 if product == products[0] else 1 for product in products
    }
    assert transaction_sizes == [100, 100, 2]
    assert aws_requests.count("SendMessageBatch") == 11
    assert aws_requests.count("SendMessage") == 0
    assert len(aws.receive_all()) == 101


def test_migration_retries_when_a_line_changes_between_read_and_write(aws, monkeypatch):
    cart_id = str(uuid.uuid4())
    aws.put_line(f"cart#{cart_id}", LANTERN, 2)
    original_read = CartRepository.read_cart
    changed = []

    def read_then_change(self, owner):
        lines = original_read(self, owner)
        if owner.kind == "anonymous" and not changed:
            changed.append(True)
            aws.put_line(f"cart#{cart_id}", LANTERN, 5)  # another tab added 3 meanwhile
        return lines

    monkeypatch.setattr(CartRepository, "read_cart", read_then_change)

    lines, moved = cart.api._cart_service().migrate(CartOwner.anonymous(cart_id), CartOwner.user("racer"))

    assert moved == 1
    assert [(line.product_id, line.quantity) for line in lines] == [(LANTERN, 5)]
    assert user_quantities(aws, "racer") == {LANTERN: 5}


@pytest.mark.parametrize("callers", [2, 10])
def test_concurrent_migrations_count_each_line_once(aws, monkeypatch, callers):
    cart_id = str(uuid.uuid4())
    for product, quantity in ((LANTERN, 2), (TENT, 1), (POT, 3)):
        aws.put_line(f"cart#{cart_id}", product, quantity)
        # Already in the user's cart, so only the marks on the anonymous lines can stop a double count.
        aws.put_line("user#clicker", product, 1)
    # Every caller reads the anonymous cart before any of them writes: the worst interleaving.
    everyone_has_read = threading.Barrier(callers, timeout=10)
    original_read = CartRepository.read_cart
    first_reads = threading.local()

    def read_and_wait(self, owner):
        lines = original_read(self, owner)
        if owner.kind == "anonymous" and not getattr(first_reads, "done", False):
            first_reads.done = True
            everyone_has_read.wait()
        return lines

    monkeypatch.setattr(CartRepository, "read_cart", read_and_wait)
    service = cart.api._cart_service()

    def migrate(_):
        return service.migrate(CartOwner.anonymous(cart_id), CartOwner.user("clicker"))

    with ThreadPoolExecutor(max_workers=callers) as pool:
        results = list(pool.map(migrate, range(callers)))

    assert sorted(moved for _, moved in results) == [0] * (callers - 1) + [3]
    assert user_quantities(aws, "clicker") == {LANTERN: 3, TENT: 2, POT: 4}
    for lines, _ in results:
        assert {line.product_id: line.quantity for line in lines} == {LANTERN: 3, TENT: 2, POT: 4}
    assert len(aws.receive_all()) == 3


def test_a_lost_queue_message_does_not_fail_the_migration(call, aws, identity_provider, monkeypatch):
    from .support import clear_runtime_caches

    monkeypatch.setenv("DELETE_QUEUE_URL", aws.queue_url + "-missing")
    clear_runtime_caches()
    cart_id = str(uuid.uuid4())
    aws.put_line(f"cart#{cart_id}", LANTERN, 2)

    result = call("POST", "/cart/migrate", cart_id=cart_id, token=identity_provider.token(sub="unqueued"))

    assert result.status == 200
    assert user_quantities(aws, "unqueued") == {LANTERN: 2}
    # Still marked, so invisible and not counted; DynamoDB's TTL removes it eventually.
    assert aws.get_item(f"cart#{cart_id}", f"product#{LANTERN}")["migratedTo"] == {"S": "unqueued"}
