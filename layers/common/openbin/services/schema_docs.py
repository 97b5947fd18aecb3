"""docs/API.md §5 Schema docs: create, read, replace, rename. Validation itself is in
openbin.bounded.schemas."""

from __future__ import annotations

from openbin import ids
from openbin.clock import now_iso
from openbin.errors import InvalidRequest, NotFound, OpenBinError, given
from openbin.models import SchemaDoc
from openbin.services import gate
from openbin.services.auth import Credentials
from openbin.services.collections import INVALID_SCHEMA_ID, SCHEMA_NOT_FOUND
from openbin.storage import Storage
from openbin.storage.batch import Wanted
from openbin.validation import require_json_content_type


class SchemaDocService:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def _open(self, credentials: Credentials, schema_doc_id: str) -> SchemaDoc:
        """ID shape → key → the schema doc exists and is the caller's → charge."""
        if not ids.is_id(schema_doc_id):
            raise InvalidRequest(INVALID_SCHEMA_ID)
        caller, found = gate.open_master(
            self.storage, credentials, Wanted(schema_doc_id=schema_doc_id)
        )
        doc = found.schema_doc
        if doc is None or doc.owner_id != caller.account_id:
            raise NotFound(SCHEMA_NOT_FOUND)
        gate.charge(self.storage, caller)
        return doc

    @staticmethod
    def _checked(content_type: str | None, body: bytes) -> str:
        from openbin.bounded import schemas

        require_json_content_type(content_type)
        return schemas.check_schema(body)[1]

    def create(
        self,
        credentials: Credentials,
        name: str | OpenBinError,
        content_type: str | None,
        body: bytes,
    ) -> SchemaDoc:
        caller, _ = gate.open_account(self.storage, credentials)
        name = given(name)
        text = self._checked(content_type, body)
        doc = SchemaDoc(ids.new_id(), caller.account_id, name, text, now_iso())
        self.storage.schema_docs.put(doc)
        return doc

    def get(self, credentials: Credentials, schema_doc_id: str) -> SchemaDoc:
        return self._open(credentials, schema_doc_id)

    def replace(
        self, credentials: Credentials, schema_doc_id: str, content_type: str | None, body: bytes
    ) -> SchemaDoc:
        doc = self._open(credentials, schema_doc_id)
        updated = self.storage.schema_docs.replace_schema(
            doc.schema_doc_id, self._checked(content_type, body)
        )
        if updated is None:
            raise NotFound(SCHEMA_NOT_FOUND)
        return updated

    def rename(
        self, credentials: Credentials, schema_doc_id: str, name: str | OpenBinError
    ) -> SchemaDoc:
        doc = self._open(credentials, schema_doc_id)
        renamed = self.storage.schema_docs.rename(doc.schema_doc_id, given(name))
        if renamed is None:
            raise NotFound(SCHEMA_NOT_FOUND)
        return renamed
