"""DynamoDB's atomicity, for moto's DynamoDB, in memory that stays flat.

moto's server handles requests on many threads, and its TransactWriteItems applies one action after the
other and, on a cancelled transaction, puts back deep copies of the tables taken before. What follows
from that, and what this module does instead:

- another request could read the half-applied transaction or write to a table that is then replaced by
  the copy (and lose that write): one lock around every DynamoDB and DynamoDB Streams request;
- a copy of every table the transaction names, stream included, is O(table) in time and memory per
  transaction (a 32-action migration on a 500-item table took 4 s under that lock). An undo journal
  takes its place: the items the transaction names, copied before it runs (O(items touched)), and the
  length of each stream; a cancelled transaction puts those items back and cuts the stream records it
  wrote, so the table and its stream are the same objects before and after, and a stream reader sees
  no record of a change that never happened;
- moto's `BaseModel` keeps a reference to every model instance it ever made, for its dashboard: every
  item version, every stream record, every copy of a table (`copy.deepcopy` makes instances too), so
  nothing was ever freed (plain moto 5.2.5: 400 put+transaction pairs, 86 -> 683 MB after
  `gc.collect()`; tracemalloc puts all of it under `common_models.py`'s `instances_tracked.append`).
  Instances are no longer tracked: the dashboard (`/moto-api/`) shows no models, nothing else reads
  the list.

moto answers a few hundred requests a second on this lock, enough for one machine.
"""

from __future__ import annotations

import copy
import functools
import threading
from typing import Any

import moto.dynamodb.models as dynamodb_models
from moto.core.common_models import BaseModel
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

_LOCK = threading.RLock()
_MARK = "_local_atomic"


def make_dynamodb_requests_atomic() -> None:
    _stop_tracking_model_instances()
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


def _stop_tracking_model_instances() -> None:
    if getattr(BaseModel.__new__, _MARK, False):
        return

    def __new__(cls: type, *_args: Any, **_kwargs: Any) -> Any:
        return super(BaseModel, cls).__new__(cls)  # what BaseModel does, without the list

    setattr(__new__, _MARK, True)
    BaseModel.__new__ = staticmethod(__new__)  # type: ignore[method-assign,assignment]


class _UndoJournal:
    """What a cancelled transaction must put back: the items it names as they were, and where the
    stream of each table it names ended."""

    def __init__(self, backend: Any, transact_items: list[dict[str, Any]]) -> None:
        self._items: dict[tuple[str, Any, Any], tuple[Table, Any, Any, Any]] = {}
        self._streams: dict[str, tuple[Any, list[Any], int]] = {}
        for action in transact_items:
            for operation in action.values() if isinstance(action, dict) else ():
                if isinstance(operation, dict):
                    self._note(backend, operation)

    def _note(self, backend: Any, operation: dict[str, Any]) -> None:
        table = backend.tables.get(operation.get("TableName"))
        if table is None:
            return  # moto cancels this action itself: nothing of it to undo
        try:
            key = operation.get("Key") or {
                name: operation["Item"][name] for name in (table.hash_key_attr, table.range_key_attr) if name
            }
            hash_value, range_value = backend.get_keys_value(table, key)
        except Exception:
            return  # a malformed action, which moto rejects before it writes anything
        journal_key = (table.name, hash_value, range_value)
        if journal_key not in self._items:  # the same item twice: moto rejects the transaction
            rows = table.items.get(hash_value)  # .get: the items are a defaultdict
            current = rows if range_value is None else (rows or {}).get(range_value)
            self._items[journal_key] = (table, hash_value, range_value, copy.deepcopy(current))
        shard = table.stream_shard
        if shard is not None and table.name not in self._streams:
            self._streams[table.name] = (shard, shard.items, len(shard.items))

    def undo(self) -> None:
        for table, hash_value, range_value, before in reversed(self._items.values()):
            if range_value is None:
                if before is None:
                    table.items.pop(hash_value, None)
                else:
                    table.items[hash_value] = before
                continue
            rows = table.items[hash_value]
            if before is None:
                rows.pop(range_value, None)
                if not rows:
                    del table.items[hash_value]
            else:
                rows[range_value] = before
        for shard, records, length in self._streams.values():
            if shard.items is records:
                del records[length:]


class _NoTableCopies:
    """Stands in for the `copy` module inside moto's DynamoDB backend: while a transaction runs under
    a journal, its "copy" of a table is the table itself, so its own rollback changes nothing and
    costs nothing; everything else (an item's old image on update) is a real deep copy."""

    def __init__(self) -> None:
        self._journaling = threading.local()

    @property
    def active(self) -> bool:
        return getattr(self._journaling, "active", False)

    @active.setter
    def active(self, value: bool) -> None:
        self._journaling.active = value

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        if self.active and isinstance(value, Table):
            return value
        return copy.deepcopy(value, memo)


def _make_transactions_roll_back_cleanly() -> None:
    backend = dynamodb_models.DynamoDBBackend
    original = backend.transact_write_items
    if getattr(original, _MARK, False):
        return
    no_table_copies = _NoTableCopies()
    dynamodb_models.copy = no_table_copies  # type: ignore[attr-defined]

    @functools.wraps(original)
    def transact_write_items(
        self: Any, transact_items: list[dict[str, Any]], *args: Any, **kwargs: Any
    ) -> Any:
        journal = _UndoJournal(self, transact_items)
        no_table_copies.active = True
        try:
            return original(self, transact_items, *args, **kwargs)
        except BaseException:
            journal.undo()
            raise
        finally:
            no_table_copies.active = False

    setattr(transact_write_items, _MARK, True)
    backend.transact_write_items = transact_write_items  # type: ignore[method-assign]
