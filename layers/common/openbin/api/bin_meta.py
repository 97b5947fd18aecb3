"""Routes of docs/API.md §3.5 (versions) and §3.6 (bin metadata)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from openbin.api import headers
from openbin.api.http import credentials, header, ok
from openbin.services.bin_meta import BinMetaService
from openbin.storage import get_storage


def service() -> BinMetaService:
    return BinMetaService(get_storage())


def count_versions(app: APIGatewayHttpResolver, bin_id: str) -> Response:
    bin = service().count_versions(credentials(app), bin_id)
    metadata = {"id": bin.bin_id, "versionCount": bin.latest_version, "private": bin.private}
    return ok({"metadata": metadata})


def list_versions(app: APIGatewayHttpResolver, bin_id: str, before: str | None = None) -> Response:
    page = service().list_versions(credentials(app), bin_id, before)
    return ok([{"version": v.version, "createdAt": v.created_at, "size": v.size} for v in page])


def delete_versions(app: APIGatewayHttpResolver, bin_id: str) -> Response:
    preserve = headers.flag(app, "X-Preserve-Latest", False)
    result = service().delete_versions(credentials(app), bin_id, preserve)
    if result.count == 0:
        return ok({"message": "No versions found"})
    message = "Versions for the Bin are deleted successfully"
    if result.latest_preserved:
        message += " and latest version preserved on the base record."
    metadata = {"id": result.bin_id, "versionsDeleted": result.count}
    return ok({"metadata": metadata, "message": message})


def rename(app: APIGatewayHttpResolver, bin_id: str) -> Response:
    name = service().rename(credentials(app), bin_id, header(app, "X-Bin-Name"))
    return ok({"record": bin_id, "metadata": {"name": name}})


def set_privacy(app: APIGatewayHttpResolver, bin_id: str) -> Response:
    private = service().set_privacy(
        credentials(app),
        bin_id,
        headers.required_flag(
            app,
            "X-Bin-Private",
            "You need to provide X-Bin-Private header to change the Bin privacy",
        ),
    )
    return ok({"record": bin_id, "metadata": {"private": private}})
