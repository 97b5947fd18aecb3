"""DynamoDB and S3 emulated in-process by moto, built from ``template.yaml``, with state kept
on disk.

- Every emulated AWS call runs under one lock, as each DynamoDB/S3 operation is atomic on AWS:
  concurrent Lambda invocations interleave between calls, never inside one, so conditional
  writes behave as they do on AWS.
- State lives in the data dir (``openbin_local.journal`` has the format): a snapshot
  (``dynamodb.json``), a journal of every item each emulated write touched since
  (``journal/``), and one file per object (``s3/``). Each write's journal entries and object
  files are written before the write is answered, so a killed server keeps every write it
  answered; they reach the disk (fsync) within a second. The cost of a write is the items it
  touched, whatever the data dir holds. The journal is folded into a new snapshot in another
  process once it outgrows the snapshot, and at start and shutdown.
"""

from __future__ import annotations

import base64
import bisect
import collections
import gc
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws
from moto.core.botocore_stubber import BotocoreStubber

from openbin_local import conflicts, iam
from openbin_local import journal as journal_format
from openbin_local.template import Template

REGION = "us-east-1"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "openbin-local",
    "AWS_SECRET_ACCESS_KEY": "openbin-local",
    "AWS_SESSION_TOKEN": "openbin-local",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}
_MUTATING_DYNAMODB = {
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
}

# moto's internals this module patches or reads (the request stubber, the transaction backup,
# the action lookup, the tables' items) as of this version: an upgrade fails
# tests/unit/test_third_party_guards.py until they are checked again and this is bumped.
PATCHED_FOR = "moto==5.2.5"

# Seconds between two sweeps of expired items (LocalAWS.expire_items), as DynamoDB's TTL would.
EXPIRE_EVERY = 60.0

# -- one lock around every emulated call --------------------------------------------------------
CALL_LOCK = threading.RLock()
_original_process_request = BotocoreStubber.process_request
# The persisted resources: physical table or bucket name -> the LocalAWS that keeps it.
_persisted: dict[str, LocalAWS] = {}
# Tables whose index lookups are built (see _install_query_lookup): physical name -> table.
_indexed: dict[str, Any] = {}


_skip = threading.local()


def skip_next_request() -> None:
    """Fault injection: the next emulated request on this thread is not applied (a test's own
    before-send handler answers it instead; botocore still calls every handler)."""
    _skip.next = True


class Pauses:
    """How long something held everyone up: how many times, the longest, and percentiles of
    the last 100,000 (``openbin serve`` reports them: the admin op ``server.stats``)."""

    def __init__(self) -> None:
        self.count = 0
        self.longest = 0.0
        self.recent: collections.deque[float] = collections.deque(maxlen=100_000)

    def add(self, seconds: float) -> None:
        self.count += 1
        self.longest = max(self.longest, seconds)
        self.recent.append(seconds)

    def summary(self) -> dict:
        ordered = sorted(self.recent)

        def ms(fraction: float) -> float:
            return round(ordered[int(fraction * (len(ordered) - 1))] * 1000, 2) if ordered else 0.0

        return {
            "count": self.count,
            "p50_ms": ms(0.5),
            "p99_ms": ms(0.99),
            "max_ms": round(self.longest * 1000, 2),
        }


# What a request may wait for behind the emulator's lock because of the data dir: each write's
# journal lines and object files, and the autosave tick's own moments under the lock.
PERSISTENCE = Pauses()


def _key_names(table_name: str) -> tuple[str, ...] | None:
    table = _dynamodb_backend().tables.get(table_name)
    if table is None:
        return None
    return (
        (table.hash_key_attr, table.range_key_attr)
        if table.range_key_attr
        else (table.hash_key_attr,)
    )


def _serialised_process_request(self, request):
    if getattr(_skip, "next", False):
        _skip.next = False
        return None
    held = conflicts.before(request, _key_names)
    if isinstance(held, tuple):  # collided with a transaction in flight, as on AWS
        return held
    try:
        return _process(self, request)
    finally:
        if held is not None:
            held.release()


def _process(self, request):
    with CALL_LOCK:
        response = _original_process_request(self, request)
        if (_persisted or _indexed) and request.method in ("PUT", "POST", "DELETE"):
            status = int(response[0]) if isinstance(response, tuple) else 500  # (status, ...)
            if 200 <= status < 300:
                started = time.perf_counter()
                _record_write(request)
                if _persisted:
                    PERSISTENCE.add(time.perf_counter() - started)
    return response


