"""Storage-call accounting for the benchmark: calls, round trips, time spent in calls, and
DynamoDB capacity by DynamoDB's own rules.

moto answers ``ReturnConsumedCapacity`` with constants (GetItem 0.5, PutItem/Query 1.0,
BatchGetItem one unit per key, nothing for UpdateItem or TransactWriteItems), whatever the item
sizes. Those values are recorded (``moto_units``) but every capacity number reported is computed
here, from the items before and after each call, by the rules of the DynamoDB developer guide:

- item size: UTF-8 length of every attribute name plus its value (string: UTF-8 bytes; binary:
  bytes; number: 1 byte per 2 significant digits + 1; boolean/null: 1; list/map: 3 bytes + 1 per
  element + the elements);
- strongly consistent read: 1 RCU per 4 KB of each item (BatchGetItem/GetItem: per item, rounded
  up; an item that is not found still costs 1); eventually consistent (every GSI query): half;
  Query: the sum of the returned items' sizes, rounded up to 4 KB once;
- write: 1 WCU per 1 KB of the larger of the item before and after (a failed condition still
  costs the item's size, at least 1); TransactWriteItems: twice that, per item;
- global secondary indexes: a write that changes an index entry costs 1 WCU per 1 KB of the
  projected entry (an index key change: a delete plus a put); counted apart as ``gsi_wcu``.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

READ_UNIT = 4096
WRITE_UNIT = 1024
ITEM_OVERHEAD = 100  # bytes DynamoDB adds to every stored item (and index entry) for billing


# -- item sizes ---------------------------------------------------------------------------------
def _number_size(text: str) -> int:
    digits = text.lstrip("+-").replace(".", "").split("e")[0].split("E")[0]
    significant = digits.strip("0") or "0"
    return math.ceil(len(significant) / 2) + 1


def value_size(value: dict) -> int:
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(inner.encode("utf-8", "surrogatepass"))
    if kind == "N":
        return _number_size(inner)
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(x.encode("utf-8", "surrogatepass")) for x in inner)
    if kind == "NS":
        return sum(_number_size(x) for x in inner)
    if kind == "BS":
        return sum(len(x) for x in inner)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in inner.items())
    raise ValueError(kind)


def item_size(item: dict | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode("utf-8")) + value_size(v) for name, v in item.items())


def units(size: int, unit: int) -> int:
    return max(1, math.ceil(size / unit))


# -- table layouts (from template.yaml) ---------------------------------------------------------
@dataclass(frozen=True)
class Index:
    name: str
    keys: tuple[str, ...]
    projection: str  # ALL, KEYS_ONLY, INCLUDE
    include: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    name: str
    keys: tuple[str, ...]
    indexes: tuple[Index, ...] = ()

    def key_of(self, item: dict) -> dict:
        return {k: item[k] for k in self.keys}

    def entry(self, index: Index, item: dict | None) -> dict | None:
        """The item's entry in a (sparse) global secondary index, or None."""
        if not item or any(k not in item for k in index.keys):
            return None
        if index.projection == "ALL":
            return dict(item)
        names = set(self.keys) | set(index.keys) | set(index.include)
        return {k: v for k, v in item.items() if k in names}


def layouts(template, names: dict[str, str]) -> dict[str, Table]:
    out = {}
    for logical, props in template.tables.items():
        indexes = tuple(
            Index(
                gsi["IndexName"],
                tuple(k["AttributeName"] for k in gsi["KeySchema"]),
                gsi["Projection"]["ProjectionType"],
                tuple(gsi["Projection"].get("NonKeyAttributes", ())),
            )
            for gsi in props.get("GlobalSecondaryIndexes", ())
        )
        name = names.get(logical, logical)
        out[name] = Table(name, tuple(k["AttributeName"] for k in props["KeySchema"]), indexes)
    return out


def stored_bytes(table: Table, item: dict) -> tuple[int, int]:
    """(bytes by DynamoDB's size rules, bytes billed with the per-item overhead) of an item and
    its index entries."""
    sizes = [item_size(item)]
    sizes += [item_size(e) for e in (table.entry(i, item) for i in table.indexes) if e]
    return sum(sizes), sum(sizes) + ITEM_OVERHEAD * len(sizes)


