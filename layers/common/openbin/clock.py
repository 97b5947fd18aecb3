from __future__ import annotations

from datetime import UTC, datetime


def now_iso() -> str:
    """ISO-8601 UTC with milliseconds, e.g. ``2026-11-21T09:30:05.123Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