def _record_write(request) -> None:
    """Under CALL_LOCK, right after a successful write: journal the new state of every item it
    touched, and write or remove the files of the objects it touched."""
    target = request.headers.get("X-Amz-Target", b"")
    target = target.decode() if isinstance(target, bytes) else target
    if not target:  # S3, the only other service emulated here
        for bucket, key in _objects_named(request):
            keeper = _persisted.get(bucket)
            if keeper is not None:
                keeper._object_changed(bucket, key)
        return
    if target.rsplit(".", 1)[-1] not in _MUTATING_DYNAMODB:
        return
    try:
        body = json.loads(request.body or b"{}")
    except (TypeError, ValueError):
        return
    touched: list[tuple[str, dict]] = []
    if "TableName" in body:
        touched.append((body["TableName"], body.get("Key") or body.get("Item") or {}))
    for table, writes in body.get("RequestItems", {}).items():  # BatchWriteItem
        for write in writes:
            op = write.get("PutRequest") or write.get("DeleteRequest") or {}
            touched.append((table, op.get("Item") or op.get("Key") or {}))
    for entry in body.get("TransactItems", []):
        for kind, op in entry.items():
            if kind != "ConditionCheck" and isinstance(op, dict) and "TableName" in op:
                touched.append((op["TableName"], op.get("Key") or op.get("Item") or {}))
    for physical, given in touched:
        table = _indexed.get(physical)
        if table is not None:
            _reindex(table, given)
    by_keeper: dict[LocalAWS, list[tuple[str, dict]]] = {}
    for physical, given in touched:
        keeper = _persisted.get(physical)
        if keeper is not None:
            by_keeper.setdefault(keeper, []).append((physical, given))
    for keeper, items in by_keeper.items():
        keeper._items_changed(items)


def _objects_named(request) -> list[tuple[str, str]]:
    """(bucket, key) of the objects an S3 write names: the path's key, or DeleteObjects' list."""
    url = urllib.parse.urlsplit(request.url)
    host_bucket = url.hostname.split(".s3", 1)[0] if url.hostname and ".s3" in url.hostname else ""
    path = urllib.parse.unquote(url.path).lstrip("/")
    bucket, _, key = (host_bucket, "", path) if host_bucket else path.partition("/")
    if key:
        return [(bucket, key)]
    if "delete" in urllib.parse.parse_qs(url.query, keep_blank_values=True):
        from xml.etree import ElementTree  # noqa: S405 (the request botocore just built)

        body = request.body if isinstance(request.body, bytes) else b""
        root = ElementTree.fromstring(body)  # noqa: S314
        return [(bucket, el.text or "") for el in root.iter() if el.tag.rpartition("}")[2] == "Key"]
    return []


BotocoreStubber.process_request = _serialised_process_request  # type: ignore[method-assign]


def _install_action_lookup_cache() -> None:
    """moto (5.2.5) lists a handler class's methods with inspect.getmembers on every call, to
    check the action exists: 3% of the local server's time. The list depends on the class
    only, so it is computed once per class."""
    import functools

    from moto.core import responses as moto_responses

    moto_responses.method_names_from_class = functools.cache(moto_responses.method_names_from_class)


_install_action_lookup_cache()


def _install_expression_caches() -> None:
    """moto (5.2.5) parses an UpdateExpression on every UpdateItem (every request's charge) and
    transaction update, deep-copies the tree, then validates it. The functions send a handful
    of distinct expressions, so each parse is kept (pickled) and every call gets its own fresh
    tree from it; the tree is copied the same way (pickle rebuilds these plain node objects 3x
    faster than ``copy.deepcopy``). An expression that fails to parse is not kept: it fails the
    same way every time. With the traversal fix below, an emulated charge (UpdateItem through
    boto3) takes 2.1 ms of CPU instead of 2.65."""
    import copy as copy_module
    import pickle

    from moto.dynamodb.parsing import ast_nodes, expressions, validators

    # These modules carry no types (moto marks them ``type: ignore``).
    Node: Any = ast_nodes.Node  # type: ignore[attr-defined]
    DepthFirstTraverser: Any = ast_nodes.DepthFirstTraverser  # type: ignore[attr-defined]
    UpdateExpressionParser: Any = expressions.UpdateExpressionParser  # type: ignore[attr-defined]

    parse = UpdateExpressionParser.make
    kept: dict[str, bytes] = {}

    def make(expression: str):
        blob = kept.get(expression)
        if blob is None:
            tree = parse(expression)
            blob = pickle.dumps(tree, pickle.HIGHEST_PROTOCOL)
            if len(kept) < 4096:
                kept[expression] = blob
        return pickle.loads(blob)  # noqa: S301 (our own bytes, made just above)

    def copy_tree(value, memo=None):
        if isinstance(value, Node):
            return pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))  # noqa: S301
        return copy_module.deepcopy(value, memo)

    # Validating a tree runs a dozen traversals; at every node each asks which node types it
    # processes, building that tuple anew from a dict of bound methods (a fifth of the time).
    # The types are the class's own (every _processing_map is a literal of classes).
    kinds: dict[type, tuple[type, ...]] = {}

    def nodes_to_be_processed(self) -> tuple[type, ...]:
        found = kinds.get(type(self))
        if found is None:
            found = kinds[type(self)] = tuple(self._processing_map())
        return found

    # A ConditionExpression is lexed on every call: its tokens (immutable tuples) depend only
    # on its text, so each text is lexed once.
    from moto.dynamodb import comparisons

    condition_parser: Any = comparisons.ConditionExpressionParser
    lex = condition_parser._lex_condition_expression
    lexed: dict[str, tuple] = {}

    def lex_condition(self):
        tokens = lexed.get(self.condition_expression)
        if tokens is None:
            tokens = tuple(lex(self))
            if len(lexed) < 4096:
                lexed[self.condition_expression] = tokens
        return collections.deque(tokens)

    lex_condition.__wrapped__ = lex  # type: ignore[attr-defined]
    condition_parser._lex_condition_expression = lex_condition

    make.__wrapped__ = parse  # type: ignore[attr-defined]
    UpdateExpressionParser.make = make
    setattr(validators, "deepcopy", copy_tree)  # noqa: B010 (its annotation is copy's own)
    DepthFirstTraverser.nodes_to_be_processed = nodes_to_be_processed


