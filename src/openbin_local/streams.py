"""DynamoDB Streams, locally: every committed change of an item of a table whose template
definition has a ``StreamSpecification`` becomes a stream record (INSERT, MODIFY, REMOVE, with
the old and new images), in commit order, as Lambda hands them to a function (binary attributes
in base64). Captured under the emulator's lock around the write itself, so a refused write
(a failed condition, a cancelled transaction) makes none, as on AWS. ``openbin_local.sources``
reads them and invokes the functions whose events name the stream."""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from collections import deque

# physical table name -> its stream view type (tables whose definition has a stream)
STREAMED: dict[str, str] = {}
# the streams a reader listens to (openbin serve's, a test's): only they are recorded, so a
# process that reads none (the benchmark) pays nothing for them; their records not yet read
LISTENING: dict[str, deque] = {}
KEPT = 100_000  # records a stream holds unread, as DynamoDB keeps 24 hours of them
_sequence = itertools.count(1)
_lock = threading.Lock()
MUTATING = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


def enable(physical: str, view_type: str) -> None:
    STREAMED[physical] = view_type


def listen(physical: str) -> None:
    """Record the table's stream from now on (no-op for a table without one)."""
    if physical in STREAMED:
        LISTENING.setdefault(physical, deque(maxlen=KEPT))


def stop_listening(physical: str) -> None:
    LISTENING.pop(physical, None)


def touched(body: dict) -> list[tuple[str, dict]]:
    """(table, key or item) of every item a DynamoDB write names."""
    out: list[tuple[str, dict]] = []
    if "TableName" in body:
        out.append((body["TableName"], body.get("Key") or body.get("Item") or {}))
    for table, writes in body.get("RequestItems", {}).items():  # BatchWriteItem
        for write in writes:
            op = write.get("PutRequest") or write.get("DeleteRequest") or {}
            out.append((table, op.get("Item") or op.get("Key") or {}))
    for entry in body.get("TransactItems", []):
        for kind, op in entry.items():
            if kind != "ConditionCheck" and isinstance(op, dict) and "TableName" in op:
                out.append((op["TableName"], op.get("Key") or op.get("Item") or {}))
    return out


def before(request, tables, item_at, as_json) -> list | None:
    """The images, before the write, of the streamed items ``request`` touches (under the
    emulator's lock); None when it touches none."""
    if not LISTENING:
        return None
    target = request.headers.get("X-Amz-Target", b"")
    target = target.decode() if isinstance(target, bytes) else target
    if not target or target.rsplit(".", 1)[-1] not in MUTATING:
        return None
    try:
        body = json.loads(request.body or b"{}")
    except (TypeError, ValueError):
        return None
    captured = []
    for physical, given in touched(body):
        table = tables.get(physical)
        if physical not in LISTENING or table is None:
            continue
        names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
        if not all(n in given for n in names):
            continue
        key = {n: given[n] for n in names}
        captured.append((physical, key, _image(table, key, item_at, as_json)))
    return captured or None


def after(captured: list, tables, item_at, as_json) -> None:
    """Stream records of the items that changed (under the emulator's lock, after a write that
    succeeded)."""
    now = time.time()
    with _lock:
        for physical, key, old in captured:
            table = tables.get(physical)
            if table is None:
                continue
            new = _image(table, key, item_at, as_json)
            if new == old:
                continue
            name = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
            data: dict = {
                "ApproximateCreationDateTime": now,
                "Keys": {k: v for k, v in (new or old).items() if k in key},
                "SequenceNumber": f"{next(_sequence):021d}",
                "SizeBytes": len(json.dumps(new or old)),
                "StreamViewType": STREAMED[physical],
            }
            if new is not None:
                data["NewImage"] = new
            if old is not None:
                data["OldImage"] = old
            queue = LISTENING.get(physical)
            if queue is None:  # no longer read
                continue
            queue.append(
                {
                    "eventID": uuid.uuid4().hex,
                    "eventName": name,
                    "eventVersion": "1.1",
                    "eventSource": "aws:dynamodb",
                    "awsRegion": "us-east-1",
                    "dynamodb": data,
                    "eventSourceARN": (
                        f"arn:aws:dynamodb:us-east-1:123456789012:table/{physical}/stream/local"
                    ),
                }
            )


def _image(table, key: dict, item_at, as_json) -> dict | None:
    found = item_at(table, key)
    item = None if found is None else found[1]
    return None if item is None else {k: as_json(v) for k, v in item.attrs.items()}


def take(physical: str, limit: int) -> list[dict]:
    """Up to ``limit`` of the stream's oldest records, removed from it."""
    with _lock:
        queue = LISTENING.get(physical)
        if not queue:
            return []
        return [queue.popleft() for _ in range(min(limit, len(queue)))]


def put_back(physical: str, records: list[dict]) -> None:
    """Records a function failed on, first again (the stream is read in order)."""
    with _lock:
        queue = LISTENING.get(physical)
        if queue is not None:
            queue.extendleft(reversed(records))
