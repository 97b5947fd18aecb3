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


# Answers that guarantee the write was not applied, so sending it again is safe: throttling,
# and a collision with a concurrent transaction on the same item.
NOT_APPLIED = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TransactionConflictException",
    }
)


def cancellation_codes(error: ClientError) -> list[str]:
    """Why each item of a cancelled transaction was refused ("None" for those that were not)."""
    return [r.get("Code", "None") for r in error.response.get("CancellationReasons", [])]


def only_collided(error: ClientError) -> bool:
    """A transaction cancelled only because another one touched the same items: not applied,
    and nothing about the data refused it, so it may be sent again."""
    if error.response.get("Error", {}).get("Code") in NOT_APPLIED:
        return True
    codes = cancellation_codes(error)
    return (
        is_transaction_conflict(error)
        and bool(codes)
        and all(code in ("None", "TransactionConflict", "ThrottlingError") for code in codes)
        and any(code != "None" for code in codes)
    )


# Past a few, the pauses reach retry.MAX_PAUSE: 40 attempts outlast any invocation's deadline.
WRITE_ATTEMPTS = 40


def write(call, **kwargs):
    """Send a write, again after answers that guarantee it was not applied (collision,
    throttling), with growing random pauses (``openbin.retry``: many writers of one account
    collide on its item; pauses that grow fast keep 128 writers of one bin from thrashing)
    until the invocation's deadline; every other answer is the caller's to handle."""
    from openbin import retry

    last: ClientError | None = None
    for _ in retry.attempts(WRITE_ATTEMPTS):
        try:
            return call(**kwargs)
        except ClientError as error:
            if not only_collided(error):
                raise
            last = error
    assert last is not None  # retry.attempts() yields at least once before any deadline
    raise last


def update_existing(
    client, table: str, key: dict, expression: str, values: dict, names: dict | None = None
) -> dict | None:
    """Update an item that must exist; its new state, or None when there is no such item."""
    try:
        return client.update_item(
            TableName=table,
            Key=key,
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(#pk)",
            ExpressionAttributeNames={"#pk": next(iter(key)), **(names or {})},
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )["Attributes"]
    except ClientError as error:
        if is_condition_failure(error):
            return None
        raise


def query_all(client, **kwargs) -> list[dict]:
    """Every item a Query returns, page after page (for small result sets: an account's
    collections or access keys, a bin's history)."""
    items: list[dict] = []
    while True:
        page = client.query(**kwargs)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs = {**kwargs, "ExclusiveStartKey": page["LastEvaluatedKey"]}


def batch_get(client, wanted: Iterable[tuple[str, dict]]) -> list[dict | None]:
    """Read items of several tables in one round trip (strongly consistent).

    ``wanted`` is a sequence of ``(table, key)``; the answer holds each item, or None, in the
    same order (an item named twice is read once). Unprocessed keys are asked for again with a
    short backoff.
    """
    wanted = list(wanted)
    key_names = {table: tuple(sorted(key)) for table, key in wanted}
    request: dict[str, dict] = {}
    asked: set[tuple[str, tuple]] = set()
    for table, key in wanted:
        identity = (table, _identity(key, key_names[table]))
        if identity not in asked:  # DynamoDB refuses a batch that names an item twice
            asked.add(identity)
            request.setdefault(table, {"Keys": [], "ConsistentRead": True})["Keys"].append(key)
    found: dict[tuple[str, tuple], dict] = {}
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
