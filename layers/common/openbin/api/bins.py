"""Bin routes (docs/API.md §3.1–3.4): turn the request into a domain call and the result
into the JSONBin shape."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.metrics import MetricUnit

from openbin.api import headers
from openbin.api.http import body_bytes, credentials, header, not_modified, ok, to_json
from openbin.errors import InvalidRequest
from openbin.models import Bin
from openbin.observability import metrics
from openbin.services.bins import (
    BinRead,
    BinService,
    BinWritten,
    CreateRequest,
    PatchRequest,
    ReadRequest,
    UpdateRequest,
)
from openbin.storage import get_storage
from openbin.validation import LAMBDA_RESPONSE_LIMIT, answer_size


def service() -> BinService:
    return BinService(get_storage())


def embedded(key: str, payload: str, metadata: dict) -> str:
    """``{"<key>": <payload>, "metadata": ...}`` with ``payload`` already JSON: a stored record
    is embedded as is, never parsed and serialised again."""
    return f'{{"{key}":{payload},"metadata":{to_json(metadata)}}}'


def read_metadata(bin: Bin, version: int | None) -> dict:
    metadata: dict = {"id": bin.bin_id, "private": bin.private, "createdAt": bin.created_at}
    if bin.name is not None:
        metadata["name"] = bin.name
    if bin.collection_id:
        metadata["collectionId"] = bin.collection_id
    if version is not None:
        metadata["version"] = version
    return metadata


def created_answer(result: BinWritten) -> str:
    bin = result.bin
    metadata: dict = {"id": bin.bin_id, "createdAt": bin.created_at, "private": bin.private}
    if bin.name is not None:
        metadata["name"] = bin.name
    if bin.collection_id is not None:
        metadata["collectionId"] = bin.collection_id
    return embedded("record", result.record_json, metadata)


def read_answer(result: BinRead) -> str:
    """``{"record": ..., "metadata": ...}``, ``{"records": [...], ...}`` or the bare record."""
    if result.matches is not None:
        key, payload = "records", to_json(result.matches, result.exact)
        size = answer_size(payload)
        if size is not None:  # Lambda would refuse to answer it
            raise InvalidRequest(
                f"X-JSON-Path answer too large to send: as JSON it would take {size} bytes, "
                f"over Lambda's {LAMBDA_RESPONSE_LIMIT}"
            )
    else:
        key, payload = "record", result.record_json or ""
    if not result.meta:
        return payload
    return embedded(key, payload, read_metadata(result.bin, result.version))


def updated_answer(result: BinWritten) -> str:
    metadata: dict = {"parentId": result.bin.bin_id, "private": result.bin.private}
    if result.version is not None:
        metadata["version"] = result.version
    return embedded("record", result.record_json, metadata)


def create_request(app: APIGatewayHttpResolver, xl: bool = False) -> CreateRequest:
    """``POST /v3/b`` and ``/v3/xl/b`` read the same headers (an XL bin takes no collection)."""
    return CreateRequest(
        credentials=credentials(app),
        content_type=header(app, "Content-Type"),
        private=headers.flag(app, "X-Bin-Private", True),
        private_sent=header(app, "X-Bin-Private"),
        name=header(app, "X-Bin-Name"),
        collection_id=None if xl else header(app, "X-Collection-Id"),
        body=body_bytes(app),
        xl=xl,
        idempotency_key=header(app, "Idempotency-Key"),
    )


def create(app: APIGatewayHttpResolver) -> Response:
    result = service().create(create_request(app))
    return ok(created_answer(result), created_headers(result, "BinsCreated"))


def created_headers(result: BinWritten, metric: str, etag: bool = True) -> dict[str, str]:
    """A create's headers (and its metric): a first answer given again for its
    Idempotency-Key says so, and counts as a replay, not a create."""
    headers = {"ETag": result.etag} if etag else {}
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
        metric = "BinCreatesReplayed"
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    return headers


def create_xl(app: APIGatewayHttpResolver) -> Response:
    """``POST /v3/xl/b``: the JSON uploaded as the file part of a multipart/form-data body."""
    result = service().create(create_request(app, xl=True))
    bin = result.bin
    metadata: dict = {"id": bin.bin_id, "createdAt": bin.created_at, "private": bin.private}
    if bin.name is not None:
        metadata["name"] = bin.name
    headers = created_headers(result, "XlBinsCreated", etag=False)
    return ok({"record": bin.bin_id, "metadata": metadata}, headers)


def read(app: APIGatewayHttpResolver, bin_id: str, version: str | None = None) -> Response:
    result = service().read(
        ReadRequest(
            credentials=credentials(app),
            bin_id=bin_id,
            version=version,
            meta=headers.meta(app),
            json_path=header(app, "X-JSON-Path"),
            if_none_match=header(app, "If-None-Match"),
        )
    )
    metrics.add_metric(name="BinsRead", unit=MetricUnit.Count, value=1)
    if result.not_modified:
        return not_modified({"ETag": result.etag})
    return ok(read_answer(result), {"ETag": result.etag})


def written(result: BinWritten, metric: str) -> Response:
    """The answer of a write that replaced the latest record (PUT, PATCH, restore)."""
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    return ok(updated_answer(result), {"ETag": result.etag})


def update(app: APIGatewayHttpResolver, bin_id: str) -> Response:
    result = service().update(
        UpdateRequest(
            credentials=credentials(app),
            bin_id=bin_id,
            content_type=header(app, "Content-Type"),
            versioning=headers.flag(app, "X-Bin-Versioning", None),
            collection_id=header(app, "X-Collection-Id"),
            body=body_bytes(app),
            if_match=header(app, "If-Match"),
        )
    )
    return written(result, "BinsUpdated")


def patch(app: APIGatewayHttpResolver, bin_id: str) -> Response:
    result = service().patch(
        PatchRequest(
            credentials=credentials(app),
            bin_id=bin_id,
            content_type=header(app, "Content-Type"),
            versioning=headers.flag(app, "X-Bin-Versioning", None),
            body=body_bytes(app),
            if_match=header(app, "If-Match"),
        )
    )
    return written(result, "BinsPatched")


def restore(app: APIGatewayHttpResolver, bin_id: str, version: str) -> Response:
    result = service().restore(credentials(app), bin_id, version, header(app, "If-Match"))
    return written(result, "BinsRestored")


def delete(app: APIGatewayHttpResolver, bin_id: str) -> Response:
    result = service().delete(credentials(app), bin_id, header(app, "If-Match"))
    metrics.add_metric(name="BinsDeleted", unit=MetricUnit.Count, value=1)
    return ok(
        {
            "metadata": {"id": result.bin_id, "versionsDeleted": result.versions_deleted},
            "message": "Bin deleted successfully",
        }
    )
