"""docs/API.md §5 Schema docs: create, read, replace, rename. Validation itself is in
openbin.bounded.schemas."""

from __future__ import annotations

from openbin import ids
from openbin.clock import now_iso
from openbin.errors import InvalidRequest, NotFound, OpenBinError, check_given, given
from openbin.models import KeyRecord, SchemaDoc
from openbin.services.auth import Credentials
from openbin.services.collections import INVALID_SCHEMA_ID, SCHEMA_NOT_FOUND
from openbin.services.gate import MASTER_OPENING, MasterChecks
from openbin.services.pipeline import Pipeline
from openbin.services.pipeline import Step as S
from openbin.storage import Storage
from openbin.storage.batch import Wanted
from openbin.validation import require_json_content_type

CREATE = Pipeline("POST /v3/s", S.KEY, S.ALLOWANCE, S.HEADERS)
GET = Pipeline("GET /v3/s/{schemaDocId}", *MASTER_OPENING)
REPLACE = Pipeline("PUT /v3/s/{schemaDocId}", *MASTER_OPENING, S.HEADERS)
RENAME = Pipeline("PUT /v3/s/{schemaDocId}/meta/name", *MASTER_OPENING, S.HEADERS)


class SchemaDocChecks(MasterChecks):
    """ID shape → key → the schema doc exists and is the caller's → charge."""

    def __init__(self, storage: Storage, credentials: Credentials, schema_doc_id: str) -> None:
        wanted = Wanted(schema_doc_id=schema_doc_id if ids.is_id(schema_doc_id) else None)
        super().__init__(storage, credentials, wanted)
        self.schema_doc_id = schema_doc_id

    def check_id(self) -> None:
        if not ids.is_id(self.schema_doc_id):
            raise InvalidRequest(INVALID_SCHEMA_ID)

    def check_resource(self) -> None:
        doc = self.found.schema_doc
        if doc is None or doc.owner_id != self.caller.account_id:
            raise NotFound(SCHEMA_NOT_FOUND)

    @property
    def doc(self) -> SchemaDoc:
        assert self.found.schema_doc is not None  # checked by the resource step
        return self.found.schema_doc


class SchemaDocService:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

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
        checks = MasterChecks(self.storage, credentials)
        text: list[str] = []

        def check_headers() -> None:
            check_given(name)
            text.append(self._checked(content_type, body))

        checks.add(S.HEADERS, check_headers)
        return CREATE.run(checks, lambda: self._create(checks.caller, given(name), text[0]))

    def _create(self, caller: KeyRecord, name: str, text: str) -> SchemaDoc:
        doc = SchemaDoc(ids.new_id(), caller.account_id, name, text, now_iso())
        self.storage.schema_docs.put(doc)
        return doc

    def get(self, credentials: Credentials, schema_doc_id: str) -> SchemaDoc:
        checks = SchemaDocChecks(self.storage, credentials, schema_doc_id)
        return GET.run(checks, lambda: checks.doc)

    def replace(
        self, credentials: Credentials, schema_doc_id: str, content_type: str | None, body: bytes
    ) -> SchemaDoc:
        checks = SchemaDocChecks(self.storage, credentials, schema_doc_id)
        text: list[str] = []
        checks.add(S.HEADERS, lambda: text.append(self._checked(content_type, body)))
        return REPLACE.run(checks, lambda: self._replace(checks.doc, text[0]))

    def _replace(self, doc: SchemaDoc, text: str) -> SchemaDoc:
        updated = self.storage.schema_docs.replace_schema(doc.schema_doc_id, text)
        if updated is None:
            raise NotFound(SCHEMA_NOT_FOUND)
        return updated

    def rename(
        self, credentials: Credentials, schema_doc_id: str, name: str | OpenBinError
    ) -> SchemaDoc:
        checks = SchemaDocChecks(self.storage, credentials, schema_doc_id)
        checks.add(S.HEADERS, lambda: check_given(name))
        return RENAME.run(checks, lambda: self._rename(checks.doc, given(name)))

    def _rename(self, doc: SchemaDoc, name: str) -> SchemaDoc:
        renamed = self.storage.schema_docs.rename(doc.schema_doc_id, name)
        if renamed is None:
            raise NotFound(SCHEMA_NOT_FOUND)
        return renamed
