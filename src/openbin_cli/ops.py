"""Operator actions, one function each, run against a ``Storage`` wherever it lives: the local
emulation (directly, or inside a running ``openbin serve``) or a deployed stack."""

from __future__ import annotations

import json
from collections.abc import Callable

from openbin.api.usage import usage_json
from openbin.errors import OpenBinError
from openbin.models import PERMISSIONS, Account
from openbin.services.accounts import AccountService
from openbin.services.usage import usage_of
from openbin.storage import Storage


def account_json(account: Account, storage: Storage) -> dict:
    """An account as the operator sees it: what ``GET /v3/usage`` shows, and more."""
    return {
        "accountId": account.account_id,
        **usage_json(usage_of(account, storage)),
        "blocked": account.blocked,
        "createdAt": account.created_at,
    }


def account_create(storage: Storage, plan: str = "free", requests: int | None = None) -> dict:
    account, master_key = AccountService(storage).create_account(plan, requests)
    return {**account_json(account, storage), "masterKey": master_key}


def account_show(storage: Storage, account_id: str) -> dict:
    return account_json(AccountService(storage).get(account_id), storage)


def account_set_plan(storage: Storage, account_id: str, plan: str) -> dict:
    return account_json(AccountService(storage).set_plan(account_id, plan), storage)


def account_add_requests(storage: Storage, account_id: str, count: int) -> dict:
    return account_json(AccountService(storage).add_requests(account_id, count), storage)


def account_block(storage: Storage, account_id: str) -> dict:
    return account_json(AccountService(storage).set_blocked(account_id, True), storage)


def account_unblock(storage: Storage, account_id: str) -> dict:
    return account_json(AccountService(storage).set_blocked(account_id, False), storage)


def key_create_access(storage: Storage, account_id: str, name: str, permissions: list[str]) -> dict:
    from openbin.validation import check_name

    AccountService(storage).get(account_id)  # an unknown account is said first
    name = check_name(name, "X-Key-Name", "Access Key")
    new = AccountService(storage).create_access_key(
        account_id, name, {p: True for p in permissions}
    )
    return {
        "accessKeyId": new.record.access_key_id,
        "accessKey": new.key,
        "accountId": account_id,
        "keyPermissions": {"bins": {p: new.record.permissions[p] for p in PERMISSIONS}},
        "metadata": {"name": new.record.name, "createdAt": new.record.created_at},
    }


def collection_create(
    storage: Storage, account_id: str, name: str, schema: str | None = None
) -> dict:
    """A collection, with a schema doc attached when ``schema`` (JSON text) is given. Until the
    collections routes exist this is how the tests and the admin endpoint make them."""
    service = AccountService(storage)
    doc = service.create_schema_doc(account_id, f"{name}-schema", schema) if schema else None
    collection = service.create_collection(account_id, name, doc.schema_doc_id if doc else None)
    return {
        "collectionId": collection.collection_id,
        "schemaDocId": doc.schema_doc_id if doc else None,
        "schemaDocName": doc.name if doc else None,
    }


# -- restores (see docs/DEPLOYING.md, "Backup and restore") --------------------------------------
TABLE_SETTINGS = {
    "BinsTable": "bins_table",
    "VersionsTable": "versions_table",
    "KeysTable": "keys_table",
    "AccountsTable": "accounts_table",
    "CollectionsTable": "collections_table",
    "SchemaDocsTable": "schema_docs_table",
    "IdempotencyTable": "idempotency_table",
}


def records_undelete(storage: Storage, since: str) -> dict:
    """Bring back the records deleted at or after ``since`` (ISO-8601, the time the tables
    were restored to)."""
    from datetime import datetime

    when = datetime.fromisoformat(since.replace("Z", "+00:00"))
    if when.tzinfo is None:
        raise OpenBinError("--since needs a time zone, e.g. 2026-11-30T10:00:00Z")
    keys = storage.records.undelete_since(when)
    return {"since": when.isoformat(), "recordsRestored": len(keys)}


def records_sweep(storage: Storage, older_than_minutes: int = 60, dry_run: bool = False) -> dict:
    """Delete the record objects no bin or version names any more: what a write left behind
    when it failed after storing its object (its clean-up failing too), or a crash between
    the two. Only objects older than ``older_than_minutes`` (a write in flight has stored
    its object but not yet its item). The bucket is versioned: a deleted object can still be
    brought back for 35 days (``openbin restore records``)."""
    from datetime import UTC, datetime, timedelta

    from openbin.models import RecordRef

    cutoff = datetime.now(UTC) - timedelta(minutes=older_than_minutes)
    candidates = storage.records.objects_older_than(cutoff)  # listed first: older than items
    orphaned = sorted(set(candidates) - storage.bins.referenced_objects())
    if not dry_run:
        storage.records.discard_all([RecordRef(size=0, s3_key=key) for key in orphaned])
    return {"objects": len(candidates), "orphaned": len(orphaned), "deleted": not dry_run}


def table_copy(storage: Storage, table: str, source: str) -> dict:
    """Make the live ``table`` (a logical name, e.g. BinsTable) hold exactly the items of
    ``source`` (a table restored to a point in time): every source item is written, and every
    live item the source lacks is deleted."""
    if table not in TABLE_SETTINGS:
        raise OpenBinError(f"unknown table {table!r}: one of {', '.join(TABLE_SETTINGS)}")
    target = getattr(storage.settings, TABLE_SETTINGS[table])
    db = storage.db
    schema = db.describe_table(TableName=target)["Table"]["KeySchema"]
    key_names = [k["AttributeName"] for k in schema]
    restored: set[tuple] = set()
    written = 0
    for items in _scan(db, source):
        restored.update(_identity(item, key_names) for item in items)
        for start in range(0, len(items), 25):
            puts = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
            _batch_write(db, target, puts)
        written += len(items)
    doomed = [
        {name: item[name] for name in key_names}
        for items in _scan(db, target)
        for item in items
        if _identity(item, key_names) not in restored
    ]
    for start in range(0, len(doomed), 25):
        deletes = [{"DeleteRequest": {"Key": key}} for key in doomed[start : start + 25]]
        _batch_write(db, target, deletes)
    return {"table": target, "source": source, "itemsWritten": written, "itemsDeleted": len(doomed)}


def _scan(db, table: str):
    for page in db.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        yield page["Items"]


def _identity(item: dict, key_names: list[str]) -> tuple:
    return tuple(json.dumps(item[name], sort_keys=True) for name in key_names)


def _batch_write(db, table: str, requests: list[dict]) -> None:
    pending = {table: requests}
    while pending:
        pending = db.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


OPERATIONS: dict[str, Callable[..., dict]] = {
    "account.create": account_create,
    "account.show": account_show,
    "account.set-plan": account_set_plan,
    "account.add-requests": account_add_requests,
    "account.block": account_block,
    "account.unblock": account_unblock,
    "key.create-access": key_create_access,
    "collection.create": collection_create,
    "records.undelete": records_undelete,
    "records.sweep": records_sweep,
    "table.copy": table_copy,
}


def _moving() -> dict[str, Callable[..., dict]]:
    from openbin_cli.moving import target
    from openbin_cli.moving.archive import export_account

    return {**target.OPERATIONS, "export.account": export_account}


def run(storage: Storage, op: str, args: dict) -> dict:
    if op not in OPERATIONS and (op.startswith("import.") or op.startswith("export.")):
        OPERATIONS.update(_moving())
    return OPERATIONS[op](storage, **args)