_install_expression_caches()


def _install_response_key_cache() -> None:
    """moto (5.2.5) serialises every answer through its model, and for every member of every
    value it asks six alias providers which keys to try on the object, building them anew each
    time: a third of an emulated read. For a plain dict (every DynamoDB item and answer) the
    keys to try depend only on the member's name and shape, so they are computed once per
    name and shape; the keys are tried in the same order with the same result."""
    from moto.core import serialize

    picker = serialize.AttributePicker
    original_call = picker.__call__
    missing = serialize.MISSING
    kept: dict[tuple, tuple[tuple[str, ...], object]] = {}

    def first_present(obj: dict, keys: tuple[str, ...]):
        """The value of the first key ``obj`` has (a dotted key is a path), as moto picks it."""
        for possible_key in keys:
            if "." in possible_key:
                candidate = serialize.get_value(obj, possible_key, missing)
            else:
                candidate = obj.get(possible_key, missing)
            if candidate is not missing:
                return candidate
        return None

    def call(self, context):
        obj = context.obj
        if type(obj) is not dict:
            return original_call(self, context)
        cache_key = (type(self), tuple(self.alias_providers), id(context.shape), context.key)
        found = kept.get(cache_key)
        if found is None:  # the shape is kept with its keys, so its id is not reused
            found = kept[cache_key] = (tuple(self.get_possible_keys(context)), context.shape)
        value = first_present(obj, found[0])
        if self.response_transformers:
            key_path = f"{context.key_path}.{context.key}"
            for transform_path, transform in self.response_transformers.items():
                if key_path.endswith(transform_path):
                    value = transform(value)
                    break
        return value

    call.__wrapped__ = original_call  # type: ignore[attr-defined]
    picker.__call__ = call  # type: ignore[method-assign]

    # The serialiser builds a context object (and its dotted path) for every member before it
    # asks the picker; for a plain dict whose keys are already known, the picker is asked
    # directly.
    serializer = serialize.ResponseSerializer
    original_get_value = serializer.get_value

    def get_value(self, value, key, shape):
        chooser = self._value_picker
        if type(value) is dict and type(chooser) in (picker, serialize.XFormedAttributePicker):
            if not chooser.response_transformers:
                found = kept.get((type(chooser), tuple(chooser.alias_providers), id(shape), key))
                if found is not None:
                    return first_present(value, found[0])
        return original_get_value(self, value, key, shape)

    get_value.__wrapped__ = original_get_value  # type: ignore[attr-defined]
    serializer.get_value = get_value  # type: ignore[method-assign]


_install_response_key_cache()


# -- transactions that cost what DynamoDB's do ----------------------------------------------------
# Stock moto (5.2.5) backs up every table a TransactWriteItems touches with a deepcopy of the
# whole table, so a transaction costs O(items in the table): a local create took 279 ms after
# 6,000 bins against 20 ms on an empty table. Here the backup is of the touched items only, and
# a cancelled transaction restores them the same way. Every emulated call runs under CALL_LOCK,
# so nothing else sees the table in between. STOCK_TRANSACTIONS keeps moto's own behaviour
# (the benchmark's --stock-moto).
STOCK_TRANSACTIONS = False


