"""Plain data objects the services and repositories exchange."""

from __future__ import annotations

import msgspec

PLANS = ("free", "pro")
PERMISSIONS = ("create", "read", "update", "delete")  # what an access key may do to bins
UNCATEGORIZED = "uncategorized"  # the collection id that lists the bins in no collection


class Account(msgspec.Struct):
    account_id: str
    plan: str
    requests_remaining: int
    created_at: str
    blocked: bool = False
    bins: int = 0  # bins the account holds
    stored_bytes: int = 0  # UTF-8 bytes of every record it stores, history included
    access_keys: int = 0


class KeyRecord(msgspec.Struct):
    """What is stored for a key: its hash, never the key."""

    key_hash: str
    account_id: str
    kind: str  # "master" or "access"
    created_at: str
    access_key_id: str | None = None
    name: str | None = None
    permissions: dict[str, bool] = msgspec.field(default_factory=dict)

    def may(self, action: str) -> bool:
        return self.kind == "master" or bool(self.permissions.get(action))


class AccessKeyAlias(msgspec.Struct, frozen=True):
    """What an access key's id names: its account and the hash of the key."""

    access_key_id: str
    owner_id: str
    key_hash: str


class RecordRef(msgspec.Struct):
    """Where a record's bytes live: compressed inline, or an S3 object key."""

    size: int  # UTF-8 bytes of the JSON as sent
    inline: bytes | None = None
    s3_key: str | None = None


class Bin(msgspec.Struct):
    bin_id: str
    owner_id: str | None
    private: bool
    created_at: str
    latest_version: int
    record: RecordRef
    revision: str
    name: str | None = None
    collection_id: str | None = None


class RememberedCreate(msgspec.Struct, frozen=True):
    """A create made with an Idempotency-Key: the bin as it was created (its record known only
    by size), the fingerprint of the request that made it, and when the key is forgotten
    (epoch seconds)."""

    idempotency_key: str
    request_hash: str
    bin: Bin
    expires_at: int


class ListingCursor(msgspec.Struct, frozen=True):
    """Where a page of a collection's bins starts: after this bin, in creation order."""

    bin_id: str
    created_at: str


class Version(msgspec.Struct):
    bin_id: str
    version: int
    record: RecordRef
    created_at: str
    token: str = ""  # the revision of the write that archived it: unique to this version item


class Collection(msgspec.Struct):
    collection_id: str
    owner_id: str
    name: str
    created_at: str
    schema_doc_id: str | None = None


class SchemaDoc(msgspec.Struct):
    schema_doc_id: str
    owner_id: str
    name: str
    schema: str  # the JSON Schema as JSON text
    created_at: str
    revision: int = 0


class BinSummary(msgspec.Struct):
    """A bin as a collection's listing shows it."""

    bin_id: str
    private: bool
    created_at: str
    name: str | None
