"""Totals aggregator: DynamoDB stream of cart lines -> one total per product. Entry point: `handler`.

Exact under at-least-once delivery (docs/DESIGN.md, "Totals"): per product, delta = live quantity of
NewImage - live quantity of OldImage (a migrated line counts 0), summed over the batch; then each
product's total is written once, in transactions of 99 products plus a conditional marker keyed by a
hash of the batch's ordered event ids and the chunk number. A batch delivered again finds its markers
and changes nothing. Any error is raised, so Lambda retries the whole batch (same records, same
chunks); chunks already applied are skipped by their markers.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from .repository import CART_PK_PREFIXES, MAX_TRANSACTION_ACTIONS, PRODUCT_SK_PREFIX, get_repository

logger = Logger()
tracer = Tracer()

# One action of each transaction is the marker.
PRODUCTS_PER_TRANSACTION = MAX_TRANSACTION_ACTIONS - 1
# Stream records live 24 hours, so no batch can come back after its markers expire.
MARKER_TTL_SECONDS = 2 * 24 * 3600
_CART_PK_PREFIXES = tuple(CART_PK_PREFIXES.values())


def live_quantity(image: Mapping[str, Any] | None) -> int:
    """What a line image contributes to its product's total (DynamoDB JSON, as in stream records).

    Expired lines still count until DynamoDB deletes them: the total drops with the REMOVE event the
    TTL deletion produces, which is also what keeps every delta matched by an earlier one.
    """
    if not image or "migratedTo" in image:
        return 0
    quantity = int(image.get("quantity", {}).get("N", "0"))
    return max(quantity, 0)


def product_deltas(records: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """The net change of each product's total over a batch of stream records; zero changes omitted."""
    deltas: dict[str, int] = defaultdict(int)
    for record in records:
        change = record.get("dynamodb", {})
        keys = change.get("Keys", {})
        pk = keys.get("pk", {}).get("S", "")
        sk = keys.get("sk", {}).get("S", "")
        # The event source's filter already keeps only cart lines; this keeps totals right if it is not set.
        if not pk.startswith(_CART_PK_PREFIXES) or not sk.startswith(PRODUCT_SK_PREFIX):
            continue
        product_id = sk.removeprefix(PRODUCT_SK_PREFIX)
        deltas[product_id] += live_quantity(change.get("NewImage")) - live_quantity(change.get("OldImage"))
    return {product_id: delta for product_id, delta in deltas.items() if delta != 0}


def batch_id(records: Sequence[Mapping[str, Any]]) -> str:
    """A deterministic name for the batch: the same records in the same order give the same id."""
    digest = hashlib.sha256()
    for record in records:
        digest.update(str(record.get("eventID", "")).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def chunks(deltas: Mapping[str, int]) -> Iterator[list[tuple[str, int]]]:
    """Sorted by product, so that a redelivered batch splits into exactly the same chunks."""
    ordered = sorted(deltas.items())
    for start in range(0, len(ordered), PRODUCTS_PER_TRANSACTION):
        yield ordered[start : start + PRODUCTS_PER_TRANSACTION]


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> None:
    records = event.get("Records", [])
    deltas = product_deltas(records)
    if not deltas:
        logger.debug("no total changes in this batch", extra={"records": len(records)})
        return
    batch = batch_id(records)
    repository = get_repository()
    marker_expiration_time = int(time.time()) + MARKER_TTL_SECONDS
    applied = skipped = 0
    for index, chunk in enumerate(chunks(deltas)):
        if repository.add_to_totals(f"aggregator#{batch}#{index}", chunk, marker_expiration_time):
            applied += 1
        else:
            skipped += 1
    logger.info(
        "totals updated",
        extra={
            "records": len(records),
            "products": len(deltas),
            "chunks_applied": applied,
            "chunks_skipped": skipped,
        },
    )