# -- the recorder -------------------------------------------------------------------------------
@dataclass
class Call:
    service: str
    operation: str
    seconds: float = 0.0
    rcu: float = 0.0
    wcu: float = 0.0
    gsi_wcu: float = 0.0
    moto_units: float | None = None
    bytes_out: int = 0  # S3 object bytes sent
    bytes_in: int = 0  # S3 object bytes received
    error: str | None = None


@dataclass
class Tally:
    calls: list[Call] = field(default_factory=list)

    @property
    def by_operation(self) -> dict[str, int]:
        return dict(Counter(f"{c.service}:{c.operation}" for c in self.calls))

    def count(self, service: str) -> int:
        return sum(1 for c in self.calls if c.service == service)

    def summary(self) -> dict:
        return {
            "dynamodb_calls": self.count("dynamodb"),
            "s3_calls": self.count("s3"),
            "round_trips": len(self.calls),  # every call is made after the previous one returns
            "operations": self.by_operation,
            "rcu": round(sum(c.rcu for c in self.calls), 2),
            "wcu": round(sum(c.wcu for c in self.calls), 2),
            "gsi_wcu": round(sum(c.gsi_wcu for c in self.calls), 2),
            "moto_reported_units": round(sum(c.moto_units or 0 for c in self.calls), 2),
            "s3_bytes_out": sum(c.bytes_out for c in self.calls),
            "s3_bytes_in": sum(c.bytes_in for c in self.calls),
            "storage_seconds": sum(c.seconds for c in self.calls),
        }