def _item_at(table, key: dict) -> tuple[tuple, Any] | None:
    """The primary key (hash, range) that ``key`` (request attributes) names in one of moto's
    tables, and the item there now (None if there is none); None if ``key`` lacks a part."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    if table.hash_key_attr not in key:
        return None
    hash_value = DynamoType(key[table.hash_key_attr])
    if not table.range_key_attr:
        return (hash_value, None), table.items.get(hash_value)
    if table.range_key_attr not in key:
        return None
    range_value = DynamoType(key[table.range_key_attr])
    return (hash_value, range_value), table.items.get(hash_value, {}).get(range_value)


def _install_transaction_backup() -> None:
    import copy as copy_module

    from moto.dynamodb import models as ddb_models
    from moto.dynamodb.models.table import Table as MotoTable

    backend = ddb_models.DynamoDBBackend
    original = backend.transact_write_items

    class TablesAsTheyAre:
        """moto's ``copy`` module, except that a table is not copied (its touched items are)."""

        def __getattr__(self, name):
            return getattr(copy_module, name)

        @staticmethod
        def deepcopy(value, memo=None):
            if isinstance(value, MotoTable):
                return value
            return copy_module.deepcopy(value, memo)

    def touched(backend_self, transact_items) -> list[tuple]:
        saved = []
        for entry in transact_items:
            op = next(iter(entry.values()), None)
            if not isinstance(op, dict) or op.get("TableName") not in backend_self.tables:
                continue
            table = backend_self.tables[op["TableName"]]
            found = _item_at(table, op.get("Item") or op.get("Key") or {})
            if found is None:
                continue
            (hash_value, range_value), current = found
            saved.append((table, hash_value, range_value, copy_module.deepcopy(current)))
        return saved

    def restore(saved: list[tuple]) -> None:
        for table, hash_value, range_value, item in reversed(saved):
            if range_value is None:
                if item is None:
                    table.items.pop(hash_value, None)
                else:
                    table.items[hash_value] = item
            elif item is None:
                table.items.get(hash_value, {}).pop(range_value, None)
            else:
                table.items.setdefault(hash_value, {})[range_value] = item

    def transact_write_items(self, transact_items):
        if STOCK_TRANSACTIONS:
            return original(self, transact_items)
        saved = touched(self, transact_items)
        ddb_models.copy = TablesAsTheyAre()  # type: ignore[assignment]
        try:
            return original(self, transact_items)
        except Exception:
            restore(saved)
            raise
        finally:
            ddb_models.copy = copy_module

    transact_write_items.__wrapped__ = original  # type: ignore[attr-defined]
    backend.transact_write_items = transact_write_items  # type: ignore[method-assign]


_install_transaction_backup()


# -- queries that cost their answer, not the table ---------------------------------------------
# moto (5.2.5) answers every Query by sorting every item of the table (Table.all_items) and
# testing each: a page of a collection's bins cost 33 ms on an empty table and 246 ms at 20,000
# bins. DynamoDB reads the partition alone, and a page of it. Here a Query sees only the items it
# can answer: the base table's partition by its hash key; on an index, through a lookup kept in
# moto's own order (index hash value -> the partition's sort keys, sorted), the page the
# request's ExclusiveStartKey and Limit select and the one item after it (which tells moto there
# is a next page). The lookup is built on the table's first index Query and kept up to date by
# every write after it (the items each write touched, as the journal finds them). moto's own
# code then filters, sorts and pages those items exactly as before: only what it is given is
# smaller. A Query whose Limit counts filtered items (a range key condition on the index, a
# legacy QueryFilter) is given the whole partition.
class _Partition:
    """One index partition: the sort keys of its items in moto's order, and their primary keys."""

    __slots__ = ("keys", "primary")

    def __init__(self) -> None:
        self.keys: list[tuple] = []
        self.primary: dict[tuple, tuple] = {}

    def add(self, sort_key: tuple, primary: tuple) -> None:
        bisect.insort(self.keys, sort_key)
        self.primary[sort_key] = primary

    def remove(self, sort_key: tuple) -> None:
        del self.keys[bisect.bisect_left(self.keys, sort_key)]
        del self.primary[sort_key]


class _IndexLookup:
    """A global secondary index with one hash attribute, kept in the order moto's Query sorts
    it: by ``sort_attributes`` (the index's keys, then the table's), compared as moto compares
    them (DynamoType.cast_value). An item belongs to it when it has the hash attribute and every
    range attribute of the index, as moto's Query requires."""

    __slots__ = ("attribute", "partitions", "range_attributes", "sort_attributes", "where")

    def __init__(self, table, index) -> None:
        hashes = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
        ranges = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
        (self.attribute,) = hashes
        self.range_attributes = ranges
        if ranges:
            range_attrs = [*ranges, table.range_key_attr]
        else:  # moto: the table's range key, else its hash key, acts as the index's range key
            range_attrs = [table.range_key_attr or table.hash_key_attr, table.range_key_attr]
        self.sort_attributes = table._generate_attr_to_sort_by(
            [*hashes, table.hash_key_attr], range_attrs
        )
        self.partitions: dict[tuple, _Partition] = {}
        self.where: dict[tuple, tuple[tuple, tuple]] = {}  # primary key -> (partition, sort key)

    def put(self, primary: tuple, item) -> None:
        """The item at ``primary`` is now ``item`` (None: deleted)."""
        old = self.where.pop(primary, None)
        if old is not None:
            partition = self.partitions[old[0]]
            partition.remove(old[1])
            if not partition.keys:
                del self.partitions[old[0]]
        if item is None:
            return
        value = item.attrs.get(self.attribute)
        if not value or not all(item.attrs.get(name) for name in self.range_attributes):
            return
        sort_key = tuple(item.attrs[name].cast_value for name in self.sort_attributes)
        where = (value.type, str(value.value))
        self.partitions.setdefault(where, _Partition()).add(sort_key, primary)
        self.where[primary] = (where, sort_key)

    def page(self, value, arguments: dict) -> list[tuple]:
        """The primary keys of the items a Query for ``value`` may answer, in index order."""
        from moto.dynamodb.models.dynamo_type import DynamoType

        partition = self.partitions.get((value.type, str(value.value)))
        if partition is None:
            return []
        keys, limit = partition.keys, arguments.get("limit")
        start = arguments.get("exclusive_start_key")
        if (
            limit is None
            or arguments.get("range_comparison")  # the Limit counts the items that match
            or arguments.get("filter_kwargs")
            or (start and not all(name in start for name in self.sort_attributes))
        ):
            return [partition.primary[k] for k in keys]  # moto skips and counts, as before
        low, high = 0, len(keys)
        forward = arguments.get("scan_index_forward") is not False
        if start:  # moto skips what sorts at or before the start key in the query's direction
            after = tuple(DynamoType(start[name]).cast_value for name in self.sort_attributes)
            if forward:
                low = bisect.bisect_right(keys, after)
            else:
                high = bisect.bisect_left(keys, after)
        # the page and one item more: moto answers a LastEvaluatedKey only when there is one
        if forward:
            chosen = keys[low : low + limit + 1]
        else:
            chosen = keys[max(low, high - limit - 1) : high]
        return [partition.primary[k] for k in chosen]


