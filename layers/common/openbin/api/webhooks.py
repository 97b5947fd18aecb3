"""Webhook routes (docs/API.md §11)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from openbin.api.http import body_bytes, credentials, header, ok
from openbin.models import Delivery, WebhookSettings
from openbin.services.webhooks import WebhookService, iso
from openbin.storage import get_storage


def service() -> WebhookService:
    return WebhookService(get_storage())


def settings_json(settings: WebhookSettings) -> dict:
    """What is shown of a webhook: never a secret."""
    newest = settings.secrets[0] if settings.secrets else None
    return {
        "url": settings.url,
        "events": list(settings.events),
        "paused": settings.paused,
        "secretCreatedAt": newest.created_at if newest else None,
        "updatedAt": settings.updated_at,
    }


def delivery_json(delivery: Delivery) -> dict:
    return {
        "id": delivery.delivery_id,
        "event": delivery.event,
        "binId": delivery.bin_id,
        "createdAt": delivery.created_at,
        "state": delivery.state,
        "attempts": delivery.attempts,
        "lastStatus": delivery.last_status,
        "lastLatencyMs": delivery.last_latency_ms,
        "lastError": delivery.last_error,
        "nextAttemptAt": delivery.next_attempt_at,
    }


def get(app: APIGatewayHttpResolver) -> Response:
    return ok(settings_json(service().get(credentials(app))))


def put(app: APIGatewayHttpResolver) -> Response:
    view = service().put(credentials(app), header(app, "Content-Type"), body_bytes(app))
    shown = settings_json(view.settings)
    if view.secret is not None:  # shown this once
        shown["secret"] = view.secret
    return ok(shown)


def reset(app: APIGatewayHttpResolver) -> Response:
    service().reset(credentials(app))
    return ok({"message": "Webhook settings reset"})


def rotate(app: APIGatewayHttpResolver) -> Response:
    rotated = service().rotate(credentials(app))
    return ok(
        {"secret": rotated.secret, "previousSecretRetiresAt": iso(rotated.previous_retires_at)}
    )


def deliveries(app: APIGatewayHttpResolver) -> Response:
    return ok([delivery_json(d) for d in service().deliveries(credentials(app))])


def retry(app: APIGatewayHttpResolver, delivery_id: str) -> Response:
    return ok(delivery_json(service().retry(credentials(app), delivery_id)))
