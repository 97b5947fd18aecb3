"""The webhook functions' edges: a DynamoDB stream batch in (WebhookDispatcherFunction), an SQS
batch in (WebhookSenderFunction), each answered with the records that failed
(``batchItemFailures``: Lambda hands those back, and nothing else)."""

from __future__ import annotations

import json

from openbin.observability import logger
from openbin.services import webhook_delivery
from openbin.storage import FAILURES, get_storage


def dispatch_batch(event: dict, context) -> dict:
    """WebhookDispatcherFunction's entry point."""
    failed = webhook_delivery.dispatch(get_storage(), event.get("Records", []))
    return {"batchItemFailures": [{"itemIdentifier": number} for number in failed]}


def send_batch(event: dict, context) -> dict:
    """WebhookSenderFunction's entry point: each message names one delivery. One that must be
    tried again stays in the queue, out of sight until its next attempt."""
    storage = get_storage()
    failures = []
    for message in event.get("Records", []):
        try:
            named = json.loads(message["body"])
            sent = webhook_delivery.send(storage, named["accountId"], named["deliveryId"])
            if not sent.done:
                storage.webhooks.pause(message["receiptHandle"], sent.pause)
        except (ValueError, KeyError, TypeError):
            logger.warning("webhook message unreadable: dropped")
            continue
        except FAILURES as error:
            logger.warning("webhook send failed", extra={"error": type(error).__name__})
            failures.append({"itemIdentifier": message["messageId"]})
            continue
        if not sent.done:
            failures.append({"itemIdentifier": message["messageId"]})
    return {"batchItemFailures": failures}
