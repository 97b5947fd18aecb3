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

from openbin_local import conflicts, iam, streams
from openbin_local import journal as journal_format
from openbin_local.heap import COLLECTOR_PASSES, Pauses, settle_heap
from openbin_local.moto_speed import _indexed, _item_at
from openbin_local.moto_speed import reindex as _reindex
from openbin_local.runtime import LOCAL_FUNCTION_ARN
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


_skip = threading.local()


def skip_next_request() -> None:
    """Fault injection: the next emulated request on this thread is not applied (a test's own
    before-send handler answers it instead; botocore still calls every handler)."""
    _skip.next = True


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
        tables = _dynamodb_backend().tables if streams.LISTENING else {}
        streamed = streams.before(request, tables, _item_at, _attribute_json)
        response = _original_process_request(self, request)
        if (
            streamed is not None
            and 200 <= (int(response[0]) if isinstance(response, tuple) else 500) < 300
        ):
            streams.after(streamed, tables, _item_at, _attribute_json)
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
    touched = streams.touched(body)
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
        # ``!Ref X.Alias``: the function's live alias, served by openbin_local.runtime
        self.names.update(
            {f"{name}.Alias": LOCAL_FUNCTION_ARN.format(name=name) for name in template.functions}
        )
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
        """The functions' variables; ``!Ref`` of a queue is its URL, as in CloudFormation."""
        urls = {
            name: f"https://sqs.{REGION}.amazonaws.com/123456789012/{self.names[name]}"
            for name in self.template.queues
        }
        return self.template.environment(function, {**self.names, **urls})

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
            view = props.get("StreamSpecification", {}).get("StreamViewType")
            if view:  # read by openbin_local.sources, as Lambda reads DynamoDB Streams
                streams.enable(self.names[name], view)
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


def server_stats() -> dict:
    """The pauses ``openbin serve`` measures about itself (the admin op ``server.stats``)."""
    return {"persistence": PERSISTENCE.summary(), "collector": COLLECTOR_PASSES.summary()}


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
