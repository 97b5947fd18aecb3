"""Collection routes (docs/API.md §4)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from openbin.api import headers
from openbin.api.http import credentials, header, ok
from openbin.models import Collection
from openbin.services.collections import CollectionService, SchemaDocLink
from openbin.storage import get_storage


def service() -> CollectionService:
    return CollectionService(get_storage())


def listing(collection: Collection) -> dict:
    """Exactly the documented keys: strict clients build objects from them."""
    item = {
        "record": collection.collection_id,
        "collectionMeta": {"name": collection.name},
        "createdAt": collection.created_at,
    }
    if collection.schema_doc_id:
        item["schemaDocId"] = collection.schema_doc_id
    return item


def create_collection(app: APIGatewayHttpResolver) -> Response:
    collection = service().create(
        credentials(app), headers.name(app, "X-Collection-Name", "Collection")
    )
    metadata = {"name": collection.name, "createdAt": collection.created_at}
    return ok({"record": collection.collection_id, "metadata": metadata})


def list_collections(app: APIGatewayHttpResolver) -> Response:
    return ok([listing(c) for c in service().list_for(credentials(app))])


def rename_collection(app: APIGatewayHttpResolver, collection_id: str) -> Response:
    name = service().rename(
        credentials(app), collection_id, headers.name(app, "X-Collection-Name", "Collection")
    )
    return ok({"record": collection_id, "metadata": {"name": name}})


def collection_bins(
    app: APIGatewayHttpResolver, collection_id: str, last_bin_id: str | None = None
) -> Response:
    order = header(app, "X-Sort-Order")
    page = service().bins(credentials(app), collection_id, last_bin_id, order)
    return ok(
        [
            {
                "private": summary.private,
                "snippetMeta": {"name": summary.name} if summary.name is not None else {},
                "record": summary.bin_id,
                "createdAt": summary.created_at,
            }
            for summary in page
        ]
    )


def _schema_doc_link(link: SchemaDocLink) -> Response:
    collection = link.collection
    return ok(
        {
            "collectionName": collection.name,
            "schemaDocId": link.schema_doc_id,  # the one attached, or the one detached
            "metadata": {"id": collection.collection_id, "createdAt": collection.created_at},
        }
    )


def attach_schema_doc(app: APIGatewayHttpResolver, collection_id: str) -> Response:
    schema_doc_id = header(app, "X-Schema-Doc-Id")
    return _schema_doc_link(
        service().set_schema_doc(credentials(app), collection_id, schema_doc_id, True)
    )


def detach_schema_doc(app: APIGatewayHttpResolver, collection_id: str) -> Response:
    return _schema_doc_link(service().set_schema_doc(credentials(app), collection_id, None, False))
