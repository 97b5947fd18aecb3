"""§4 Collections: create, list, rename, list their bins, attach and detach schema docs."""

from __future__ import annotations

from openbin import ids
from openbin.clock import now_iso
from openbin.errors import InvalidRequest, NotFound
from openbin.models import Collection
from openbin.services import auth
from openbin.services.access import INVALID_BIN_ID, open_master
from openbin.services.auth import Credentials
from openbin.storage import Storage
from openbin.storage.bins import UNCATEGORIZED

INVALID_COLLECTION_ID = "Invalid Collection Id provided"
COLLECTION_NOT_FOUND = "Collection not found"
INVALID_SCHEMA_ID = "Invalid Schema Id provided"
SCHEMA_NOT_FOUND = "Schema Doc not found"
PAGE_SIZE = 10


def check_collection_name(name: str | None) -> str:
    if name is None or not name.strip():
        raise InvalidRequest(
            "You need to pass X-Collection-Name header to set a name for the Collection"
        )
    if len(name) > 32:
        raise InvalidRequest("Name of the Collection cannot be above 32 characters")
    return name


def collection_listing(collection: Collection) -> dict:
    """Exactly the documented keys: strict clients build objects from them."""
    item = {
        "record": collection.collection_id,
        "collectionMeta": {"name": collection.name},
        "createdAt": collection.created_at,
    }
    if collection.schema_doc_id:
        item["schemaDocId"] = collection.schema_doc_id
    return item


class CollectionService:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def _open(self, credentials: Credentials, collection_id: str, extra=()):
        """ID shape → key → the collection exists and is the caller's → charge."""
        if not ids.is_id(collection_id):
            raise InvalidRequest(INVALID_COLLECTION_ID)
        collections = self.storage.collections
        caller, found = open_master(
            self.storage,
            credentials,
            [(collections.table, collections.key(collection_id)), *extra],
        )
        collection = collections.from_item(found[0]) if found[0] else None
        if collection is None or collection.owner_id != caller.account_id:
            raise NotFound(COLLECTION_NOT_FOUND)
        account = auth.charge(self.storage, caller.account_id, self.storage.settings)
        return collection, account, found[1:]

    def create(self, credentials: Credentials, name: str | None) -> tuple[dict, int]:
        caller, _ = open_master(self.storage, credentials)
        account = auth.charge(self.storage, caller.account_id, self.storage.settings)
        name = check_collection_name(name)
        collection = Collection(ids.new_id(), caller.account_id, name, now_iso())
        self.storage.collections.put(collection)
        body = {
            "record": collection.collection_id,
            "metadata": {"name": collection.name, "createdAt": collection.created_at},
        }
        return body, account.requests_remaining

    def list(self, credentials: Credentials) -> tuple[list, int]:
        caller, _ = open_master(self.storage, credentials)
        account = auth.charge(self.storage, caller.account_id, self.storage.settings)
        collections = sorted(
            self.storage.collections.list_by_owner(caller.account_id),
            key=lambda c: (c.created_at, c.collection_id),
        )
        return [collection_listing(c) for c in collections], account.requests_remaining

    def rename(self, credentials: Credentials, collection_id: str, name: str | None):
        collection, account, _ = self._open(credentials, collection_id)
        name = check_collection_name(name)
        if self.storage.collections.rename(collection.collection_id, name) is None:
            raise NotFound(COLLECTION_NOT_FOUND)
        body = {"record": collection.collection_id, "metadata": {"name": name}}
        return body, account.requests_remaining

    def bins(
        self,
        credentials: Credentials,
        collection_id: str,
        last_bin_id: str | None,
        sort_order: str | None,
    ) -> tuple[list, int]:
        if collection_id == UNCATEGORIZED:
            caller, _ = open_master(self.storage, credentials)
            owner = caller.account_id
            account = auth.charge(self.storage, owner, self.storage.settings)
            listed = None
        else:
            collection, account, _ = self._open(credentials, collection_id)
            owner, listed = collection.owner_id, collection.collection_id
        order = (sort_order or "descending").strip().lower()
        if order not in ("ascending", "descending"):
            raise InvalidRequest("X-Sort-Order must be ascending or descending")
        if last_bin_id is not None and not ids.is_id(last_bin_id):
            raise InvalidRequest(INVALID_BIN_ID)
        page = self.storage.bins.page(owner, listed, last_bin_id, order == "ascending", PAGE_SIZE)
        items = [
            {
                "private": summary.private,
                "snippetMeta": {"name": summary.name} if summary.name is not None else {},
                "record": summary.bin_id,
                "createdAt": summary.created_at,
            }
            for summary in page
        ]
        return items, account.requests_remaining

    def set_schema_doc(
        self, credentials: Credentials, collection_id: str, schema_doc_id: str | None, attach: bool
    ) -> tuple[dict, int]:
        docs = self.storage.schema_docs
        wanted = []
        if attach and schema_doc_id is not None and ids.is_id(schema_doc_id):
            wanted.append((docs.table, docs.key(schema_doc_id)))
        collection, account, found = self._open(credentials, collection_id, wanted)
        if attach:
            if schema_doc_id is None:
                raise InvalidRequest("You need to pass X-Schema-Doc-Id in the header")
            if not ids.is_id(schema_doc_id):
                raise InvalidRequest(INVALID_SCHEMA_ID)
            doc = docs.from_item(found[0]) if found[0] else None
            if doc is None or doc.owner_id != collection.owner_id:
                raise NotFound(SCHEMA_NOT_FOUND)
        updated = self.storage.collections.set_schema_doc(
            collection.collection_id, schema_doc_id if attach else None
        )
        if updated is None:
            raise NotFound(COLLECTION_NOT_FOUND)
        body = {
            "collectionName": updated.name,
            "schemaDocId": updated.schema_doc_id,
            "metadata": {"id": updated.collection_id, "createdAt": updated.created_at},
        }
        return body, account.requests_remaining