def _build_lookup(table) -> dict[str, _IndexLookup]:
    lookup: dict[str, _IndexLookup] = {}
    for index in table.global_indexes:
        if sum(k["KeyType"] == "HASH" for k in index.schema) == 1:
            lookup[index.name] = _IndexLookup(table, index)
    for item in table.all_items():
        for index in lookup.values():
            index.put((item.hash_key, item.range_key), item)
    return lookup


def _reindex(table, given: dict) -> None:
    """Bring the table's index lookups up to date for one written item (under CALL_LOCK)."""
    lookup = table.__dict__.get("_openbin_lookup")
    found = _item_at(table, given) if lookup else None
    if found is None:
        return
    primary, item = found
    for index in lookup.values():
        index.put(primary, item)


def _install_query_lookup() -> None:
    import inspect

    from moto.dynamodb.models.table import Table

    original = Table.query
    signature = inspect.signature(original)

    def candidates(table, arguments) -> list | None:
        index_name = arguments.get("index_name")
        if not index_name:
            entry = table.items.get(arguments["hash_key"])
            if entry is None:
                return []
            found = list(entry.values()) if table.range_key_attr else [entry]
            return sorted(found, key=lambda x: (x.hash_key, x.range_key))
        conditions = arguments.get("hash_key_conditions") or []
        if len(conditions) != 1:
            return None
        lookup = table.__dict__.get("_openbin_lookup")
        if lookup is None:
            lookup = table.__dict__["_openbin_lookup"] = _build_lookup(table)
            _indexed[table.name] = table
        index = lookup.get(index_name)
        ((name, value),) = conditions
        if index is None or name != index.attribute:
            return None
        found = []
        for hash_value, range_value in index.page(value, arguments):
            entry = table.items.get(hash_value)
            item = entry.get(range_value) if table.range_key_attr and entry else entry
            if item is not None:
                found.append(item)
        return found

    def query(self, *args, **kwargs):
        if STOCK_QUERIES:
            return original(self, *args, **kwargs)
        arguments = signature.bind(self, *args, **kwargs).arguments
        found = candidates(self, arguments)
        if found is None:  # a shape of query this does not know: moto's own way
            return original(self, *args, **kwargs)
        self.all_items = lambda: found  # this call's view of the table (under CALL_LOCK)
        try:
            return original(self, *args, **kwargs)
        finally:
            del self.all_items

    query.__wrapped__ = original  # type: ignore[attr-defined]
    Table.query = query  # type: ignore[method-assign]


STOCK_QUERIES = False  # moto's own Query (the equivalence test compares the two)
_install_query_lookup()


