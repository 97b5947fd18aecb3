"""In-memory repositories with the semantics of the real ones (``openbin.storage``), for unit
tests of service rules: no moto, no sockets, microseconds a call.

What the services rely on is reproduced, not DynamoDB: conditional writes on a bin's
revision (a refusal carries the bin as the winner left it), the charge's condition (the
account exists, is not blocked, has a request left), usage counters changed with the bin,
the access-key limit, history items deleted only while they are still the ones listed.
``tests/storage/test_repository_contract.py`` runs the same checks against both, so the
fakes cannot drift from the real repositories unnoticed.

Every repository holds copies: what a service gets back is never the stored object, as
with a real round trip. One lock makes each call atomic, as each DynamoDB call is.
"""

from __future__ import annotations

import copy
import threading
import uuid
from dataclasses import dataclass, field, replace

import msgspec
import msgspec.structs

from openbin import clock
from openbin.models import (
    UNCATEGORIZED,
    AccessKeyAlias,
    Account,
    Bin,
    BinSummary,
    Collection,
    KeyRecord,
    ListingCursor,
    RecordRef,
    RememberedCreate,
    SchemaDoc,
    Version,
)
from openbin.settings import Settings
from openbin.storage.accounts import ChargeRefused
from openbin.storage.batch import Found, Wanted
from openbin.storage.bins import AccountChanged, Charge, RevisionConflict, StoredVersion
from openbin.storage.collections import SchemaDocChanged
from openbin.storage.idempotency import AlreadyCreated
from openbin.storage.keys import KeyLimitReached
from openbin.storage.records import compress, decompress

CONFLICT = "ConditionalCheckFailed"


def settings(**overrides) -> Settings:
    """The template's defaults, with table names that name nothing (nothing is called)."""
    names = {
        spec.name: f"fake-{spec.name}"
        for spec in Settings.specs()
        if spec.name.endswith("_table") or spec.name in ("records_bucket", "webhook_queue")
    }
    return Settings(**{**names, **overrides})


