"""What ``openbin import`` writes, one operation an item, run wherever the target's storage lives
(this process, the running ``openbin serve`` that holds the data dir, or a deployed stack's
tables): an account, a schema doc, a collection, a bin with its whole history, an access key.

Every item keeps its ID. An item already at the target is compared, never overwritten: the same
(an earlier run brought it) is ``present``; anything else is a ``conflict``, reported. A bin's
records are read from files the caller staged (a bin's history may be larger than any request
to the server), each checked against its SHA-256 and as JSON before anything is written."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

from openbin import ids
from openbin.errors import InvalidRequest, OpenBinError
from openbin.models import PERMISSIONS, Bin, Collection, RecordRef, SchemaDoc, Version
from openbin.services.accounts import AccountService
from openbin.storage import Storage
from openbin.storage.bins import RevisionConflict
from openbin.validation import check_answerable, parse_record

IMPORTED, PRESENT, CONFLICT = "imported", "present", "conflict"
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z")


def _outcome(result: str, reason: str | None = None, **more) -> dict:
    return {"result": result, **({"reason": reason} if reason else {}), **more}


def _time(value: object, what: str) -> str:
    if not isinstance(value, str) or not TIME.fullmatch(value):
        raise InvalidRequest(f"{what}: createdAt {value!r} is not an ISO-8601 UTC time")
    return value


def _check_id(value: object, what: str) -> str:
    if not isinstance(value, str) or not ids.is_id(value):
        raise InvalidRequest(f"{what}: {value!r} is not a 24-hex ID")
    return value


def import_account(
    storage: Storage, account_id: str | None = None, plan: str = "free", requests: int | None = None
) -> dict:
    """The account the import fills: ``account_id`` (it must exist), or a new one with its
    master key (shown once)."""
    service = AccountService(storage)
    if account_id is not None:
        return {"accountId": service.get(account_id).account_id}
    account, master_key = service.create_account(plan, requests)
    return {"accountId": account.account_id, "masterKey": master_key}


def import_schema_doc(
    storage: Storage, account_id: str, schema_doc_id: str, name: str, schema: str, created_at: str
) -> dict:
    from openbin.bounded import schemas

    AccountService(storage).get(account_id)
    _check_id(schema_doc_id, "schema doc")
    existing = storage.schema_docs.get(schema_doc_id)
    if existing is not None:
        if existing.owner_id == account_id and existing.schema == schema:
            return _outcome(PRESENT)
        return _outcome(CONFLICT, "another schema doc with this ID is at the target")
    try:
        text = schemas.check_schema(schema.encode("utf-8"))[1]
    except OpenBinError as refused:
        return _outcome(CONFLICT, f"not a schema OpenBin accepts: {refused.message}")
    doc = SchemaDoc(schema_doc_id, account_id, name, text, _time(created_at, "schema doc"))
    storage.schema_docs.put(doc)
    return _outcome(IMPORTED)


def import_collection(
    storage: Storage,
    account_id: str,
    collection_id: str,
    name: str,
    created_at: str,
    schema_doc_id: str | None = None,
) -> dict:
    AccountService(storage).get(account_id)
    _check_id(collection_id, "collection")
    existing = storage.collections.get(collection_id)
    if existing is not None:
        if existing.owner_id == account_id and existing.name == name:
            return _outcome(PRESENT)
        return _outcome(CONFLICT, "another collection with this ID is at the target")
    note = None
    if schema_doc_id is not None:
        doc = storage.schema_docs.get(schema_doc_id) if ids.is_id(schema_doc_id) else None
        if doc is None or doc.owner_id != account_id:
            note = f"its schema doc {schema_doc_id} was not imported: none attached"
            schema_doc_id = None
    collection = Collection(
        collection_id, account_id, name, _time(created_at, "collection"), schema_doc_id
    )
    storage.collections.put(collection)
    return _outcome(IMPORTED, note)


def _load(storage: Storage, version: dict, bin_id: str) -> bytes:
    try:
        data = Path(version["file"]).read_bytes()
    except OSError as error:
        raise InvalidRequest(
            f"bin {bin_id}: cannot read a staged record: {error.strerror}"
        ) from None
    if hashlib.sha256(data).hexdigest() != version["sha256"]:
        raise InvalidRequest(f"bin {bin_id}: a staged record does not match its checksum")
    try:
        _, text = parse_record(data, storage.settings.max_json_depth)
        check_answerable(text)  # what the API could never read back is not written
    except OpenBinError as refused:
        raise InvalidRequest(
            f"a version is not a record OpenBin serves: {refused.message}"
        ) from None
    return data


def _same_bin(storage: Storage, existing: Bin, records: list[bytes]) -> bool:
    if existing.latest_version != len(records) - 1:
        return False
    stored = {v.version: v for v in storage.bins.versions_between(existing.bin_id, 0, 1 << 30)}
    for number, data in enumerate(records):
        if number == existing.latest_version:
            ref: RecordRef = existing.record
        elif number in stored:
            ref = stored[number].record
        else:
            return False
        if storage.records.load(ref) != data:
            return False
    return True


def bin_state(storage: Storage, account_id: str, bin_id: str) -> dict:
    """Whether the target holds the bin: ``absent``, ``mine`` (this account's), ``other``."""
    existing = storage.bins.get(_check_id(bin_id, "bin"))
    if existing is None:
        return {"state": "absent"}
    return {"state": "mine" if existing.owner_id == account_id else "other"}


def import_bin(storage: Storage, account_id: str, bin: dict, versions: list[dict]) -> dict:
    """A bin and every version in order (``versions``: {"file", "sha256", "createdAt"}, the
    last the latest). Version k's time is when its number was made (docs/API.md §3.10): the
    bin's creation for version 0."""
    AccountService(storage).get(account_id)
    bin_id = _check_id(bin.get("id"), "bin")
    created_at = _time(bin.get("createdAt"), f"bin {bin_id}")
    if not versions:
        raise InvalidRequest(f"bin {bin_id}: no record")
    times = [created_at, *(_time(v.get("createdAt"), f"bin {bin_id}") for v in versions[1:])]
    try:
        records = [_load(storage, v, bin_id) for v in versions]
    except InvalidRequest as refused:  # this bin is reported; the import goes on
        return _outcome(CONFLICT, refused.message)
    existing = storage.bins.get(bin_id)
    if existing is not None:
        if existing.owner_id == account_id and _same_bin(storage, existing, records):
            return _outcome(PRESENT, versions=len(records))
        return _outcome(CONFLICT, "another bin with this ID is at the target")
    note = None
    collection_id = bin.get("collectionId")
    if collection_id is not None:
        found = storage.collections.get(collection_id) if ids.is_id(collection_id) else None
        if found is None or found.owner_id != account_id:
            note = f"its collection {collection_id} was not imported: filed uncategorized"
            collection_id = None
    refs = [storage.records.save(bin_id, data) for data in records]
    latest = len(refs) - 1
    history = [
        Version(bin_id, number, ref, times[number + 1], ids.new_revision())
        for number, ref in enumerate(refs[:-1])
    ]
    name = bin.get("name")
    item = Bin(
        bin_id=bin_id,
        owner_id=account_id,
        private=bool(bin.get("private", True)),
        created_at=created_at,
        latest_version=latest,
        record=refs[-1],
        revision=ids.new_revision(),
        name=name if isinstance(name, str) else None,
        collection_id=collection_id,
    )
    try:
        storage.bins.create_with_history(item, history)
    except RevisionConflict:  # appeared since it was looked for
        storage.records.discard_all(refs)
        return _outcome(CONFLICT, "another bin with this ID is at the target")
    return _outcome(IMPORTED, note, versions=len(records))


def import_access_key(storage: Storage, account_id: str, name: str, permissions: dict) -> dict:
    """An access key made anew (its secret never leaves the account it was made for): the
    same name and permissions, a new ID and key, shown once."""
    allowed = {p: bool(permissions.get(p)) for p in PERMISSIONS}
    new = AccountService(storage).create_access_key(account_id, name, allowed)
    return {"accessKeyId": new.record.access_key_id, "accessKey": new.key, "name": name}


OPERATIONS: dict[str, Callable[..., dict]] = {
    "import.account": import_account,
    "import.schema-doc": import_schema_doc,
    "import.collection": import_collection,
    "import.bin": import_bin,
    "import.bin-state": bin_state,
    "import.access-key": import_access_key,
}
