"""docs/API.md §11 Webhooks (master key): an account's webhook settings, its signing secret
(shown when first made and when rotated), its recent deliveries, and one sent again."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import msgspec

from openbin import clock, ids
from openbin.clock import now_iso
from openbin.errors import InvalidRequest, NotFound
from openbin.models import Delivery, WebhookSecret, WebhookSettings
from openbin.services.auth import Credentials
from openbin.services.gate import MasterChecks
from openbin.services.pipeline import Pipeline
from openbin.services.pipeline import Step as S
from openbin.storage import Storage
from openbin.validation import require_json_content_type
from openbin.webhooks import bodies, sending, signing

NOT_SET = "No webhook is set"
DELIVERY_NOT_FOUND = "Delivery not found"
INVALID_DELIVERY_ID = "Invalid Delivery Id provided"
SHAPE = (
    'You need to pass {"url": "https://…", "events": ["create", "update", "delete"], '
    '"paused": false} in the body'
)
MAX_URL = 2048

GET = Pipeline("GET /v3/w", S.KEY, S.ALLOWANCE)
PUT = Pipeline("PUT /v3/w", S.KEY, S.ALLOWANCE, S.HEADERS)
DELETE = Pipeline("DELETE /v3/w", S.KEY, S.ALLOWANCE)
ROTATE = Pipeline("POST /v3/w/secret", S.KEY, S.ALLOWANCE)
DELIVERIES = Pipeline("GET /v3/w/deliveries", S.KEY, S.ALLOWANCE)
RETRY = Pipeline("POST /v3/w/deliveries/{deliveryId}/retry", S.ID, S.KEY, S.RESOURCE, S.ALLOWANCE)


class WebhookView(msgspec.Struct, frozen=True):
    settings: WebhookSettings
    secret: str | None = None  # shown only when just made


class Rotated(msgspec.Struct, frozen=True):
    secret: str
    previous_retires_at: int | None  # epoch seconds: the old secret signs until then


class WebhookRequest(msgspec.Struct, frozen=True):
    url: str
    events: tuple[str, ...]
    paused: bool


def parse_settings(content_type: str | None, body: bytes, allow_private: bool) -> WebhookRequest:
    require_json_content_type(content_type)
    try:
        value = json.loads(body or b"null")
    except (ValueError, RecursionError):
        raise InvalidRequest("Invalid JSON provided") from None
    if not isinstance(value, dict) or not set(value) <= {"url", "events", "paused"}:
        raise InvalidRequest(SHAPE)
    url, events = value.get("url"), value.get("events", list(bodies.EVENTS))
    paused = value.get("paused", False)
    if not isinstance(url, str) or not isinstance(paused, bool) or not isinstance(events, list):
        raise InvalidRequest(SHAPE)
    if not events or not all(e in bodies.EVENTS for e in events) or len(set(events)) != len(events):
        raise InvalidRequest("events must be one or more of create, update, delete, each once")
    if len(url) > MAX_URL:
        raise InvalidRequest(f"The webhook URL cannot be above {MAX_URL} characters")
    try:
        sending.check_url(url, allow_private)
    except sending.Refused as refused:
        raise InvalidRequest(f"Invalid webhook URL: {refused.message}") from None
    ordered = tuple(e for e in bodies.EVENTS if e in events)
    return WebhookRequest(url, ordered, paused)


def live_secrets(settings: WebhookSettings, now: int | None = None) -> list[str]:
    """The secrets that sign now: the newest, and a rotated one within its grace period."""
    at = clock.epoch() if now is None else now
    return [s.key for s in settings.secrets if s.retires_at is None or s.retires_at > at]


class WebhookService:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.settings = storage.settings

    def _settings_of(self, checks: MasterChecks) -> WebhookSettings:
        found = self.storage.webhooks.get(checks.caller.account_id)
        if found is None:
            raise NotFound(NOT_SET)
        return found

    def get(self, credentials: Credentials) -> WebhookSettings:
        checks = MasterChecks(self.storage, credentials)
        return GET.run(checks, lambda: self._settings_of(checks))

    def put(self, credentials: Credentials, content_type: str | None, body: bytes) -> WebhookView:
        checks = MasterChecks(self.storage, credentials)
        asked: list[WebhookRequest] = []
        allow_private = bool(self.settings.webhook_allow_private)
        checks.add(
            S.HEADERS, lambda: asked.append(parse_settings(content_type, body, allow_private))
        )
        return PUT.run(checks, lambda: self._put(checks.caller.account_id, asked[0]))

    def _put(self, account_id: str, asked: WebhookRequest) -> WebhookView:
        webhooks = self.storage.webhooks
        old = webhooks.get(account_id)
        secret = None
        if old is None:
            secret = signing.new_secret()
            secrets: tuple[WebhookSecret, ...] = (WebhookSecret(secret, now_iso()),)
        else:
            secrets = old.secrets
        settings = WebhookSettings(
            account_id, asked.url, asked.events, asked.paused, secrets, now_iso()
        )
        webhooks.put(settings)
        return WebhookView(settings, secret)

    def reset(self, credentials: Credentials) -> None:
        """JSONBin's reset: the whole configuration, URL and secrets included."""
        checks = MasterChecks(self.storage, credentials)

        def reset() -> None:
            if not self.storage.webhooks.delete(checks.caller.account_id):
                raise NotFound(NOT_SET)

        DELETE.run(checks, reset)

    def rotate(self, credentials: Credentials) -> Rotated:
        """A new secret signs from now on; the previous one beside it for the grace period."""
        checks = MasterChecks(self.storage, credentials)
        return ROTATE.run(checks, lambda: self._rotate(self._settings_of(checks)))

    def _rotate(self, settings: WebhookSettings) -> Rotated:
        now = clock.epoch()
        retires = now + 3600 * self.settings.webhook_secret_grace_hours
        # The secret that signed until now signs beside the new one for the grace period; an
        # older one stops now (one previous secret at most: a rotation after a leak ends it).
        current = [s for s in settings.secrets if s.retires_at is None][:1] or list(
            settings.secrets[:1]
        )
        kept = tuple(msgspec.structs.replace(s, retires_at=retires) for s in current)
        secret = signing.new_secret()
        rotated = msgspec.structs.replace(
            settings, secrets=(WebhookSecret(secret, now_iso()), *kept), updated_at=now_iso()
        )
        self.storage.webhooks.put(rotated)
        previous = max((s.retires_at or 0 for s in kept), default=0) or None
        return Rotated(secret, previous)

    def deliveries(self, credentials: Credentials) -> list[Delivery]:
        checks = MasterChecks(self.storage, credentials)
        return DELIVERIES.run(
            checks, lambda: self.storage.webhooks.recent(checks.caller.account_id)
        )

    def retry(self, credentials: Credentials, delivery_id: str) -> Delivery:
        """Send a delivery again (the same body and webhook-id), whatever became of it."""
        checks = MasterChecks(self.storage, credentials)
        found: list[Delivery] = []

        def check_id() -> None:
            if not ids.is_id(delivery_id):
                raise InvalidRequest(INVALID_DELIVERY_ID)

        def check_resource() -> None:
            got = self.storage.webhooks.get_delivery(
                checks.caller.account_id, delivery_id, body=False
            )
            if got is None:
                raise NotFound(DELIVERY_NOT_FOUND)
            found.append(got[0])

        checks.add(S.ID, check_id)
        checks.add(S.RESOURCE, check_resource)
        return RETRY.run(checks, lambda: self._retry(found[0]))

    def _retry(self, delivery: Delivery) -> Delivery:
        if delivery.state == "pending" and delivery.attempts == 0:
            return delivery  # queued and not tried yet: it goes anyway
        again = msgspec.structs.replace(
            delivery, state="pending", next_attempt_at=None, last_error=None
        )
        self.storage.webhooks.record_attempt(again)
        self.storage.webhooks.enqueue(delivery.account_id, delivery.delivery_id)
        return again


def iso(epoch: int | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
