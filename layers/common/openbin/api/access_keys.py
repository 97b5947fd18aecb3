"""Routes of §6 (access keys) and §6b (usage)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from openbin.api.http import body_bytes, credentials, header, ok
from openbin.services.access_keys import AccessKeyService
from openbin.storage import get_storage


def service() -> AccessKeyService:
    return AccessKeyService(get_storage())


def create(app: APIGatewayHttpResolver) -> Response:
    return ok(
        *service().create(
            credentials(app),
            header(app, "X-Key-Name"),
            header(app, "Content-Type"),
            body_bytes(app),
        )
    )


def list_keys(app: APIGatewayHttpResolver) -> Response:
    return ok(*service().list(credentials(app)))


def delete(app: APIGatewayHttpResolver, access_key_id: str) -> Response:
    return ok(*service().delete(credentials(app), access_key_id))


def usage(app: APIGatewayHttpResolver) -> Response:
    return ok(*service().usage(credentials(app)))
