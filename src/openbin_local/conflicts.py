"""DynamoDB's transaction conflicts, emulated: moto applies every call at once, one at a time,
so two transactions never overlap and the code that handles a collision never runs. On AWS a
``TransactWriteItems`` is in flight for a few milliseconds (two-phase commit), and:

- another transaction that touches one of its items meanwhile is cancelled:
  ``TransactionCanceledException`` with ``TransactionConflict`` as the reason of each item in
  conflict (``None`` for the others);
- a single-item write (``PutItem``, ``UpdateItem``, ``DeleteItem``) of one of its items fails
  with ``TransactionConflictException``;
- reads are not blocked (they see the last committed state).

Here a transaction holds its items for ``WINDOW`` seconds before it is applied (outside the
emulator's lock, so other calls run meanwhile), which gives concurrent writers the same chance
to collide as on AWS. Sequential calls never collide: a transaction releases its items when it
returns. ``OPENBIN_TRANSACTION_WINDOW_MS`` sets the window: every test runs with 4 ms
(tests/conftest.py), so the code that handles a collision runs in every tier; ``openbin serve``
runs without it by default (0), as each write of one account would then wait for the others,
like on AWS, and a local server is for speed: set it to see how one account's parallel writers
fare (8 clients creating in one account: 130 creates/s without, 80 with, p99 2.8 s).
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

DYNAMODB = "DynamoDB_20120810."
SINGLE_ITEM_WRITES = {"PutItem", "UpdateItem", "DeleteItem"}
_holds: dict[tuple, object] = {}  # item identity -> the transaction that holds it
_lock = threading.Lock()
COLLISIONS = {"transactions": 0, "writes": 0}  # counted, for tests and the bench


def window() -> float:
    return float(os.environ.get("OPENBIN_TRANSACTION_WINDOW_MS", "0")) / 1000


def _target(request) -> str:
    target = request.headers.get("X-Amz-Target", b"")
    target = target.decode() if isinstance(target, bytes) else target
    return target[len(DYNAMODB) :] if target.startswith(DYNAMODB) else ""


def _identity(table_name: str, item: dict, key_names) -> tuple | None:
    names = key_names(table_name)
    if names is None or any(name not in item for name in names):
        return None
    return (table_name, *(json.dumps(item[name], sort_keys=True) for name in names))


def _error(kind: str, message: str, **more: Any) -> tuple[int, dict, str]:
    body = {"__type": f"com.amazonaws.dynamodb.v20120810#{kind}", "message": message, **more}
    return 400, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(body)


class Hold:
    """The items a transaction in flight holds (released when it returns)."""

    def __init__(self, items: list[tuple]) -> None:
        self.items = items

    def release(self) -> None:
        with _lock:
            for identity in self.items:
                if _holds.get(identity) is self:
                    del _holds[identity]


def before(request, key_names) -> Hold | tuple[int, dict, str] | None:
    """Before an emulated call: a conflict answer, a ``Hold`` (a transaction, to release after
    the call), or None. ``key_names(table)``: the table's key attribute names."""
    seconds = window()
    if seconds <= 0:
        return None
    operation = _target(request)
    if operation != "TransactWriteItems" and operation not in SINGLE_ITEM_WRITES:
        return None
    try:
        body = json.loads(request.body or b"{}")
    except (TypeError, ValueError):
        return None
    if operation in SINGLE_ITEM_WRITES:
        identity = _identity(
            body.get("TableName", ""), body.get("Key") or body.get("Item") or {}, key_names
        )
        with _lock:
            held = identity is not None and identity in _holds
            if held:
                COLLISIONS["writes"] += 1
        if held:
            return _error(
                "TransactionConflictException",
                "Transaction is ongoing for the item",
            )
        return None
    identities: list[tuple | None] = []
    for entry in body.get("TransactItems", []):
        op: dict = next(iter(entry.values()), {})
        identities.append(
            _identity(op.get("TableName", ""), op.get("Key") or op.get("Item") or {}, key_names)
        )
    hold = Hold([i for i in identities if i is not None])
    with _lock:
        busy = [i is not None and i in _holds for i in identities]
        if not any(busy):
            for identity in hold.items:
                _holds[identity] = hold
        else:
            COLLISIONS["transactions"] += 1
    if any(busy):
        reasons = [
            {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
            if conflict
            else {"Code": "None"}
            for conflict in busy
        ]
        codes = ", ".join(r["Code"] for r in reasons)
        return _error(
            "TransactionCanceledException",
            "Transaction cancelled, please refer cancellation reasons for specific reasons "
            f"[{codes}]",
            CancellationReasons=reasons,
        )
    time.sleep(seconds)  # in flight: others may collide with it meanwhile
    return hold