class _Tables:
    """The items every fake repository shares (a transaction may span several)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.accounts: dict[str, Account] = {}
        self.keys: dict[str, KeyRecord] = {}
        self.aliases: dict[str, AccessKeyAlias] = {}
        self.bins: dict[str, Bin] = {}
        self.versions: dict[tuple[str, int], tuple[Version, str]] = {}  # (item, its token)
        self.collections: dict[str, Collection] = {}
        self.schema_docs: dict[str, SchemaDoc] = {}
        self.objects: dict[str, bytes] = {}
        self.remembered: dict[tuple[str, str], RememberedCreate] = {}  # (account, key)

    def live(self, account_id: str, key: str) -> RememberedCreate | None:
        found = self.remembered.get((account_id, key))
        return copy.deepcopy(found) if found and found.expires_at > clock.epoch() else None

    def count(self, owner_id: str | None, bins: int = 0, stored: int = 0) -> None:
        account = self.accounts.get(owner_id) if owner_id else None
        if account is not None:
            account.bins += bins
            account.stored_bytes += stored


class FakeAccounts:
    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    def create(self, account: Account) -> None:
        with self._t.lock:
            assert account.account_id not in self._t.accounts
            self._t.accounts[account.account_id] = copy.copy(account)

    def get(self, account_id: str) -> Account | None:
        with self._t.lock:
            return copy.copy(self._t.accounts.get(account_id))

    def charge(self, account_id: str) -> Account:
        with self._t.lock:
            account = self._t.accounts.get(account_id)
            if account is None or account.blocked or account.requests_remaining < 1:
                raise ChargeRefused(copy.copy(account))
            account.requests_remaining -= 1
            return copy.copy(account)

    def _change(self, account_id: str, **changes) -> Account | None:
        with self._t.lock:
            account = self._t.accounts.get(account_id)
            if account is None:
                return None
            for name, value in changes.items():
                setattr(account, name, value(account) if callable(value) else value)
            return copy.copy(account)

    def set_plan(self, account_id: str, plan: str) -> Account | None:
        return self._change(account_id, plan=plan)

    def add_requests(self, account_id: str, count: int) -> Account | None:
        return self._change(account_id, requests_remaining=lambda a: a.requests_remaining + count)

    def set_blocked(self, account_id: str, blocked: bool) -> Account | None:
        return self._change(account_id, blocked=blocked)


class FakeKeys:
    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    def put(self, record: KeyRecord) -> None:
        with self._t.lock:
            assert record.key_hash not in self._t.keys
            self._t.keys[record.key_hash] = copy.deepcopy(record)

    def get(self, key_hash: str) -> KeyRecord | None:
        with self._t.lock:
            return copy.deepcopy(self._t.keys.get(key_hash))

    def create_access_key(self, record: KeyRecord, limit: int) -> None:
        with self._t.lock:
            account = self._t.accounts.get(record.account_id)
            if account is not None and account.access_keys >= limit:
                raise KeyLimitReached()
            self._t.keys[record.key_hash] = copy.deepcopy(record)
            assert record.access_key_id is not None
            self._t.aliases[record.access_key_id] = AccessKeyAlias(
                record.access_key_id, record.account_id, record.key_hash
            )
            if account is not None:
                account.access_keys += 1

    def find_access_key(self, alias: AccessKeyAlias) -> KeyRecord | None:
        return self.get(alias.key_hash)

    def delete_access_key(self, record: KeyRecord) -> bool:
        with self._t.lock:
            if self._t.keys.pop(record.key_hash, None) is None:
                return False
            self._t.aliases.pop(record.access_key_id or "", None)
            account = self._t.accounts.get(record.account_id)
            if account is not None:
                account.access_keys -= 1
            return True

    def access_keys_of(self, account_id: str) -> list[KeyRecord]:
        with self._t.lock:
            keys = [
                copy.deepcopy(k)
                for k in self._t.keys.values()
                if k.account_id == account_id and k.kind == "access"
            ]
        return sorted(keys, key=lambda k: (k.created_at, k.access_key_id))


class FakeBins:
    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    def _check(self, bin: Bin) -> Bin:
        """The stored bin, if it still has the revision ``bin`` was read at."""
        stored = self._t.bins.get(bin.bin_id)
        if stored is None or stored.revision != bin.revision:
            raise RevisionConflict([CONFLICT], copy.deepcopy(stored))
        return stored

    def create(
        self, bin: Bin, charge: Charge | None = None, remembered: RememberedCreate | None = None
    ) -> None:
        with self._t.lock:
            if remembered is not None:
                assert bin.owner_id is not None
                if self._t.live(bin.owner_id, remembered.idempotency_key) is not None:
                    raise AlreadyCreated()
            account = self._chargeable(bin.owner_id, charge)
            if bin.bin_id in self._t.bins:
                raise RevisionConflict([CONFLICT, "None"])
            if account is not None:
                account.requests_remaining -= 1
            self._t.bins[bin.bin_id] = copy.deepcopy(bin)
            self._t.count(bin.owner_id, bins=1, stored=bin.record.size)
            if remembered is not None:
                assert bin.owner_id is not None
                kept = msgspec.structs.replace(
                    remembered,
                    idempotency_key="",  # as the real one: found by the key, never holding it
                    bin=msgspec.structs.replace(
                        bin, latest_version=0, record=RecordRef(bin.record.size)
                    ),
                )
                self._t.remembered[(bin.owner_id, remembered.idempotency_key)] = kept

    def get(self, bin_id: str) -> Bin | None:
        with self._t.lock:
            return copy.deepcopy(self._t.bins.get(bin_id))

    def versions_between(self, bin_id: str, low: int, high: int) -> list[Version]:
        with self._t.lock:
            return [
                copy.deepcopy(version)
                for (owner, number), (version, _) in sorted(self._t.versions.items(), reverse=True)
                if owner == bin_id and low <= number <= high
            ]

    def get_version(self, bin_id: str, version: int) -> Version | None:
        with self._t.lock:
            found = self._t.versions.get((bin_id, version))
            return copy.deepcopy(found[0]) if found else None

    def _charge(self, owner_id: str | None, charge: Charge | None) -> None:
        """The charge of a write's transaction (checked after the bin's revision, as the real
        transaction's items are ordered): AccountChanged if the account is not as read."""
        account = self._chargeable(owner_id, charge)
        if account is not None:
            account.requests_remaining -= 1

    def _chargeable(self, owner_id: str | None, charge: Charge | None) -> Account | None:
        """The account a transaction's ``charge`` would charge (None: no charge), or
        AccountChanged if it is no longer as it was read."""
        if charge is None:
            return None
        account = self._t.accounts.get(owner_id or "")
        if (
            account is None
            or account.blocked
            or account.requests_remaining < 1
            or account.plan != charge.plan
        ):
            raise AccountChanged()
        return account

    def append_version(
        self, bin: Bin, new: RecordRef, now: str, revision: str, charge: Charge | None = None
    ) -> int:
        with self._t.lock:
            stored = self._check(bin)
            self._charge(bin.owner_id, charge)
            old = stored.latest_version
            kept = Version(bin.bin_id, old, copy.deepcopy(bin.record), now, revision)
            self._t.versions[(bin.bin_id, old)] = (kept, revision)
            stored.latest_version, stored.record, stored.revision = old + 1, new, revision
            self._t.count(bin.owner_id, stored=new.size)
            return old + 1

    def replace_latest(
        self, bin: Bin, new: RecordRef, revision: str, charge: Charge | None = None
    ) -> None:
        with self._t.lock:
            stored = self._check(bin)
            self._charge(bin.owner_id, charge)
            stored.record, stored.revision = new, revision
            self._t.count(bin.owner_id, stored=new.size - bin.record.size)

    def reset_history(self, bin: Bin, latest: RecordRef, revision: str, freed: int) -> None:
        with self._t.lock:
            stored = self._check(bin)
            stored.latest_version, stored.record, stored.revision = 0, latest, revision
            self._t.count(bin.owner_id, stored=-freed)

    def list_versions(self, bin_id: str) -> list[StoredVersion]:
        with self._t.lock:
            return [
                StoredVersion(number, token, copy.deepcopy(version.record))
                for (owner, number), (version, token) in sorted(self._t.versions.items())
                if owner == bin_id
            ]

    def delete_bin(self, bin: Bin, history_bytes: int, charge: Charge | None = None) -> None:
        with self._t.lock:
            self._check(bin)
            self._charge(bin.owner_id, charge)
            del self._t.bins[bin.bin_id]
            self._t.count(bin.owner_id, bins=-1, stored=-(bin.record.size + history_bytes))

    def delete_versions(self, bin_id: str, versions: list[StoredVersion]) -> bool:
        with self._t.lock:
            for listed in versions:
                found = self._t.versions.get((bin_id, listed.version))
                if found is not None and found[1] == listed.token:
                    del self._t.versions[(bin_id, listed.version)]
            return True

    def _set(self, bin_id: str, **changes) -> bool:
        with self._t.lock:
            stored = self._t.bins.get(bin_id)
            if stored is None:
                return False
            for name, value in changes.items():
                setattr(stored, name, value)
            return True

    def rename(self, bin_id: str, name: str) -> bool:
        return self._set(bin_id, name=name)

    def set_private(self, bin_id: str, private: bool) -> bool:
        return self._set(bin_id, private=private)

    def move_to_collection(self, bin: Bin, collection_id: str) -> None:
        assert self._set(bin.bin_id, collection_id=collection_id)

    def page(
        self,
        owner_id: str,
        collection_id: str | None,
        after: ListingCursor | None,
        ascending: bool,
        limit: int = 10,
    ) -> list[BinSummary]:
        wanted = None if collection_id in (None, UNCATEGORIZED) else collection_id
        with self._t.lock:
            mine = sorted(
                (b for b in self._t.bins.values() if b.owner_id == owner_id),
                key=lambda b: (b.created_at, b.bin_id),
                reverse=not ascending,
            )
        listed = [b for b in mine if b.collection_id == wanted]
        if after is not None:
            start = (after.created_at, after.bin_id)
            listed = [b for b in listed if ((b.created_at, b.bin_id) > start) == ascending]
            listed = [b for b in listed if (b.created_at, b.bin_id) != start]
        return [BinSummary(b.bin_id, b.private, b.created_at, b.name) for b in listed[:limit]]


