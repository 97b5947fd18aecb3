"""docs/API.md §4 Collections: create, list, rename, list their bins, attach and detach
schema docs."""

from __future__ import annotations

import msgspec

from openbin import ids
from openbin.clock import now_iso
from openbin.errors import InvalidRequest, NotFound, OpenBinError, given
from openbin.models import UNCATEGORIZED, BinSummary, Collection, ListingCursor
from openbin.services import gate
from openbin.services.auth import Credentials
from openbin.services.gate import INVALID_BIN_ID
from openbin.storage import Storage
from openbin.storage.batch import NOTHING, Wanted

INVALID_COLLECTION_ID = "Invalid Collection Id provided"
COLLECTION_NOT_FOUND = "Collection not found"
INVALID_SCHEMA_ID = "Invalid Schema Id provided"
SCHEMA_NOT_FOUND = "Schema Doc not found"
PAGE_SIZE = 10


class SchemaDocLink(msgspec.Struct, frozen=True):
    collection: Collection
    schema_doc_id: str | None


class CollectionService:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def _open(self, credentials: Credentials, collection_id: str, wanted: Wanted = NOTHING):
        """ID shape → key → the collection exists and is the caller's → charge."""
        if not ids.is_id(collection_id):
            raise InvalidRequest(INVALID_COLLECTION_ID)
        wanted = Wanted(
            bin_id=wanted.bin_id, collection_id=collection_id, schema_doc_id=wanted.schema_doc_id
        )
        caller, found = gate.open_master(self.storage, credentials, wanted)
        collection = found.collection
        if collection is None or collection.owner_id != caller.account_id:
            raise NotFound(COLLECTION_NOT_FOUND)
        gate.charge(self.storage, caller)
        return collection, found

    def create(self, credentials: Credentials, name: str | OpenBinError) -> Collection:
        caller, _ = gate.open_account(self.storage, credentials)
        collection = Collection(ids.new_id(), caller.account_id, given(name), now_iso())
        self.storage.collections.put(collection)
        return collection

    def list_for(self, credentials: Credentials) -> list[Collection]:
        """The caller's collections, oldest first."""
        caller, _ = gate.open_account(self.storage, credentials)
        return sorted(
            self.storage.collections.list_by_owner(caller.account_id),
            key=lambda c: (c.created_at, c.collection_id),
        )

    def rename(self, credentials: Credentials, collection_id: str, name: str | OpenBinError) -> str:
        collection, _ = self._open(credentials, collection_id)
        name = given(name)
        if self.storage.collections.rename(collection.collection_id, name) is None:
            raise NotFound(COLLECTION_NOT_FOUND)
        return name

    def bins(
        self,
        credentials: Credentials,
        collection_id: str,
        last_bin_id: str | None,
        sort_order: str | None,
    ) -> list[BinSummary]:
        """One page of a collection's bins (or the uncategorized ones) in creation order, after
        the cursor bin. The cursor is read with the key (no extra round trip); one that is no
        longer in the listing (deleted or moved) continues from the second its ID was made,
        at the end that repeats bins rather than skips them."""
        wanted = Wanted(bin_id=last_bin_id if ids.is_id(last_bin_id) else None)
        if collection_id == UNCATEGORIZED:
            caller, found = gate.open_master(self.storage, credentials, wanted)
            gate.charge(self.storage, caller)
            owner, listed = caller.account_id, None
        else:
            collection, found = self._open(credentials, collection_id, wanted)
            owner, listed = collection.owner_id, collection.collection_id
        order = (sort_order or "descending").strip().lower()
        if order not in ("ascending", "descending"):
            raise InvalidRequest("X-Sort-Order must be ascending or descending")
        ascending = order == "ascending"
        cursor = None
        if last_bin_id is not None:
            if not ids.is_id(last_bin_id):
                raise InvalidRequest(INVALID_BIN_ID)
            there = found.bin
            if there is not None and (there.owner_id, there.collection_id) == (owner, listed):
                cursor = ListingCursor(last_bin_id, there.created_at)
            else:
                at = ids.created_second(last_bin_id, last_millisecond=not ascending)
                cursor = ListingCursor(last_bin_id, at)
        return self.storage.bins.page(owner, listed, cursor, ascending, PAGE_SIZE)

    def set_schema_doc(
        self, credentials: Credentials, collection_id: str, schema_doc_id: str | None, attach: bool
    ) -> SchemaDocLink:
        """Attach (or detach) a schema doc: the collection as it is after, and the schema doc
        attached (or the one detached: None if it had none)."""
        readable = attach and schema_doc_id is not None and ids.is_id(schema_doc_id)
        wanted = Wanted(schema_doc_id=schema_doc_id if readable else None)
        collection, found = self._open(credentials, collection_id, wanted)
        if attach:
            if schema_doc_id is None:
                raise InvalidRequest("You need to pass X-Schema-Doc-Id in the header")
            if not ids.is_id(schema_doc_id):
                raise InvalidRequest(INVALID_SCHEMA_ID)
            doc = found.schema_doc
            if doc is None or doc.owner_id != collection.owner_id:
                raise NotFound(SCHEMA_NOT_FOUND)
        changed = self.storage.collections.set_schema_doc(
            collection.collection_id, schema_doc_id if attach else None
        )
        if changed is None:
            raise NotFound(COLLECTION_NOT_FOUND)
        return SchemaDocLink(
            changed.collection, changed.collection.schema_doc_id if attach else changed.previous
        )
