"""moto made to cost what DynamoDB's calls cost, not what it holds: its hot paths cached
(action lookup, update expressions, response keys), a transaction that backs up only the items
it touches, and a Query that reads only the partition (and page) it can answer. Each patch keeps
moto's own outcome (the equivalence tests compare with ``STOCK_TRANSACTIONS`` and
``STOCK_QUERIES``); ``emulator.PATCHED_FOR`` names the moto version they were checked against."""

from __future__ import annotations

import bisect
import collections
from typing import Any

# Tables whose index lookups are built (see _install_query_lookup): physical name -> table.
_indexed: dict[str, Any] = {}


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


def reindex(table, given: dict) -> None:
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
