"""Routes of §3.5 (versions) and §3.6 (bin metadata)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from openbin.api.http import credentials, header, ok
from openbin.services.bin_meta import BinMetaService
from openbin.storage import get_storage


def service() -> BinMetaService:
    return BinMetaService(get_storage())


def count_versions(app: APIGatewayHttpResolver, bin_id: str) -> Response:
    return ok(*service().count_versions(credentials(app), bin_id))


def delete_versions(app: APIGatewayHttpResolver, bin_id: str) -> Response:
    preserve = header(app, "X-Preserve-Latest")
    return ok(*service().delete_versions(credentials(app), bin_id, preserve))


def rename(app: APIGatewayHttpResolver, bin_id: str) -> Response:
    return ok(*service().rename(credentials(app), bin_id, header(app, "X-Bin-Name")))


def set_privacy(app: APIGatewayHttpResolver, bin_id: str) -> Response:
    return ok(*service().set_privacy(credentials(app), bin_id, header(app, "X-Bin-Private")))