# -- the data dir's encodings ------------------------------------------------------------------
def _object_file(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode()


# -- items straight from moto's tables -----------------------------------------------------------
# The journal writes each item as moto holds it, encoded by _attribute_json: what a Scan returns,
# with binary values as base64 text (tests/storage/test_emulator_guards.py compares the two for
# every attribute type, so a moto upgrade that changes its items fails there, loudly).
def _table_items(table_name: str) -> list[dict]:
    from moto.backends import get_backend
    from moto.core import DEFAULT_ACCOUNT_ID

    table = get_backend("dynamodb")[DEFAULT_ACCOUNT_ID][REGION].tables[table_name]
    return [{k: _attribute_json(v) for k, v in item.attrs.items()} for item in table.all_items()]


def _attribute_json(value) -> dict:
    """One of moto's DynamoType values as DynamoDB JSON (binary as base64 text)."""
    if isinstance(value, dict):  # a nested value moto kept as it came
        from moto.dynamodb.models.dynamo_type import DynamoType

        return _attribute_json(DynamoType(value))
    kind, inner = value.type, value.value
    if kind == "M":
        return {"M": {k: _attribute_json(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_attribute_json(v) for v in inner]}
    if kind == "B":
        return {"B": _base64_text(inner)}
    if kind == "BS":
        return {"BS": [_base64_text(x) for x in inner]}
    if kind in ("SS", "NS"):
        return {kind: list(inner)}
    return {kind: inner}


def _base64_text(value) -> str:
    if isinstance(value, str):  # moto keeps binary as the base64 text the request carried
        return value
    return base64.b64encode(bytes(value)).decode()


class LocalAWS:
    """The emulated account: tables and bucket of ``template.yaml``, optionally persisted."""

    def __init__(self, template: Template, data_dir: Path | None = None, prefix: str = "") -> None:
        """``prefix`` names a second set of resources in the same emulated account (tests that
        need empty tables make them next to the shared ones); lowercase letters, digits and
        dashes, as bucket names allow."""
        self.template = template
        self.data_dir = Path(data_dir) if data_dir else None
        self.names = {name: f"{prefix}{name}" for name in template.tables}
        self.names.update({name: f"openbin-{prefix}{name.lower()}" for name in template.buckets})
        self.names.update({name: f"{prefix}{name}" for name in template.queues})
        self._mock: Any = None  # moto's mock while started
        self.template_names = {physical: name for name, physical in self.names.items()}
        self.journal: journal_format.Journal | None = None
        self.notes: list[str] = []  # what starting on the data dir dropped or migrated
        self._snapshot_size = 0  # bytes of the snapshot the journal is measured against
        self._keys: dict[str, list[str]] | None = None
        self._unsynced_objects: set[Path] = set()  # object files written since the last fsync
        self.settles_heap = False  # openbin serve sets it: a long-lived process (settle_heap)
        fixed = os.environ.get("OPENBIN_COMPACT_AFTER_BYTES")  # a test's: regardless of size
        self._compact_after = int(fixed) if fixed else None
        self._compacting: subprocess.Popen | None = None
        self._saver: threading.Thread | None = None
        self._stop_saving = threading.Event()

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> LocalAWS:
        os.environ.pop("AWS_PROFILE", None)
        os.environ.update(FAKE_CREDENTIALS)
        self._mock = mock_aws()
        self._mock.start()
        iam.enforce(self.template, self.names)
        self.db = boto3.client("dynamodb", region_name=REGION)
        self.s3 = boto3.client("s3", region_name=REGION)
        self._create_resources()
        if self.data_dir:
            try:
                self.restore()
            except BaseException:
                self._mock.stop()
                self._mock = None
                raise
        return self

    def stop(self) -> None:
        self._stop_saving.set()
        if self._saver:
            self._saver.join()
        if self.journal is not None:
            for physical in self.names.values():
                _persisted.pop(physical, None)
            self.journal.close()
            self.journal = None
            self._wait_for_compaction()
            assert self.data_dir is not None
            with journal_format.folding(self.data_dir):
                journal_format.compact(self.data_dir, self.key_names())
        if self._mock:
            self._mock.stop()
            self._mock = None

    def drop(self) -> None:
        """Delete this instance's tables and bucket (every object version first), so a test's
        own resources do not outlive it in a shared emulation."""
        for name in self.template.tables:
            self.db.delete_table(TableName=self.names[name])
            _indexed.pop(self.names[name], None)  # its query lookup goes with it
        if self.template.queues:
            sqs = boto3.client("sqs", region_name=REGION)
            for name in self.template.queues:
                sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=self.names[name])["QueueUrl"])
        for name in self.template.buckets:
            bucket = self.names[name]
            for page in self.s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
                doomed = [
                    {"Key": v["Key"], "VersionId": v["VersionId"]}
                    for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
                ]
                if doomed:
                    self.s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed})
            self.s3.delete_bucket(Bucket=bucket)

    def __enter__(self) -> LocalAWS:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def function_environment(self, function: str | None = None) -> dict[str, str]:
        return self.template.environment(function, self.names)

    # -- resources from the template --------------------------------------------------------------
    def _create_resources(self) -> None:
        for name, props in self.template.tables.items():
            kwargs = {
                "TableName": self.names[name],
                "AttributeDefinitions": props["AttributeDefinitions"],
                "KeySchema": props["KeySchema"],
                "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
            }
            if props.get("GlobalSecondaryIndexes"):
                kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
            if props.get("SSESpecification", {}).get("SSEEnabled"):
                kwargs["SSESpecification"] = {"Enabled": True}
            self.db.create_table(**kwargs)
        if self.template.queues:
            sqs = boto3.client("sqs", region_name=REGION)
            for name in self.template.queues:  # not persisted: they hold failures to look at
                sqs.create_queue(QueueName=self.names[name])
        for name, props in self.template.buckets.items():
            bucket = self.names[name]
            self.s3.create_bucket(Bucket=bucket)
            if "PublicAccessBlockConfiguration" in props:
                self.s3.put_public_access_block(
                    Bucket=bucket,
                    PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"],
                )
            if props.get("VersioningConfiguration", {}).get("Status") == "Enabled":
                self.s3.put_bucket_versioning(
                    Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
                )
            if "BucketEncryption" in props:
                rules = [  # CloudFormation's names for the S3 API's
                    {
                        "ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
                        "BucketKeyEnabled": rule.get("BucketKeyEnabled", False),
                    }
                    for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
                ]
                self.s3.put_bucket_encryption(
                    Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": rules}
                )

    # -- persistence ----------------------------------------------------------------------------
    def key_names(self) -> dict[str, list[str]]:
        """Each table's key attributes (hash, then range), by template name."""
        if self._keys is None:
            self._keys = {
                name: [
                    k["AttributeName"]
                    for k in sorted(props["KeySchema"], key=lambda k: k["KeyType"])
                ]
                for name, props in self.template.tables.items()
            }
        return self._keys

    def _items_changed(self, touched: list[tuple[str, dict]]) -> None:
        """Journal the state of each touched item as moto now holds it (under CALL_LOCK)."""
        journal = self.journal
        if journal is None:
            return
        keys = self.key_names()
        entries = []
        for physical, given in touched:
            name = self.template_names[physical]
            names = keys[name]
            if not all(n in given for n in names):
                continue
            key = {n: given[n] for n in names}
            found = _item_at(_dynamodb_backend().tables[physical], key)
            item = None if found is None else found[1]
            state = None if item is None else {k: _attribute_json(v) for k, v in item.attrs.items()}
            entries.append({"t": name, "k": key, "i": state})
        journal.append(entries)

    def _object_changed(self, bucket: str, key: str) -> None:
        """Write the object's file as moto now holds it, or remove it (under CALL_LOCK)."""
        assert self.data_dir is not None
        folder = self.data_dir / "s3" / self.template_names[bucket]
        path = folder / _object_file(key)
        found = _s3_backend().get_object(bucket, key)
        if found is None:
            path.unlink(missing_ok=True)
        else:
            if not folder.is_dir():  # each level private (parents=True would use the umask)
                folder.parent.mkdir(mode=0o700, exist_ok=True)
                folder.mkdir(mode=0o700, exist_ok=True)
            journal_format.atomic_write(path, found.value, sync=False)
            self._unsynced_objects.add(path)

    def save(self) -> None:
        """Flush the journal to the disk; fold it into a new snapshot (in another process,
        while the server keeps serving) once it has grown past the snapshot's size."""
        journal, data_dir = self.journal, self.data_dir
        if journal is None or data_dir is None:
            return
        with CALL_LOCK:
            started = time.perf_counter()
            written, self._unsynced_objects = self._unsynced_objects, set()
            PERSISTENCE.add(time.perf_counter() - started)
        for path in written:  # objects first: the journal may name them
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:  # deleted since
                continue
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        journal.sync()  # outside the lock: appends go on meanwhile
        limit = self._compact_after
        if limit is None:  # amortised: a snapshot is rewritten after as many journal bytes
            limit = max(COMPACT_AFTER_BYTES, self._snapshot_size)
        due = journal.size > limit
        if due and self._compacting is None:
            with CALL_LOCK:  # no append while the segment changes
                started = time.perf_counter()
                closed, fd = journal.rotate()
                PERSISTENCE.add(time.perf_counter() - started)
            journal.finish(fd)  # outside the lock: the fsync may take a while
            self._compacting = subprocess.Popen(  # noqa: S603 (our own module)
                [
                    sys.executable,
                    "-m",
                    "openbin_local.journal",
                    "compact",
                    str(data_dir),
                    str(closed),
                ],
                env={**os.environ, "OPENBIN_JOURNAL_KEYS": json.dumps(self.key_names())},
                stdin=subprocess.DEVNULL,
            )
        if self._compacting is not None and self._compacting.poll() is not None:
            self._compacting = None
            self._snapshot_size = (data_dir / journal_format.SNAPSHOT).stat().st_size
        if self.settles_heap:
            settle_heap()

    def _wait_for_compaction(self) -> None:
        if self._compacting is not None:
            self._compacting.wait()
            self._compacting = None

    def restore(self) -> None:
        """Load the data dir into the emulator straight through moto's backends (no API round
        trip per item), fold its journal into a new snapshot, and open the next segment."""
        data_dir = self.data_dir
        assert data_dir is not None
        with journal_format.folding(data_dir):
            keys = self.key_names()
            state = journal_format.load(data_dir, keys)  # refuses a snapshot it cannot read
            self.notes = list(state.notes)
            backend = _dynamodb_backend()
            for name, physical in self.names.items():
                if name not in self.template.tables:
                    continue
                table = backend.tables[physical]
                for item in state.items(name):
                    table.put_item(item)
            s3 = _s3_backend()
            for folder in (data_dir / "s3").glob("*"):
                if folder.name not in self.names:
                    continue
                for file in folder.iterdir():
                    if file.name.endswith(".tmp"):
                        continue
                    key = base64.urlsafe_b64decode(file.name.encode()).decode()
                    s3.put_object(self.names[folder.name], key, file.read_bytes())
            if state.damaged:
                journal_format.set_aside(data_dir, state.damaged)
                upto = max(state.damaged)
            else:
                upto = max([state.journal, *(n for n, _ in journal_format.segments(data_dir))])
            snapshot = data_dir / journal_format.SNAPSHOT
            if (
                upto > state.journal
                or not snapshot.exists()
                or state.format < journal_format.FORMAT
            ):
                journal_format.write_snapshot(data_dir, state, upto)  # the journal folded in
            for number, path in journal_format.segments(data_dir):
                if number <= upto:
                    path.unlink(missing_ok=True)
        self._snapshot_size = snapshot.stat().st_size
        self.journal = journal_format.Journal(data_dir, upto + 1)
        for physical in self.names.values():
            _persisted[physical] = self

    def is_empty(self) -> bool:
        return all(
            self.db.scan(TableName=self.names[name], Limit=1).get("Count", 0) == 0
            for name in self.template.tables
        )

    def expire_items(self, now: float | None = None) -> int:
        """What DynamoDB's Time to Live does (on AWS within a day or two of the time): delete
        the items of each table whose ``TimeToLiveSpecification`` is enabled and whose attribute
        is a time (epoch seconds) before ``now``. Each delete is conditional on the item still
        being expired, so one written again meanwhile stays. Returns how many went."""
        now = time.time() if now is None else now
        gone = 0
        for name, props in self.template.tables.items():
            ttl = props.get("TimeToLiveSpecification") or {}
            if not ttl.get("Enabled"):
                continue
            keys = [part["AttributeName"] for part in props["KeySchema"]]
            expired = {
                "ExpressionAttributeNames": {"#at": ttl["AttributeName"]},
                "ExpressionAttributeValues": {":now": {"N": str(int(now))}},
            }
            pages = self.db.get_paginator("scan").paginate(
                TableName=self.names[name], FilterExpression="#at < :now", **expired
            )
            for page in pages:
                for item in page["Items"]:
                    try:
                        self.db.delete_item(
                            TableName=self.names[name],
                            Key={key: item[key] for key in keys},
                            ConditionExpression="#at < :now",
                            **expired,
                        )
                        gone += 1
                    except self.db.exceptions.ConditionalCheckFailedException:
                        pass
        return gone

    def autosave(self, interval: float = 1.0, expire_every: float = EXPIRE_EVERY) -> None:
        """Flush the journal to the disk every ``interval`` seconds (and compact when due);
        delete expired items (``expire_items``) every ``expire_every`` seconds."""
        if not self.data_dir:
            return

        def loop() -> None:
            next_expiry = time.monotonic()
            while not self._stop_saving.wait(interval):
                self.save()
                if time.monotonic() >= next_expiry:
                    self.expire_items()
                    next_expiry = time.monotonic() + expire_every

        self._saver = threading.Thread(target=loop, name="openbin-autosave", daemon=True)
        self._saver.start()


