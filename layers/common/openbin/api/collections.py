"""Routes of §4 (collections) and §5 (schema docs)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from openbin.api.http import body_bytes, credentials, header, ok, to_json
from openbin.services.collections import CollectionService
from openbin.services.schema_docs import SchemaDocService
from openbin.storage import get_storage


def collections() -> CollectionService:
    return CollectionService(get_storage())


def schema_docs() -> SchemaDocService:
    return SchemaDocService(get_storage())


def create_collection(app: APIGatewayHttpResolver) -> Response:
    return ok(*collections().create(credentials(app), header(app, "X-Collection-Name")))


def list_collections(app: APIGatewayHttpResolver) -> Response:
    return ok(*collections().list(credentials(app)))


def rename_collection(app: APIGatewayHttpResolver, collection_id: str) -> Response:
    name = header(app, "X-Collection-Name")
    return ok(*collections().rename(credentials(app), collection_id, name))


def collection_bins(
    app: APIGatewayHttpResolver, collection_id: str, last_bin_id: str | None = None
) -> Response:
    order = header(app, "X-Sort-Order")
    return ok(*collections().bins(credentials(app), collection_id, last_bin_id, order))


def attach_schema_doc(app: APIGatewayHttpResolver, collection_id: str) -> Response:
    schema_doc_id = header(app, "X-Schema-Doc-Id")
    return ok(*collections().set_schema_doc(credentials(app), collection_id, schema_doc_id, True))


def detach_schema_doc(app: APIGatewayHttpResolver, collection_id: str) -> Response:
    return ok(*collections().set_schema_doc(credentials(app), collection_id, None, False))


def _schema_answer(schema: str, metadata: dict, remaining: int) -> Response:
    """``{"record": <schema>, "metadata": ...}``, the stored schema text embedded as is."""
    meta = to_json(metadata)
    return ok(f'{{"record":{schema},"metadata":{meta}}}', remaining)


def create_schema_doc(app: APIGatewayHttpResolver) -> Response:
    return _schema_answer(
        *schema_docs().create(
            credentials(app),
            header(app, "X-Schema-Doc-Name"),
            header(app, "Content-Type"),
            body_bytes(app),
        )
    )


def get_schema_doc(app: APIGatewayHttpResolver, schema_doc_id: str) -> Response:
    return _schema_answer(*schema_docs().get(credentials(app), schema_doc_id))


def replace_schema_doc(app: APIGatewayHttpResolver, schema_doc_id: str) -> Response:
    return _schema_answer(
        *schema_docs().replace(
            credentials(app), schema_doc_id, header(app, "Content-Type"), body_bytes(app)
        )
    )


def rename_schema_doc(app: APIGatewayHttpResolver, schema_doc_id: str) -> Response:
    name = header(app, "X-Schema-Doc-Name")
    return ok(*schema_docs().rename(credentials(app), schema_doc_id, name))
