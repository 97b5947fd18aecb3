"""One round trip for what a request needs: its key(s), its account, the bin and a version of
it, a collection, a schema doc, an access key's alias, fetched together by one BatchGetItem and
returned as domain objects (None where there is no such item)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from openbin.models import (
    AccessKeyAlias,
    Account,
    Bin,
    Collection,
    KeyRecord,
    RememberedCreate,
    SchemaDoc,
    Version,
)
from openbin.storage.dynamo import batch_get

if TYPE_CHECKING:
    from openbin.storage import Storage


class Wanted(msgspec.Struct, frozen=True):
    """What to read, in the domain's terms."""

    key_hashes: tuple[str, ...] = ()  # the keys a request carried (hashed), in order
    account_id: str | None = None
    bin_id: str | None = None
    version: int | None = None  # a version of ``bin_id``
    collection_id: str | None = None
    schema_doc_id: str | None = None
    access_key_id: str | None = None  # the alias that names an access key
    idempotency: tuple[str, str] | None = None  # (account id, Idempotency-Key) of a create


NOTHING = Wanted()  # only the request's keys


class Found(msgspec.Struct):
    keys: list[KeyRecord | None] = msgspec.field(default_factory=list)  # in ``key_hashes``' order
    account: Account | None = None
    bin: Bin | None = None
    version: Version | None = None
    collection: Collection | None = None
    schema_doc: SchemaDoc | None = None
    access_key: AccessKeyAlias | None = None
    remembered: RememberedCreate | None = None  # live, under ``idempotency``


def read(storage: Storage, wanted: Wanted) -> Found:
    asked: list[tuple[str, str, dict]] = []  # (what, table, key)
    for key_hash in wanted.key_hashes:
        asked.append(("key", storage.keys.table, storage.keys.key(key_hash)))
    if wanted.account_id is not None:
        asked.append(("account", storage.accounts.table, storage.accounts.key(wanted.account_id)))
    if wanted.bin_id is not None:
        asked.append(("bin", storage.bins.table, storage.bins.key(wanted.bin_id)))
        if wanted.version is not None:
            key = storage.bins.version_key(wanted.bin_id, wanted.version)
            asked.append(("version", storage.bins.versions_table, key))
    if wanted.collection_id is not None:
        key = storage.collections.key(wanted.collection_id)
        asked.append(("collection", storage.collections.table, key))
    if wanted.schema_doc_id is not None:
        key = storage.schema_docs.key(wanted.schema_doc_id)
        asked.append(("schema_doc", storage.schema_docs.table, key))
    if wanted.access_key_id is not None:
        key = storage.keys.alias_key(wanted.access_key_id)
        asked.append(("access_key", storage.keys.table, key))
    if wanted.idempotency is not None:
        key = storage.idempotency.key(*wanted.idempotency)
        asked.append(("remembered", storage.idempotency.table, key))
    items = batch_get(storage.db, [(table, key) for _, table, key in asked]) if asked else []
    found = Found()
    for (what, _, _), item in zip(asked, items, strict=True):
        if what == "key":
            found.keys.append(storage.keys.record_from(item))
        elif item is None:
            continue
        elif what == "account":
            found.account = storage.accounts.from_item(item)
        elif what == "bin":
            found.bin = storage.bins.from_item(item)
        elif what == "version":
            found.version = storage.bins.version_from_item(item)
        elif what == "collection":
            found.collection = storage.collections.from_item(item)
        elif what == "schema_doc":
            found.schema_doc = storage.schema_docs.from_item(item)
        elif what == "remembered":
            found.remembered = storage.idempotency.from_item(item)
        else:
            found.access_key = storage.keys.alias_from_item(item)
    return found
