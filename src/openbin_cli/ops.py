"""Operator actions, one function each, run against a ``Storage`` wherever it lives: the local
emulation (directly, or inside a running ``openbin serve``) or a deployed stack."""

from __future__ import annotations

from openbin.models import PERMISSIONS, Account
from openbin.services.access_keys import usage
from openbin.services.accounts import AccountService
from openbin.storage import Storage


def account_json(account: Account, storage: Storage) -> dict:
    """An account as the operator sees it: what ``GET /v3/usage`` shows, and more."""
    return {
        "accountId": account.account_id,
        **usage(account, storage),
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


OPERATIONS = {
    "account.create": account_create,
    "account.show": account_show,
    "account.set-plan": account_set_plan,
    "account.add-requests": account_add_requests,
    "account.block": account_block,
    "account.unblock": account_unblock,
    "key.create-access": key_create_access,
    "collection.create": collection_create,
}


def run(storage: Storage, op: str, args: dict) -> dict:
    return OPERATIONS[op](storage, **args)
