"""DynamoDB and S3 emulated in-process by moto, built from ``template.yaml``, with state kept
on disk.

- Every emulated AWS call runs under one lock, as each DynamoDB/S3 operation is atomic on AWS:
  concurrent Lambda invocations interleave between calls, never inside one, so conditional
  writes behave as they do on AWS.
- State lives in the data dir: ``dynamodb.json`` (every item) and ``s3/`` (one file per
  object). A snapshot is taken at most a second after a write and at shutdown; it is written
  atomically (objects first, then the item file, then stale objects removed), so a killed
  server restarts on a consistent state that lacks at most the last second of writes.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws
from moto.core.botocore_stubber import BotocoreStubber

from openbin_cli.template import Template

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

# -- one lock around every emulated call --------------------------------------------------------
CALL_LOCK = threading.RLock()
_dirty = threading.Event()
# What changed since the last snapshot, by the emulated (physical) table name; _OBJECTS for the
# bucket, _ALL_TABLES when a write named no table we could read. Guarded by CALL_LOCK.
_changed_tables: set[str] = set()
_OBJECTS = "\0objects"
_ALL_TABLES = "\0all"
_original_process_request = BotocoreStubber.process_request


_skip = threading.local()


def skip_next_request() -> None:
    """Fault injection: the next emulated request on this thread is not applied (a test's own
    before-send handler answers it instead; botocore still calls every handler)."""
    _skip.next = True


def _serialised_process_request(self, request):
    if getattr(_skip, "next", False):
        _skip.next = False
        return None
    with CALL_LOCK:
        response = _original_process_request(self, request)
        if request.method in ("PUT", "POST", "DELETE"):
            _note_change(request)
    return response


def _note_change(request) -> None:
    """Remember what a request may have changed (under CALL_LOCK), so that a snapshot reads
    again only the tables that changed since the last one, and lists the bucket only when an
    object was written or deleted."""
    target = request.headers.get("X-Amz-Target", b"")
    target = target.decode() if isinstance(target, bytes) else target
    if not target:  # S3 (the only other service emulated here)
        _changed_tables.add(_OBJECTS)
        _dirty.set()
        return
    if target.rsplit(".", 1)[-1] not in _MUTATING_DYNAMODB:
        return
    try:
        body = json.loads(request.body or b"{}")
    except (TypeError, ValueError):
        body = {}
    named = {body.get("TableName")}
    named.update(body.get("RequestItems", {}))  # BatchWriteItem
    for entry in body.get("TransactItems", []):
        named.update(op.get("TableName") for op in entry.values() if isinstance(op, dict))
    named.discard(None)
    _changed_tables.update(named or {_ALL_TABLES})
    _dirty.set()


BotocoreStubber.process_request = _serialised_process_request  # type: ignore[method-assign]


def _install_action_lookup_cache() -> None:
    """moto (5.2.5) lists a handler class's methods with inspect.getmembers on every call, to
    check the action exists: 3% of the local server's time. The list depends on the class
    only, so it is computed once per class."""
    import functools

    from moto.core import responses as moto_responses

    moto_responses.method_names_from_class = functools.cache(moto_responses.method_names_from_class)


_install_action_lookup_cache()


def _install_update_expression_cache() -> None:
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

    make.__wrapped__ = parse  # type: ignore[attr-defined]
    UpdateExpressionParser.make = make
    setattr(validators, "deepcopy", copy_tree)  # noqa: B010 (its annotation is copy's own)
    DepthFirstTraverser.nodes_to_be_processed = nodes_to_be_processed


_install_update_expression_cache()


# -- transactions that cost what DynamoDB's do ----------------------------------------------------
# Stock moto (5.2.5) backs up every table a TransactWriteItems touches with a deepcopy of the
# whole table, so a transaction costs O(items in the table): a local create took 279 ms after
# 6,000 bins against 20 ms on an empty table. Here the backup is of the touched items only, and
# a cancelled transaction restores them the same way. Every emulated call runs under CALL_LOCK,
# so nothing else sees the table in between. STOCK_TRANSACTIONS keeps moto's own behaviour
# (the benchmark's --stock-moto).
STOCK_TRANSACTIONS = False


def _install_transaction_backup() -> None:
    import copy as copy_module

    from moto.dynamodb import models as ddb_models
    from moto.dynamodb.models.dynamo_type import DynamoType
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
            key = op.get("Item") or op.get("Key") or {}
            if table.hash_key_attr not in key:
                continue
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = None
            if table.range_key_attr:
                if table.range_key_attr not in key:
                    continue
                range_value = DynamoType(key[table.range_key_attr])
                current = table.items.get(hash_value, {}).get(range_value)
            else:
                current = table.items.get(hash_value)
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


# -- DynamoDB JSON with binary values, as plain JSON ---------------------------------------------
def _encode_value(value: dict) -> dict:
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": base64.b64encode(bytes(inner)).decode()}
    if kind == "BS":
        return {"BS": [base64.b64encode(bytes(x)).decode() for x in inner]}
    if kind == "M":
        return {"M": {k: _encode_value(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_encode_value(v) for v in inner]}
    return value


def _decode_value(value: dict) -> dict:
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": base64.b64decode(inner)}
    if kind == "BS":
        return {"BS": [base64.b64decode(x) for x in inner]}
    if kind == "M":
        return {"M": {k: _decode_value(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_decode_value(v) for v in inner]}
    return value


def _object_file(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode()


# -- snapshots straight from moto's tables ---------------------------------------------------------
# Reading a table through the API serialises every item twice (moto's response, botocore's
# parse) while the lock is held; reading moto's items is an order of magnitude cheaper. The
# result is what a Scan returns, encoded by _encode_value (tests/unit/test_third_party_guards.py
# compares the two, so a moto upgrade that changes its items fails there, loudly).
def _table_items(table_name: str) -> list[dict]:
    from moto.backends import get_backend
    from moto.core import DEFAULT_ACCOUNT_ID

    table = get_backend("dynamodb")[DEFAULT_ACCOUNT_ID][REGION].tables[table_name]
    return [{k: _attribute_json(v) for k, v in item.attrs.items()} for item in table.all_items()]


def _attribute_json(value) -> dict:
    """One of moto's DynamoType values as _encode_value writes it (binary as base64 text)."""
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
        self._mock: Any = None  # moto's mock while started
        self._saved_tables: dict[str, str] = {}  # template name -> its items as JSON text
        self._saved_objects: set[tuple[str, str]] | None = None  # (bucket, file) last written
        self._saver: threading.Thread | None = None
        self._stop_saving = threading.Event()

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> LocalAWS:
        os.environ.pop("AWS_PROFILE", None)
        os.environ.update(FAKE_CREDENTIALS)
        self._mock = mock_aws()
        self._mock.start()
        self.db = boto3.client("dynamodb", region_name=REGION)
        self.s3 = boto3.client("s3", region_name=REGION)
        self._create_resources()
        if self.data_dir:
            self.restore()
        _dirty.clear()
        return self

    def stop(self) -> None:
        self._stop_saving.set()
        if self._saver:
            self._saver.join()
        if self.data_dir:
            self.save()
        if self._mock:
            self._mock.stop()
            self._mock = None

    def drop(self) -> None:
        """Delete this instance's tables and bucket (every object version first), so a test's
        own resources do not outlive it in a shared emulation."""
        for name in self.template.tables:
            self.db.delete_table(TableName=self.names[name])
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
    def _objects(self, bucket: str) -> dict[str, str]:
        out = {}
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                out[obj["Key"]] = obj["ETag"]
        return out

    def save(self) -> None:
        """Write a consistent snapshot of every table and object to the data dir.

        Under the lock (nothing changes meanwhile) it copies, straight from moto's tables, only
        the tables written since the last snapshot, and lists the bucket only if an object
        changed; encoding and writing happen after the lock is released. The first snapshot
        reads everything."""
        data_dir = self.data_dir
        if not data_dir:
            return
        with CALL_LOCK:
            _dirty.clear()
            changed = set(_changed_tables)
            _changed_tables.difference_update(self.names.values())
            _changed_tables.difference_update((_OBJECTS, _ALL_TABLES))
            everything = _ALL_TABLES in changed or not self._saved_tables
            copies = {
                name: _table_items(self.names[name])
                for name in self.template.tables
                if everything or self.names[name] in changed
            }
            objects = None
            if _OBJECTS in changed or self._saved_objects is None:
                objects = {}
                for name in self.template.buckets:
                    bucket = self.names[name]
                    for key in self._objects(bucket):
                        target = data_dir / "s3" / name / _object_file(key)
                        body = None
                        if not target.exists():
                            got = self.s3.get_object(Bucket=bucket, Key=key)
                            body = got["Body"].read()
                        objects[(name, key)] = body
        if not (copies or objects is not None):
            return
        for name, items in copies.items():  # the tables as JSON text, each kept until it changes
            self._saved_tables[name] = json.dumps(items, separators=(",", ":"))
        if objects is not None:
            for (name, key), body in objects.items():
                if body is not None:
                    folder = data_dir / "s3" / name
                    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
                    _atomic_write(folder / _object_file(key), body)
            self._saved_objects = {(name, _object_file(key)) for name, key in objects}
        tables = ",".join(
            f"{json.dumps(name)}:{text}" for name, text in sorted(self._saved_tables.items())
        )
        _atomic_write(
            data_dir / "dynamodb.json",
            ('{"version":1,"tables":{' + tables + "}}").encode(),
        )
        if objects is not None:
            keep = self._saved_objects
            assert keep is not None
            for folder in (data_dir / "s3").glob("*"):
                for file in folder.iterdir():
                    if (folder.name, file.name) not in keep and not file.name.endswith(".tmp"):
                        file.unlink(missing_ok=True)

    def restore(self) -> None:
        assert self.data_dir is not None
        state_file = self.data_dir / "dynamodb.json"
        if state_file.exists():
            state = json.loads(state_file.read_text())
            for name, items in state["tables"].items():
                if name not in self.names:
                    continue
                table = self.names[name]
                for start in range(0, len(items), 25):  # BatchWriteItem's most
                    pending = {
                        table: [
                            {"PutRequest": {"Item": {k: _decode_value(v) for k, v in i.items()}}}
                            for i in items[start : start + 25]
                        ]
                    }
                    while pending:
                        pending = self.db.batch_write_item(RequestItems=pending).get(
                            "UnprocessedItems"
                        )
        for folder in (self.data_dir / "s3").glob("*"):
            if folder.name not in self.names:
                continue
            for file in folder.iterdir():
                if file.name.endswith(".tmp"):
                    continue
                key = base64.urlsafe_b64decode(file.name.encode()).decode()
                self.s3.put_object(Bucket=self.names[folder.name], Key=key, Body=file.read_bytes())

    def is_empty(self) -> bool:
        return all(
            self.db.scan(TableName=self.names[name], Limit=1).get("Count", 0) == 0
            for name in self.template.tables
        )

    def autosave(self, interval: float = 1.0) -> None:
        """Snapshot in the background, at most ``interval`` seconds after a write."""
        if not self.data_dir:
            return

        def loop() -> None:
            while not self._stop_saving.wait(interval):
                if _dirty.is_set():
                    self.save()

        self._saver = threading.Thread(target=loop, name="openbin-autosave", daemon=True)
        self._saver.start()


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def wait_until(predicate, timeout: float = 10.0, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()