class FakeRecords:
    """Records inline up to the limit (compressed, as the real store keeps them), the others
    as objects in a dict."""

    def __init__(self, tables: _Tables, inline_limit: int) -> None:
        self._t = tables
        self._inline_limit = inline_limit

    def save(self, bin_id: str, data: bytes, as_object: bool = False) -> RecordRef:
        packed = compress(data)
        if len(packed) <= self._inline_limit and not as_object:
            return RecordRef(size=len(data), inline=packed)
        key = f"records/{bin_id}/{uuid.uuid4().hex}.json.zst"
        with self._t.lock:
            self._t.objects[key] = packed
        return RecordRef(size=len(data), s3_key=key)

    def load(self, ref: RecordRef) -> bytes:
        if ref.inline is not None:
            return decompress(ref.inline)
        with self._t.lock:
            return decompress(self._t.objects[ref.s3_key or ""])

    def discard(self, ref: RecordRef) -> None:
        self.discard_all([ref])

    def discard_all(self, refs) -> None:
        with self._t.lock:
            for ref in refs:
                if ref.s3_key is not None:
                    self._t.objects.pop(ref.s3_key, None)

    def keys_of_bin(self, bin_id: str) -> list[str]:
        with self._t.lock:
            return sorted(k for k in self._t.objects if k.startswith(f"records/{bin_id}/"))


