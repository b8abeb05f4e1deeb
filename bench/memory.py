"""The local stack's memory: RSS of its process (moto, gateway and pollers; the Lambda environments
are other processes) before and after 300 migrate+checkout rounds, on a near-empty table and again with
10,000 lines in it. Target (issue 13): at most +150 MB each time.

    PYTHONPATH=runtime .venv/bin/python -m bench.memory     # this section alone
"""

from __future__ import annotations

import functools
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from tests.reliability.http_support import Shopper, new_user
from tests.support.local_stack import REPO_ROOT, RunningStack, start_local_stack, stop_local_stack

from .inprocess import Figure

ROUNDS = 300
LINES = 10_000
LINES_PER_CART = 10
TARGET_MB = 150.0
RESULTS = REPO_ROOT / "bench" / "results"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmRSS for process {pid}")


def migrate_and_check_out(cart_api: str, token: str, products: list[str], rounds: int) -> int:
    """Each round: a browser fills an anonymous cart, signs in (its cart moves to the user's) and
    checks out (the user's cart is emptied): every write path, two kinds of transaction. Returns how
    many answers were 503 (the cart saying "try again", nothing applied) and sent again."""
    busy = 0

    def send(step: Callable[[], requests.Response]) -> None:
        nonlocal busy
        for _attempt in range(5):
            response = step()
            if response.status_code != 503:
                break
            busy += 1
        assert response.status_code == 200, response.text

    for number in range(rounds):
        shopper = Shopper(cart_api)
        for offset in range(2):
            send(functools.partial(shopper.add, products[(number + offset) % len(products)], offset + 1))
        shopper.token = token
        send(shopper.migrate)
        send(shopper.checkout)
    return busy


def fill_table(stack: RunningStack, products: list[str], lines: int) -> None:
    """`lines` live anonymous cart lines, written straight to moto (as many browsers would have)."""
    dynamodb = stack.aws("dynamodb")
    table = stack.config["tableName"]
    expires = str(int(time.time()) + 86400)
    puts: list[dict[str, Any]] = []
    cart_id = ""
    for number in range(lines):
        if number % LINES_PER_CART == 0:
            cart_id = str(uuid.uuid4())
        product = products[number % len(products)]
        item = {
            "pk": {"S": f"cart#{cart_id}"},
            "sk": {"S": f"product#{product}"},
            "productId": {"S": product},
            "quantity": {"N": "1"},
            "productDetail": {"M": {"productId": {"S": product}, "name": {"S": product}}},
            "expirationTime": {"N": expires},
        }
        puts.append({"PutRequest": {"Item": item}})
    for start in range(0, len(puts), 25):
        pending = {table: puts[start : start + 25]}
        while pending:
            pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def _phase(stack: RunningStack, name: str, token: str, products: list[str]) -> Figure:
    stack.drain(timeout=600)
    before = rss_mb(stack.process.pid)
    started = time.monotonic()
    busy = migrate_and_check_out(stack.config["cartApiUrl"], token, products, ROUNDS)
    stack.drain(timeout=600)
    after = rss_mb(stack.process.pid)
    growth = round(after - before, 1)
    return Figure(
        "memory (local stack)",
        f"RSS growth, {ROUNDS} migrate+checkout rounds, {name}",
        growth,
        TARGET_MB,
        "MB",
        growth <= TARGET_MB,
        f"RSS {before} -> {after} MB; {time.monotonic() - started:.0f} s; {busy} answers 503, sent again",
    )


def rss_over_rounds() -> list[Figure]:
    work = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    cached = RESULTS / "cdk.out"
    if cached.is_dir():
        shutil.copytree(cached, work / "cdk.out", symlinks=True)
    stack = start_local_stack(work)
    try:
        listing = requests.get(f"{stack.config['productApiUrl']}/product", timeout=30).json()
        products = sorted(product["productId"] for product in listing["products"])
        _, token = new_user(stack)
        figures = [_phase(stack, "near-empty table", token, products)]
        fill_table(stack, products, LINES)
        figures.append(_phase(stack, f"{LINES:,} lines in the table", token, products))
        return figures
    except Exception:
        print(stack.log()[-4000:])
        raise
    finally:
        stop_local_stack(stack)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    from .run import table

    print(table(rss_over_rounds()))
