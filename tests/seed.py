"""Bulk data for tests and the benchmark: histories and bins written straight into the tables
with BatchWriteItem, much faster than through the API. The items have the shape the
repositories write (see openbin.storage.bins)."""

from __future__ import annotations

import json
import random

from openbin import ids
from openbin.storage import records
from openbin.storage.bins import BinRepository, owner_collection


def _put_all(db, table: str, items: list[dict]) -> None:
    for start in range(0, len(items), 25):
        db.batch_write_item(
            RequestItems={table: [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]}
        )


def write_history(db, bins: BinRepository, bin_id: str, versions: int) -> None:
    """Give a bin ``versions`` versions: version n holds ``{"v": n}``."""
    item = db.get_item(TableName=bins.table, Key=bins.key(bin_id))["Item"]
    history = []
    for n in range(versions):
        record = b'{"v": %d}' % n
        history.append(
            {
                **bins.version_key(bin_id, n),
                "createdAt": item["createdAt"],
                "tok": {"S": "seed"},
                "size": {"N": str(len(record))},
                "rec": {"B": records.compress(record)},
            }
        )
    _put_all(db, bins.versions_table, history)
    db.update_item(
        TableName=bins.table,
        Key=bins.key(bin_id),
        UpdateExpression="SET latestVersion = :n",
        ExpressionAttributeValues={":n": {"N": str(versions)}},
    )


def add_bins(db, bins: BinRepository, owner_id: str, collection_id: str, count: int) -> list[str]:
    """Put ``count`` private bins holding ``{"a":1}`` into a collection; their ids, sorted."""
    made = sorted(ids.new_id() for _ in range(count))
    record = records.compress(b'{"a":1}')
    _put_all(
        db,
        bins.table,
        [
            {
                "binId": {"S": bin_id},
                "ownerId": {"S": owner_id},
                "ownerCollection": {"S": owner_collection(owner_id, collection_id)},
                "collectionId": {"S": collection_id},
                "private": {"BOOL": True},
                "createdAt": {"S": "2026-01-01T00:00:00.000Z"},
                "latestVersion": {"N": "0"},
                "rev": {"S": "seed"},
                "size": {"N": "7"},
                "rec": {"B": record},
            }
            for bin_id in made
        ],
    )
    return made


def realistic_record(target_bytes: int, seed: int = 7) -> dict:
    """Nested, varied JSON (users with orders), about ``target_bytes`` long."""
    rng = random.Random(seed)
    words = [
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
        "juliet", "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo",
    ]  # fmt: skip
    users, size = [], 20
    while size < target_bytes:
        user = {
            "id": f"{rng.randint(1_500_000_000, 1_800_000_000):08x}{rng.getrandbits(64):016x}",
            "name": " ".join(rng.choice(words).title() for _ in range(2)),
            "email": f"{rng.getrandbits(40):x}@example.org",
            "score": round(rng.uniform(-1000, 1000), 4),
            "active": rng.random() < 0.5,
            "tags": rng.sample(words, rng.randint(0, 5)),
            "address": {
                "street": f"{rng.randint(1, 9999)} {rng.choice(words).title()} Street",
                "geo": {"lat": rng.uniform(-90, 90), "lng": rng.uniform(-180, 180)},
            },
            "orders": [
                {
                    "sku": f"{rng.getrandbits(48):012x}",
                    "qty": rng.randint(1, 40),
                    "price": round(rng.uniform(0.5, 500), 2),
                    "note": None if rng.random() < 0.7 else "ünïcødé ✓ " + rng.choice(words),
                }
                for _ in range(rng.randint(0, 6))
            ],
        }
        users.append(user)
        size += len(json.dumps(user, ensure_ascii=False).encode()) + 2
    return {"generatedBy": "openbin-tests", "users": users}