# Every pass of the cyclic collector in openbin serve: each stops every thread while it runs.
COLLECTOR_PASSES = Pauses()


def watch_collector() -> None:
    """Time every pass of the cyclic collector into COLLECTOR_PASSES (openbin serve)."""
    started: list[float] = []

    def timed(phase: str, _info: dict) -> None:
        if phase == "start":
            started[:] = [time.perf_counter()]
        elif started:
            COLLECTOR_PASSES.add(time.perf_counter() - started.pop())

    gc.callbacks.append(timed)


def server_stats() -> dict:
    """The pauses ``openbin serve`` measures about itself (the admin op ``server.stats``)."""
    return {"persistence": PERSISTENCE.summary(), "collector": COLLECTOR_PASSES.summary()}


def settle_heap(threshold: int | None = None) -> bool:
    """Move what survived into the cyclic collector's oldest generation out of its way
    (``gc.freeze``) once it holds ``threshold`` objects; True when it did.

    Every item the server holds is a few dozen tracked objects (moto's Item, its attribute
    dicts and values), so a full collection, which CPython runs whenever the oldest generation
    has grown by a quarter, walks all the data: at 20,000 bins each pass stopped every request
    for 100-290 ms. Frozen objects are skipped by every pass, so a pass costs at most what
    survived since the last freeze. A full collection first frees the garbage cycles already
    dead; a cycle that dies after it was frozen (one in flight at that instant) is kept for
    good (docs/PERFORMANCE.md measures how little that is)."""
    limit = FREEZE_AFTER_OBJECTS if threshold is None else threshold
    if len(gc.get_objects(generation=2)) < limit:
        return False
    gc.collect()
    gc.freeze()
    return True


# settle_heap's threshold: a full pass over this many objects takes ~15 ms on the 2-core machine.
FREEZE_AFTER_OBJECTS = 30_000

# The journal is folded into a new snapshot once it is larger than the snapshot and than this
# (OPENBIN_COMPACT_AFTER_BYTES overrides it; the durability tests compact every second).
COMPACT_AFTER_BYTES = 32 * 1024 * 1024


def _dynamodb_backend():
    from moto.backends import get_backend
    from moto.core import DEFAULT_ACCOUNT_ID

    return get_backend("dynamodb")[DEFAULT_ACCOUNT_ID][REGION]


def _s3_backend():
    from moto.backends import get_backend
    from moto.core import DEFAULT_ACCOUNT_ID

    return get_backend("s3")[DEFAULT_ACCOUNT_ID]["aws"]  # the partition of us-east-1


def wait_until(predicate, timeout: float = 10.0, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()
