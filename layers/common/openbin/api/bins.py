"""Bin routes: turn the request into a domain call and the outcome into the JSONBin shape."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.metrics import MetricUnit

from openbin.api.http import (
    body_bytes,
    credentials,
    header,
    metrics,
    ok,
    query,
    to_json,
)
from openbin.services.bins import BinService, CreateRequest, Outcome, ReadRequest, UpdateRequest
from openbin.storage import get_storage


def service() -> BinService:
    return BinService(get_storage())


def render(outcome: Outcome) -> Response:
    """``{"record": ..., "metadata": ...}``, ``{"records": [...], ...}`` or the bare record.
    The stored JSON text is embedded as is: no parse and re-serialisation of the record."""
    if outcome.matches is not None:
        payload = to_json(outcome.matches)
        key = "records"
    else:
        payload = outcome.record_json
        key = "record"
    if outcome.meta:
        metadata = to_json(outcome.metadata)
        payload = f'{{"{key}":{payload},"metadata":{metadata}}}'
    return ok(payload, outcome.requests_remaining)


def create(app: APIGatewayHttpResolver) -> Response:
    outcome = service().create(
        CreateRequest(
            credentials=credentials(app),
            content_type=header(app, "Content-Type"),
            private=header(app, "X-Bin-Private"),
            name=header(app, "X-Bin-Name"),
            collection_id=header(app, "X-Collection-Id"),
            body=body_bytes(app),
        )
    )
    metrics.add_metric(name="BinsCreated", unit=MetricUnit.Count, value=1)
    return render(outcome)


def read(app: APIGatewayHttpResolver, bin_id: str, version: str | None = None) -> Response:
    outcome = service().read(
        ReadRequest(
            credentials=credentials(app),
            bin_id=bin_id,
            version=version,
            meta_header=header(app, "X-Bin-Meta"),
            meta_query=query(app, "meta"),
            json_path=header(app, "X-JSON-Path"),
        )
    )
    metrics.add_metric(name="BinsRead", unit=MetricUnit.Count, value=1)
    return render(outcome)


def update(app: APIGatewayHttpResolver, bin_id: str) -> Response:
    outcome = service().update(
        UpdateRequest(
            credentials=credentials(app),
            bin_id=bin_id,
            content_type=header(app, "Content-Type"),
            versioning=header(app, "X-Bin-Versioning"),
            collection_id=header(app, "X-Collection-Id"),
            body=body_bytes(app),
        )
    )
    metrics.add_metric(name="BinsUpdated", unit=MetricUnit.Count, value=1)
    return render(outcome)


def delete(app: APIGatewayHttpResolver, bin_id: str) -> Response:
    body, remaining = service().delete(credentials(app), bin_id)
    metrics.add_metric(name="BinsDeleted", unit=MetricUnit.Count, value=1)
    return ok(body, remaining)
