"""Schema doc routes (docs/API.md §5)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from openbin.api import headers
from openbin.api.bins import embedded
from openbin.api.http import body_bytes, credentials, header, ok
from openbin.models import SchemaDoc
from openbin.services.schema_docs import SchemaDocService
from openbin.storage import get_storage


def service() -> SchemaDocService:
    return SchemaDocService(get_storage())


def _answer(doc: SchemaDoc, metadata: dict) -> Response:
    """``{"record": <schema>, "metadata": ...}``, the stored schema text embedded as is."""
    return ok(embedded("record", doc.schema, metadata))


def create_schema_doc(app: APIGatewayHttpResolver) -> Response:
    doc = service().create(
        credentials(app),
        headers.name(app, "X-Schema-Doc-Name", "Schema Doc"),
        header(app, "Content-Type"),
        body_bytes(app),
    )
    return _answer(doc, {"id": doc.schema_doc_id, "createdAt": doc.created_at, "name": doc.name})


def get_schema_doc(app: APIGatewayHttpResolver, schema_doc_id: str) -> Response:
    doc = service().get(credentials(app), schema_doc_id)
    return _answer(doc, {"id": doc.schema_doc_id, "createdAt": doc.created_at, "name": doc.name})


def replace_schema_doc(app: APIGatewayHttpResolver, schema_doc_id: str) -> Response:
    doc = service().replace(
        credentials(app), schema_doc_id, header(app, "Content-Type"), body_bytes(app)
    )
    return _answer(doc, {"id": doc.schema_doc_id, "name": doc.name, "createdAt": doc.created_at})


def rename_schema_doc(app: APIGatewayHttpResolver, schema_doc_id: str) -> Response:
    doc = service().rename(
        credentials(app), schema_doc_id, headers.name(app, "X-Schema-Doc-Name", "Schema Doc")
    )
    return ok({"metadata": {"id": doc.schema_doc_id, "name": doc.name}})
