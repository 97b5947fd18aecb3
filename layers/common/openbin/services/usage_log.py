"""Filing usage lines (docs/API.md §8): by account and day, one object a batch."""

from __future__ import annotations

import json
from datetime import date

from openbin.storage import Storage


def file_lines(storage: Storage, lines: list[dict]) -> int:
    """File each line under its account and day (the day of its time, UTC); how many were."""
    batches: dict[tuple[str, date], list[bytes]] = {}
    for line in lines:
        try:
            day = date.fromisoformat(str(line["time"])[:10])
        except (KeyError, ValueError):
            continue
        encoded = json.dumps(line, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
        batches.setdefault((line["accountId"], day), []).append(encoded)
    for (account_id, day), encoded_lines in batches.items():
        storage.usage_logs.append(account_id, day, b"".join(encoded_lines))
    return sum(len(v) for v in batches.values())
