"""Per-request atomicity for moto's DynamoDB, as DynamoDB has it.

moto's server handles requests on many threads, and its TransactWriteItems applies one action after the
other and, on a cancelled transaction, puts back a copy of the tables taken before. Meanwhile another
request could read the half-applied transaction (a stream poller would deliver a record that never
happened) or write to a table that is then replaced by the copy (and lose that write). DynamoDB never
shows either. One lock around every DynamoDB and DynamoDB Streams request closes both windows; moto
answers a few hundred requests a second on this lock, enough for one machine.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from moto.dynamodb.responses import DynamoHandler
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

_LOCK = threading.RLock()
_MARK = "_local_atomic"


def make_dynamodb_requests_atomic() -> None:
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