class FakeCollections:
    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    def get(self, collection_id: str) -> Collection | None:
        with self._t.lock:
            return copy.copy(self._t.collections.get(collection_id))

    def put(self, collection: Collection) -> None:
        with self._t.lock:
            self._t.collections[collection.collection_id] = copy.copy(collection)

    def list_by_owner(self, owner_id: str) -> list[Collection]:
        with self._t.lock:
            return [copy.copy(c) for c in self._t.collections.values() if c.owner_id == owner_id]

    def _change(self, collection_id: str, **changes) -> Collection | None:
        with self._t.lock:
            stored = self._t.collections.get(collection_id)
            if stored is None:
                return None
            for name, value in changes.items():
                setattr(stored, name, value)
            return copy.copy(stored)

    def rename(self, collection_id: str, name: str) -> Collection | None:
        return self._change(collection_id, name=name)

    def set_schema_doc(
        self, collection_id: str, schema_doc_id: str | None
    ) -> SchemaDocChanged | None:
        with self._t.lock:
            stored = self._t.collections.get(collection_id)
            previous = None if stored is None else stored.schema_doc_id
            changed = self._change(collection_id, schema_doc_id=schema_doc_id or None)
        return None if changed is None else SchemaDocChanged(changed, previous)


class FakeSchemaDocs:
    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    def get(self, schema_doc_id: str) -> SchemaDoc | None:
        with self._t.lock:
            return copy.copy(self._t.schema_docs.get(schema_doc_id))

    def put(self, doc: SchemaDoc) -> None:
        with self._t.lock:
            self._t.schema_docs[doc.schema_doc_id] = copy.copy(doc)

    def replace_schema(self, schema_doc_id: str, schema: str) -> SchemaDoc | None:
        with self._t.lock:
            stored = self._t.schema_docs.get(schema_doc_id)
            if stored is None:
                return None
            stored.schema, stored.revision = schema, stored.revision + 1
            return copy.copy(stored)

    def rename(self, schema_doc_id: str, name: str) -> SchemaDoc | None:
        with self._t.lock:
            stored = self._t.schema_docs.get(schema_doc_id)
            if stored is None:
                return None
            stored.name = name
            return copy.copy(stored)


class FakeIdempotency:
    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    def get(self, account_id: str, idempotency_key: str) -> RememberedCreate | None:
        with self._t.lock:
            return self._t.live(account_id, idempotency_key)


@dataclass
class FakeStorage:
    """Stands in for ``openbin.storage.Storage``: the same repositories, in memory. ``reads``
    counts the combined reads (``Storage.read``, one BatchGetItem on AWS)."""

    settings: Settings = field(default_factory=settings)
    tables: _Tables = field(default_factory=_Tables)
    reads: int = 0

    def __post_init__(self) -> None:
        self.accounts = FakeAccounts(self.tables)
        self.keys = FakeKeys(self.tables)
        self.bins = FakeBins(self.tables)
        self.records = FakeRecords(self.tables, self.settings.inline_record_limit)
        self.collections = FakeCollections(self.tables)
        self.schema_docs = FakeSchemaDocs(self.tables)
        self.idempotency = FakeIdempotency(self.tables)

    def with_settings(self, **overrides) -> FakeStorage:
        """The same data, seen with other settings (as after a redeploy)."""
        changed = replace(self, settings=self.settings.but(**overrides))
        return changed

    def read(self, wanted: Wanted) -> Found:
        self.reads += 1
        t = self.tables
        with t.lock:
            found = Found(keys=[copy.deepcopy(t.keys.get(h)) for h in wanted.key_hashes])
            if wanted.account_id is not None:
                found.account = copy.copy(t.accounts.get(wanted.account_id))
            if wanted.bin_id is not None:
                found.bin = copy.deepcopy(t.bins.get(wanted.bin_id))
                if wanted.version is not None:
                    item = t.versions.get((wanted.bin_id, wanted.version))
                    found.version = copy.deepcopy(item[0]) if item else None
            if wanted.collection_id is not None:
                found.collection = copy.copy(t.collections.get(wanted.collection_id))
            if wanted.schema_doc_id is not None:
                found.schema_doc = copy.copy(t.schema_docs.get(wanted.schema_doc_id))
            if wanted.access_key_id is not None:
                found.access_key = copy.copy(t.aliases.get(wanted.access_key_id))
            if wanted.idempotency is not None:
                found.remembered = t.live(*wanted.idempotency)
        return found
