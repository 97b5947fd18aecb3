"""Access key routes (docs/API.md §6)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from openbin.api import headers
from openbin.api.http import body_bytes, credentials, header, ok
from openbin.models import PERMISSIONS, KeyRecord
from openbin.services.access_keys import AccessKeyService
from openbin.storage import get_storage


def service() -> AccessKeyService:
    return AccessKeyService(get_storage())


def key_permissions(record: KeyRecord) -> dict:
    return {"bins": {p: bool(record.permissions.get(p)) for p in PERMISSIONS}}


def key_listing(record: KeyRecord) -> dict:
    """What is shown of a key after its creation: never the key."""
    return {
        "accessKeyId": record.access_key_id,
        "keyPermissions": key_permissions(record),
        "metadata": {"name": record.name, "createdAt": record.created_at},
    }


def create(app: APIGatewayHttpResolver) -> Response:
    new = service().create(
        credentials(app),
        headers.name(app, "X-Key-Name", "Access Key"),
        header(app, "Content-Type"),
        body_bytes(app),
    )
    return ok({"accessKey": new.key, **key_listing(new.record)})


def list_keys(app: APIGatewayHttpResolver) -> Response:
    return ok([key_listing(record) for record in service().list_for(credentials(app))])


def delete(app: APIGatewayHttpResolver, access_key_id: str) -> Response:
    record = service().delete(credentials(app), access_key_id)
    return ok(
        {
            "metadata": {"id": access_key_id, "name": record.name},
            "message": "Access Key deleted successfully",
        }
    )