class Recorder:
    """Botocore event hooks on the clients a handler uses. ``capacity=True`` also asks for
    ConsumedCapacity and computes it (it reads items before and after each write through
    ``inspector``, an unhooked client, so it is for counting runs, not timing runs)."""

    def __init__(self, tables: dict[str, Table], inspector=None, capacity: bool = False):
        self.tables = tables
        self.inspector = inspector
        self.capacity = capacity
        self.tally = Tally()
        self._clients: list = []
        self._local = threading.local()

    # registration
    def attach(self, *clients) -> Recorder:
        seen = {id(c) for c in self._clients}
        for client in clients:
            if id(client) in seen:
                continue
            seen.add(id(client))
            self._clients.append(client)
            events = client.meta.events
            service = client.meta.service_model.service_id.hyphenize()
            events.register(f"before-parameter-build.{service}", self._before)
            events.register(f"after-call.{service}", self._after)
            events.register(f"after-call-error.{service}", self._after_error)
        return self

    def detach(self) -> None:
        for client in self._clients:
            events = client.meta.events
            service = client.meta.service_model.service_id.hyphenize()
            events.unregister(f"before-parameter-build.{service}", self._before)
            events.unregister(f"after-call.{service}", self._after)
            events.unregister(f"after-call-error.{service}", self._after_error)
        self._clients = []

    def reset(self) -> Tally:
        done, self.tally = self.tally, Tally()
        return done

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc) -> None:
        self.detach()

    # hooks
    def _before(self, params, model, context, **_):
        service = model.service_model.service_id.hyphenize()
        pending = {"service": service, "op": model.name, "params": params, "old": None}
        if service == "dynamodb" and self.capacity:
            if "ReturnConsumedCapacity" in model.input_shape.members:
                params["ReturnConsumedCapacity"] = "TOTAL"
            pending["old"] = self._snapshot(model.name, params)
        pending["t0"] = time.perf_counter()
        context["bench"] = pending

    def _after_error(self, context, exception, **_):
        pending = context.pop("bench", None)
        if pending:
            call = Call(pending["service"], pending["op"], error=type(exception).__name__)
            call.seconds = time.perf_counter() - pending["t0"]
            self.tally.calls.append(call)

    def _after(self, http_response, parsed, model, context, **_):
        t1 = time.perf_counter()
        pending = context.pop("bench", None)
        if pending is None:
            return
        call = Call(pending["service"], pending["op"], seconds=t1 - pending["t0"])
        if "Error" in parsed:
            call.error = parsed["Error"].get("Code")
        params = pending["params"]
        if call.service == "s3":
            if call.operation == "PutObject":
                body = params.get("Body", b"")
                call.bytes_out = len(body) if isinstance(body, bytes | bytearray) else 0
            elif call.operation == "GetObject":
                call.bytes_in = int(parsed.get("ContentLength") or 0)
        elif self.capacity:
            consumed = parsed.get("ConsumedCapacity")
            if isinstance(consumed, dict):
                consumed = [consumed]
            if consumed:
                call.moto_units = sum(c.get("CapacityUnits", 0) for c in consumed)
            self._compute(call, params, parsed, pending["old"])
        self.tally.calls.append(call)

    # capacity by DynamoDB's rules
    def _writes(self, operation: str, params: dict) -> list[tuple[str, dict, int]]:
        """(table, key, multiplier) of every item a write touches."""
        if operation in ("PutItem",):
            table = self.tables[params["TableName"]]
            return [(table.name, table.key_of(params["Item"]), 1)]
        if operation in ("UpdateItem", "DeleteItem"):
            return [(params["TableName"], params["Key"], 1)]
        if operation == "TransactWriteItems":
            out = []
            for entry in params["TransactItems"]:
                ((kind, spec),) = entry.items()
                table = self.tables[spec["TableName"]]
                key = table.key_of(spec["Item"]) if kind == "Put" else spec["Key"]
                out.append((table.name, key, 2))
            return out
        if operation == "BatchWriteItem":
            out = []
            for name, requests in params["RequestItems"].items():
                table = self.tables[name]
                for request in requests:
                    if "PutRequest" in request:
                        out.append((name, table.key_of(request["PutRequest"]["Item"]), 1))
                    else:
                        out.append((name, request["DeleteRequest"]["Key"], 1))
            return out
        return []

    def _get(self, table: str, key: dict) -> dict | None:
        return self.inspector.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")

    def _snapshot(self, operation: str, params: dict) -> list[dict | None] | None:
        writes = self._writes(operation, params)
        return [self._get(table, key) for table, key, _ in writes] if writes else None

    def _compute(self, call: Call, params: dict, parsed: dict, old: list | None) -> None:
        op = call.operation
        if op == "GetItem":
            factor = 1.0 if params.get("ConsistentRead") else 0.5
            call.rcu = factor * units(item_size(parsed.get("Item")), READ_UNIT)
        elif op == "BatchGetItem":
            for name, request in params["RequestItems"].items():
                table = self.tables[name]
                factor = 1.0 if request.get("ConsistentRead") else 0.5
                found = {
                    _frozen(table.key_of(item)): item
                    for item in parsed.get("Responses", {}).get(name, [])
                }
                for key in request["Keys"]:
                    call.rcu += factor * units(item_size(found.get(_frozen(key))), READ_UNIT)
        elif op in ("Query", "Scan"):
            eventual = params.get("IndexName") or not params.get("ConsistentRead")
            total = sum(item_size(i) for i in parsed.get("Items", []))
            call.rcu = (0.5 if eventual else 1.0) * units(total, READ_UNIT)
        elif old is not None:
            writes = self._writes(op, params)
            for (name, key, factor), before in zip(writes, old, strict=True):
                after = self._get(name, key)
                size = max(item_size(before), item_size(after))
                call.wcu += factor * units(size, WRITE_UNIT)
                call.gsi_wcu += self._index_writes(self.tables[name], before, after)

    @staticmethod
    def _index_writes(table: Table, before: dict | None, after: dict | None) -> int:
        total = 0
        for index in table.indexes:
            old, new = table.entry(index, before), table.entry(index, after)
            if old == new:
                continue
            if old is None or new is None:
                total += units(item_size(old or new), WRITE_UNIT)
            elif any(old[k] != new[k] for k in index.keys):  # moved: delete + put
                total += units(item_size(old), WRITE_UNIT) + units(item_size(new), WRITE_UNIT)
            else:
                total += units(item_size(new), WRITE_UNIT)
        return total


def _frozen(key: dict) -> tuple:
    return tuple(sorted((k, repr(v)) for k, v in key.items()))
