"""Standard Webhooks signatures (``webhook-id``, ``webhook-timestamp``,
``webhook-signature: v1,<base64 HMAC-SHA256>``), made with the specification's own library.
While a rotated secret's grace period lasts, a delivery carries a signature by each secret
(space-separated, as the specification allows), so a receiver that knows either accepts it."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

PREFIX = "whsec_"


def new_secret() -> str:
    """A signing secret: ``whsec_`` and 32 random bytes in base64, as the specification's
    libraries read it."""
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def headers(message_id: str, body: bytes, keys: list[str], now: datetime | None = None) -> dict:
    from standardwebhooks.webhooks import Webhook

    when = now or datetime.now(UTC)
    signatures = " ".join(Webhook(key).sign(message_id, when, body) for key in keys)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": signatures,
    }
