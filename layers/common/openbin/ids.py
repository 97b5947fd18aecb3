"""IDs: 24 lowercase hex characters; 8 of creation time in seconds, then 16 from a CSPRNG."""

from __future__ import annotations

import re
import secrets
import time
from datetime import UTC, datetime

_ID_RE = re.compile(r"[0-9a-f]{24}")


def new_id(now: float | None = None) -> str:
    seconds = int(time.time() if now is None else now) & 0xFFFFFFFF
    return f"{seconds:08x}{secrets.token_hex(8)}"


def is_id(value: str | None) -> bool:
    return value is not None and _ID_RE.fullmatch(value) is not None


def new_revision() -> str:
    """A bin's revision: new at every write of its record or history (conditional writes)."""
    return secrets.token_hex(8)


def created_second(value: str, last_millisecond: bool = False) -> str:
    """The creation second an ID carries, as a ``createdAt`` time at its first (or last)
    millisecond."""
    moment = datetime.fromtimestamp(int(value[:8], 16), UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{moment}.{'999' if last_millisecond else '000'}Z"
