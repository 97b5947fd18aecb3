"""docs/API.md §4 Collections: create, list, rename, list their bins, attach and detach
schema docs."""

from __future__ import annotations

import msgspec

from openbin import ids
from openbin.clock import now_iso
from openbin.errors import InvalidRequest, NotFound, OpenBinError, check_given, given
from openbin.models import UNCATEGORIZED, BinSummary, Collection, KeyRecord, ListingCursor
from openbin.services.auth import Credentials
from openbin.services.gate import INVALID_BIN_ID, MASTER_OPENING, MasterChecks
from openbin.services.pipeline import Pipeline
from openbin.services.pipeline import Step as S
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


CREATE = Pipeline("POST /v3/c", S.KEY, S.ALLOWANCE, S.HEADERS)
LIST = Pipeline("GET /v3/c", S.KEY, S.ALLOWANCE)
RENAME = Pipeline("PUT /v3/c/{collectionId}/meta/name", *MASTER_OPENING, S.HEADERS)
BINS = Pipeline(
    ("GET /v3/c/{collectionId}/bins", "GET /v3/c/{collectionId}/bins/{lastBinId}"),
    *MASTER_OPENING,
    S.HEADERS,
)
SCHEMA_DOC = Pipeline(
    ("PUT /v3/c/{collectionId}/schemadoc/add", "PUT /v3/c/{collectionId}/schemadoc/remove"),
    *MASTER_OPENING,
    S.HEADERS,
)


class CollectionChecks(MasterChecks):
    """ID shape → key → the collection exists and is the caller's → charge (the uncategorized
    bins are every account's)."""

    def __init__(
        self,
        storage: Storage,
        credentials: Credentials,
        collection_id: str,
        wanted: Wanted,
        listing: bool = False,
    ) -> None:
        """``listing``: the bins listing, where ``uncategorized`` names the bins in none (any
        other route refuses it as an ID)."""
        self.uncategorized = listing and collection_id == UNCATEGORIZED
        if not self.uncategorized and ids.is_id(collection_id):
            wanted = Wanted(
                bin_id=wanted.bin_id,
                collection_id=collection_id,
                schema_doc_id=wanted.schema_doc_id,
            )
        super().__init__(storage, credentials, wanted)
        self.collection_id = collection_id

    def check_id(self) -> None:
        if not self.uncategorized and not ids.is_id(self.collection_id):
            raise InvalidRequest(INVALID_COLLECTION_ID)

    def check_resource(self) -> None:
        if self.uncategorized:
            return
        found = self.found.collection
        if found is None or found.owner_id != self.caller.account_id:
            raise NotFound(COLLECTION_NOT_FOUND)

    @property
    def collection(self) -> Collection:
        assert self.found.collection is not None  # and not uncategorized
        return self.found.collection


class CollectionService:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def create(self, credentials: Credentials, name: str | OpenBinError) -> Collection:
        checks = MasterChecks(self.storage, credentials)
        checks.add(S.HEADERS, lambda: check_given(name))
        return CREATE.run(checks, lambda: self._create(checks.caller, given(name)))

    def _create(self, caller: KeyRecord, name: str) -> Collection:
        collection = Collection(ids.new_id(), caller.account_id, name, now_iso())
        self.storage.collections.put(collection)
        return collection

    def list_for(self, credentials: Credentials) -> list[Collection]:
        """The caller's collections, oldest first."""
        checks = MasterChecks(self.storage, credentials)
        return LIST.run(
            checks,
            lambda: sorted(
                self.storage.collections.list_by_owner(checks.caller.account_id),
                key=lambda c: (c.created_at, c.collection_id),
            ),
        )

    def rename(self, credentials: Credentials, collection_id: str, name: str | OpenBinError) -> str:
        checks = CollectionChecks(self.storage, credentials, collection_id, NOTHING)
        checks.add(S.HEADERS, lambda: check_given(name))
        return RENAME.run(checks, lambda: self._rename(checks.collection, given(name)))

    def _rename(self, collection: Collection, name: str) -> str:
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
        checks = CollectionChecks(self.storage, credentials, collection_id, wanted, listing=True)
        ascending: list[bool] = []

        def check_headers() -> None:
            order = (sort_order or "descending").strip().lower()
            if order not in ("ascending", "descending"):
                raise InvalidRequest("X-Sort-Order must be ascending or descending")
            ascending.append(order == "ascending")
            if last_bin_id is not None and not ids.is_id(last_bin_id):
                raise InvalidRequest(INVALID_BIN_ID)

        checks.add(S.HEADERS, check_headers)
        return BINS.run(checks, lambda: self._page(checks, last_bin_id, ascending[0]))

    def _page(
        self, checks: CollectionChecks, last_bin_id: str | None, ascending: bool
    ) -> list[BinSummary]:
        if checks.uncategorized:
            owner, listed = checks.caller.account_id, None
        else:
            owner, listed = checks.collection.owner_id, checks.collection.collection_id
        cursor = None
        if last_bin_id is not None:
            there = checks.found.bin
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
        checks = CollectionChecks(self.storage, credentials, collection_id, wanted)

        def check_headers() -> None:
            if not attach:
                return
            if schema_doc_id is None:
                raise InvalidRequest("You need to pass X-Schema-Doc-Id in the header")
            if not ids.is_id(schema_doc_id):
                raise InvalidRequest(INVALID_SCHEMA_ID)
            doc = checks.found.schema_doc
            if doc is None or doc.owner_id != checks.collection.owner_id:
                raise NotFound(SCHEMA_NOT_FOUND)

        checks.add(S.HEADERS, check_headers)
        return SCHEMA_DOC.run(
            checks, lambda: self._set_schema_doc(checks.collection, schema_doc_id, attach)
        )

    def _set_schema_doc(
        self, collection: Collection, schema_doc_id: str | None, attach: bool
    ) -> SchemaDocLink:
        changed = self.storage.collections.set_schema_doc(
            collection.collection_id, schema_doc_id if attach else None
        )
        if changed is None:
            raise NotFound(COLLECTION_NOT_FOUND)
        return SchemaDocLink(
            changed.collection, changed.collection.schema_doc_id if attach else changed.previous
        )
