"""Bulk data for tests and the benchmark: histories and bins written straight into the tables
with BatchWriteItem, much faster than through the API. The items have the shape the
repositories write (see openbin.storage.bins)."""

from __future__ import annotations

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
