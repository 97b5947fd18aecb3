"""Small helpers over the low-level DynamoDB client (faster than the resource layer)."""

from __future__ import annotations

import time
from collections.abc import Iterable

from botocore.exceptions import ClientError

MAX_BATCH_ROUNDS = 5


def s(value: str) -> dict:
    return {"S": value}


def n(value: int) -> dict:
    return {"N": str(value)}


def b(value: bytes) -> dict:
    return {"B": value}


def flag(value: bool) -> dict:
    return {"BOOL": value}


def opt_s(item: dict, name: str) -> str | None:
    attr = item.get(name)
    return attr["S"] if attr else None


def get_n(item: dict, name: str, default: int = 0) -> int:
    attr = item.get(name)
    return int(attr["N"]) if attr else default


def get_bool(item: dict, name: str, default: bool = False) -> bool:
    attr = item.get(name)
    return attr["BOOL"] if attr else default


def is_condition_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def is_transaction_conflict(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "TransactionCanceledException"


def batch_get(client, wanted: Iterable[tuple[str, dict]]) -> list[dict | None]:
    """Read items of several tables in one round trip (strongly consistent).

    ``wanted`` is a sequence of ``(table, key)``; the answer holds each item, or None, in the
    same order. Unprocessed keys are asked for again with a short backoff.
    """
    wanted = list(wanted)
    request: dict[str, dict] = {}
    for table, key in wanted:
        request.setdefault(table, {"Keys": [], "ConsistentRead": True})["Keys"].append(key)
    found: dict[tuple[str, tuple], dict] = {}
    key_names = {table: tuple(sorted(key)) for table, key in wanted}
    for attempt in range(MAX_BATCH_ROUNDS):
        response = client.batch_get_item(RequestItems=request)
        for table, items in response.get("Responses", {}).items():
            names = key_names[table]
            for item in items:
                found[(table, _identity(item, names))] = item
        request = response.get("UnprocessedKeys") or {}
        if not request:
            break
        time.sleep(0.02 * 2**attempt)
    else:
        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "batch_get"}},
            "BatchGetItem",
        )
    return [found.get((table, _identity(key, key_names[table]))) for table, key in wanted]


def _identity(item: dict, names: tuple[str, ...]) -> tuple:
    return tuple(next(iter(item[name].values())) for name in names)
