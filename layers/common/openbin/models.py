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


class WebhookSecret(msgspec.Struct, frozen=True):
    key: str  # whsec_<base64>: it signs, so it is kept (encrypted at rest), not hashed
    created_at: str
    retires_at: int | None = None  # epoch seconds: a rotated secret stops signing then


class WebhookSettings(msgspec.Struct, frozen=True):
    """An account's webhook: where its bins' changes go, which, and whether it is paused."""

    account_id: str
    url: str
    events: tuple[str, ...]  # of create, update, delete
    paused: bool
    secrets: tuple[WebhookSecret, ...]  # the newest first
    updated_at: str


class Delivery(msgspec.Struct, frozen=True):
    """One event for one webhook: its attempts and where it stands."""

    account_id: str
    delivery_id: str  # also its webhook-id: the same on every attempt
    event: str
    bin_id: str
    created_at: str
    state: str  # pending, delivered, dead
    attempts: int
    expires_at: int  # epoch seconds: forgotten then
    last_status: int | None = None
    last_latency_ms: int | None = None
    last_error: str | None = None
    next_attempt_at: str | None = None
