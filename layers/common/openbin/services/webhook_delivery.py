"""A bin's committed change becomes a delivery (``dispatch``), and a delivery is sent (``send``).

``dispatch`` reads the bins table's stream (on AWS DynamoDB Streams, locally the emulator's
equivalent): only what committed is there, so a refused write sends nothing and a write that
succeeded always does. A create is an INSERT; an update a MODIFY that made a new version or
replaced the latest record (not a rename, a privacy change, a move or a delete of the history);
a delete a REMOVE. Each change is one delivery, whose ID (also its ``webhook-id``) comes from
the stream record's own: a batch the stream hands over again makes no second delivery.

``send`` makes one attempt; a failed one is tried again after the schedule's next pause, then
the delivery is dead (``GET /v3/w/deliveries`` shows it; ``POST …/retry`` sends it again)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import msgspec

from openbin import clock
from openbin.models import Delivery, WebhookSettings
from openbin.observability import logger
from openbin.storage import FAILURES, Storage
from openbin.storage.bin_changes import Change, change_of, delivery_id
from openbin.webhooks import bodies, schedule, sending, signing

KEPT_SECONDS = 7 * 24 * 3600
PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"


def _body(storage: Storage, change: Change) -> bytes:
    bin = change.bin
    if change.event == bodies.DELETE:
        return bodies.delete(bin.bin_id, change.versions_removed)
    record = storage.records.load_kept(bin.record)
    if change.event == bodies.CREATE:
        return bodies.create(bin.bin_id, record, bin.private, bin.name, bin.collection_id)
    return bodies.update(bin.bin_id, record, bin.latest_version, change.versioned)


def dispatch(storage: Storage, records: list[dict]) -> list[str]:
    """Deliveries for the changes of a batch; the sequence numbers of the records that failed
    (the stream hands them, and those after them, over again)."""
    settings: dict[str, WebhookSettings | None] = {}
    failed: list[str] = []
    for record in records:
        try:
            _dispatch_one(storage, record, settings)
        except FAILURES as error:
            logger.warning("webhook dispatch failed", extra={"error": type(error).__name__})
            # the stream hands over this record and every later one again: stop here
            failed.append(str(record.get("dynamodb", {}).get("SequenceNumber", "")))
            break
    return failed


def _dispatch_one(storage: Storage, record: dict, cache: dict) -> None:
    change = change_of(record)
    if change is None or change.bin.owner_id is None:
        return
    owner = change.bin.owner_id
    if owner not in cache:
        cache[owner] = storage.webhooks.get(owner)
    settings = cache[owner]
    if settings is None or settings.paused or change.event not in settings.events:
        return
    try:
        body = _body(storage, change)
    except KeyError:  # no version of the record is kept (past 35 days): nothing to send
        logger.warning("webhook record gone", extra={"event": change.event})
        return
    made = delivery_id(record)
    delivery = Delivery(
        account_id=owner,
        delivery_id=made,
        event=change.event,
        bin_id=change.bin.bin_id,
        created_at=datetime.fromtimestamp(int(made[:8], 16), UTC).strftime(
            "%Y-%m-%dT%H:%M:%S.000Z"
        ),
        state=PENDING,
        attempts=0,
        expires_at=clock.epoch() + KEPT_SECONDS,
    )
    if not storage.webhooks.add_delivery(delivery, body):  # a batch handed over again
        found = storage.webhooks.get_delivery(owner, made, body=False)
        if found is None or found[0].state != PENDING or found[0].attempts > 0:
            return  # queued, and tried, already
    storage.webhooks.enqueue(owner, made)


class Sent(msgspec.Struct, frozen=True):
    done: bool  # False: keep the message, the next attempt comes after ``pause`` seconds
    pause: int = 0


def send(storage: Storage, account_id: str, delivery_id: str, now: float | None = None) -> Sent:
    from openbin.services.webhooks import live_secrets

    found = storage.webhooks.get_delivery(account_id, delivery_id)
    if found is None:
        return Sent(True)
    delivery, body = found
    if delivery.state != PENDING:
        return Sent(True)
    settings = storage.webhooks.get(account_id)
    if settings is None or settings.paused:
        why = "the webhook was reset" if settings is None else "paused: not sent"
        storage.webhooks.record_attempt(
            msgspec.structs.replace(delivery, state=DEAD, last_error=why, next_attempt_at=None)
        )
        return Sent(True)
    at = time.time() if now is None else now
    headers = signing.headers(delivery.delivery_id, body, live_secrets(settings, int(at)))
    allow_private = bool(storage.settings.webhook_allow_private)
    try:
        attempt = sending.post(settings.url, body, headers, allow_private)
    except sending.Refused as refused:
        dead = msgspec.structs.replace(
            delivery, state=DEAD, last_error=f"refused: {refused.message}", next_attempt_at=None
        )
        storage.webhooks.record_attempt(dead)
        return Sent(True)
    attempts = delivery.attempts + 1
    common: dict[str, Any] = {
        "attempts": attempts,
        "last_status": attempt.status,
        "last_latency_ms": attempt.latency_ms,
        "last_error": attempt.error,
    }
    if attempt.delivered:
        storage.webhooks.record_attempt(
            msgspec.structs.replace(delivery, state=DELIVERED, next_attempt_at=None, **common)
        )
        return Sent(True)
    pause = schedule.pause_after(attempts, storage.settings.webhook_pauses())
    if pause is None:
        storage.webhooks.record_attempt(
            msgspec.structs.replace(delivery, state=DEAD, next_attempt_at=None, **common)
        )
        return Sent(True)
    seconds = max(0, round(pause))
    next_at = datetime.fromtimestamp(at + seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    storage.webhooks.record_attempt(
        msgspec.structs.replace(delivery, next_attempt_at=next_at, **common)
    )
    return Sent(False, seconds)
