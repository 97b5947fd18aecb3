"""§5 Schema docs: create, read, replace, rename. Validation itself is in openbin.schemas."""

from __future__ import annotations

from openbin import ids
from openbin.clock import now_iso
from openbin.errors import InvalidRequest, NotFound
from openbin.models import SchemaDoc
from openbin.services import auth
from openbin.services.access import open_master
from openbin.services.auth import Credentials
from openbin.services.collections import INVALID_SCHEMA_ID, SCHEMA_NOT_FOUND
from openbin.storage import Storage
from openbin.validation import require_json_content_type


def check_schema_name(name: str | None) -> str:
    if name is None or not name.strip():
        raise InvalidRequest(
            "You need to pass X-Schema-Doc-Name header to set a name for the Schema Doc"
        )
    if len(name) > 32:
        raise InvalidRequest("Name of the Schema Doc cannot be above 32 characters")
    return name


class SchemaDocService:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def _open(self, credentials: Credentials, schema_doc_id: str):
        if not ids.is_id(schema_doc_id):
            raise InvalidRequest(INVALID_SCHEMA_ID)
        docs = self.storage.schema_docs
        caller, found = open_master(
            self.storage, credentials, [(docs.table, docs.key(schema_doc_id))]
        )
        doc = docs.from_item(found[0]) if found[0] else None
        if doc is None or doc.owner_id != caller.account_id:
            raise NotFound(SCHEMA_NOT_FOUND)
        account = auth.charge(self.storage, caller.account_id, self.storage.settings)
        return doc, account

    @staticmethod
    def _checked(content_type: str | None, body: bytes) -> str:
        from openbin import schemas

        require_json_content_type(content_type)
        return schemas.check_schema(body)[1]

    def create(
        self, credentials: Credentials, name: str | None, content_type: str | None, body: bytes
    ) -> tuple[str, dict, int]:
        caller, _ = open_master(self.storage, credentials)
        account = auth.charge(self.storage, caller.account_id, self.storage.settings)
        name = check_schema_name(name)
        text = self._checked(content_type, body)
        doc = SchemaDoc(ids.new_id(), caller.account_id, name, text, now_iso())
        self.storage.schema_docs.put(doc)
        metadata = {"id": doc.schema_doc_id, "createdAt": doc.created_at, "name": doc.name}
        return doc.schema, metadata, account.requests_remaining

    def get(self, credentials: Credentials, schema_doc_id: str) -> tuple[str, dict, int]:
        doc, account = self._open(credentials, schema_doc_id)
        metadata = {"id": doc.schema_doc_id, "createdAt": doc.created_at, "name": doc.name}
        return doc.schema, metadata, account.requests_remaining

    def replace(
        self, credentials: Credentials, schema_doc_id: str, content_type: str | None, body: bytes
    ) -> tuple[str, dict, int]:
        doc, account = self._open(credentials, schema_doc_id)
        text = self._checked(content_type, body)
        updated = self.storage.schema_docs.replace_schema(doc.schema_doc_id, text)
        if updated is None:
            raise NotFound(SCHEMA_NOT_FOUND)
        metadata = {
            "id": updated.schema_doc_id,
            "name": updated.name,
            "createdAt": updated.created_at,
        }
        return updated.schema, metadata, account.requests_remaining

    def rename(
        self, credentials: Credentials, schema_doc_id: str, name: str | None
    ) -> tuple[dict, int]:
        doc, account = self._open(credentials, schema_doc_id)
        name = check_schema_name(name)
        if self.storage.schema_docs.rename(doc.schema_doc_id, name) is None:
            raise NotFound(SCHEMA_NOT_FOUND)
        return {"metadata": {"id": doc.schema_doc_id, "name": name}}, account.requests_remaining
