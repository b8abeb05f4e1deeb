"""DynamoDB's atomicity, for moto's DynamoDB.

moto's server handles requests on many threads, and its TransactWriteItems applies one action after the
other and, on a cancelled transaction, puts back a copy of the tables taken before. Three things follow
that DynamoDB never shows, and this module closes each:

- another request could read the half-applied transaction or write to a table that is then replaced by
  the copy (and lose that write): one lock around every DynamoDB and DynamoDB Streams request;
- a stream reader whose shard iterator was taken before the rollback goes on reading the discarded
  shard, which holds the records of the actions applied before the cancelled one (changes that never
  happened, which the totals aggregator would count): they are dropped from that shard;
- the copy is taken once per action, stream included, under that lock: a 32-action migration on a
  500-item table took 4 s and made every other request wait. One copy per transaction is the same
  snapshot.

moto answers a few hundred requests a second on this lock, enough for one machine.
"""

from __future__ import annotations

import copy
import functools
import threading
from typing import Any

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.responses import DynamoHandler
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

_LOCK = threading.RLock()
_MARK = "_local_atomic"


def make_dynamodb_requests_atomic() -> None:
    _make_transactions_roll_back_cleanly()
    for handler in (DynamoHandler, DynamoDBStreamsHandler):
        original = handler.call_action
        if getattr(original, _MARK, False):
            continue

        @functools.wraps(original)
        def call_action(self: Any, _original: Any = original) -> Any:
            with _LOCK:
                return _original(self)

        setattr(call_action, _MARK, True)
        handler.call_action = call_action  # type: ignore[method-assign]


class _OneSnapshotPerTransaction:
    """Stands in for the `copy` module inside moto's DynamoDB backend: during a transaction, every
    deep copy of the same table is the same copy."""

    def __init__(self) -> None:
        self.memo: dict[int, Any] | None = None

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        if self.memo is None:
            return copy.deepcopy(value, memo)
        if id(value) not in self.memo:
            self.memo[id(value)] = copy.deepcopy(value)
        return self.memo[id(value)]


def _make_transactions_roll_back_cleanly() -> None:
    backend = dynamodb_models.DynamoDBBackend
    original = backend.transact_write_items
    if getattr(original, _MARK, False):
        return
    snapshots = _OneSnapshotPerTransaction()
    dynamodb_models.copy = snapshots  # type: ignore[attr-defined]

    @functools.wraps(original)
    def transact_write_items(self: Any, *args: Any, **kwargs: Any) -> Any:
        live = {
            name: (table.stream_shard, len(table.stream_shard.items))
            for name, table in self.tables.items()
            if getattr(table, "stream_shard", None) is not None
        }
        snapshots.memo = {}
        try:
            return original(self, *args, **kwargs)
        except Exception:
            for name, (shard, length) in live.items():
                if self.tables.get(name) is not None and self.tables[name].stream_shard is not shard:
                    del shard.items[length:]  # the discarded shard: no record of the cancelled transaction
            raise
        finally:
            snapshots.memo = None

    setattr(transact_write_items, _MARK, True)
    backend.transact_write_items = transact_write_items  # type: ignore[method-assign]
