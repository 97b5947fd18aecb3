from __future__ import annotations

import time
from datetime import UTC, datetime


def now_iso() -> str:
    """ISO-8601 UTC with milliseconds, e.g. ``2026-11-21T09:30:05.123Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def epoch() -> int:
    """Seconds since the epoch (the unit of DynamoDB's TTL attributes)."""
    return int(time.time())
