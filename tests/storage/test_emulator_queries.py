"""The emulator's Query (openbin_cli.emulator._install_query_lookup) answers exactly what moto's
own does, on the base table and on every index, through puts, updates that move an item to
another partition, deletes, batch writes and transactions, page by page in both directions;
and it reads only the partition it asks for."""

from __future__ import annotations

import random

import pytest

from openbin_cli import emulator

pytestmark = pytest.mark.fresh_world  # compares whole partitions of its own tables


def both(monkeypatch, call):
    """``call()`` with the emulator's Query, then with moto's own."""
    ours = call()
    monkeypatch.setattr(emulator, "STOCK_QUERIES", True)
    try:
        stock = call()
    finally:
        monkeypatch.setattr(emulator, "STOCK_QUERIES", False)
    return ours, stock


def pages(db, **kwargs) -> list[list[dict]]:
    found, start = [], None
    while True:
        page = db.query(**kwargs, **({"ExclusiveStartKey": start} if start else {}))
        found.append(page["Items"])
        start = page.get("LastEvaluatedKey")
        if not start:
            return found


def test_queries_answer_what_moto_answers_through_every_kind_of_write(aws, monkeypatch):
    db, bins, versions = aws.db, aws.names["BinsTable"], aws.names["VersionsTable"]
    rng = random.Random(11)
    owners = [f"owner{n}#{c}" for n in range(3) for c in ("uncategorized", "c1")]
    live: set[str] = set()

    def check() -> None:
        for partition in owners:
            for forward in (True, False):
                query = {
                    "TableName": bins,
                    "IndexName": "ByOwnerCollection",
                    "KeyConditionExpression": "ownerCollection = :p",
                    "ExpressionAttributeValues": {":p": {"S": partition}},
                    "ScanIndexForward": forward,
                    "Limit": 4,
                }
                ours, stock = both(monkeypatch, lambda query=query: pages(db, **query))
                assert ours == stock, partition
        for bin_id in sorted(live)[:5]:
            query = {
                "TableName": versions,
                "KeyConditionExpression": "binId = :b AND version < :v",
                "ExpressionAttributeValues": {":b": {"S": bin_id}, ":v": {"N": "3"}},
            }
            ours, stock = both(monkeypatch, lambda query=query: pages(db, **query))
            assert ours == stock, bin_id

    for step in range(300):
        action = rng.random()
        bin_id = f"b{rng.randrange(60):03d}"
        if action < 0.4:
            db.put_item(
                TableName=bins,
                Item={"binId": {"S": bin_id}, "ownerCollection": {"S": rng.choice(owners)}},
            )
            live.add(bin_id)
        elif action < 0.6 and live:
            db.update_item(
                TableName=bins,
                Key={"binId": {"S": bin_id}},
                UpdateExpression="SET ownerCollection = :p",
                ExpressionAttributeValues={":p": {"S": rng.choice(owners)}},
            )
            live.add(bin_id)
        elif action < 0.7:
            db.update_item(  # leaves the index: no ownerCollection any more
                TableName=bins,
                Key={"binId": {"S": bin_id}},
                UpdateExpression="REMOVE ownerCollection",
            )
        elif action < 0.8:
            db.delete_item(TableName=bins, Key={"binId": {"S": bin_id}})
            live.discard(bin_id)
        elif action < 0.9:
            db.batch_write_item(
                RequestItems={
                    versions: [
                        {"PutRequest": {"Item": {"binId": {"S": bin_id}, "version": {"N": str(v)}}}}
                        for v in range(rng.randrange(1, 5))
                    ]
                }
            )
            live.add(bin_id)
        else:
            db.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": bins,
                            "Item": {
                                "binId": {"S": bin_id},
                                "ownerCollection": {"S": rng.choice(owners)},
                            },
                        }
                    },
                    {
                        "Delete": {
                            "TableName": versions,
                            "Key": {"binId": {"S": bin_id}, "version": {"N": "0"}},
                        }
                    },
                ]
            )
            live.add(bin_id)
        if step % 25 == 0:
            check()
    check()


def test_a_query_reads_its_partition_alone(aws, monkeypatch):
    """After the first index Query (which builds the lookup), no Query sorts the whole table."""
    from moto.dynamodb.models.table import Table

    db, bins = aws.db, aws.names["BinsTable"]
    for n in range(200):
        db.put_item(
            TableName=bins,
            Item={"binId": {"S": f"x{n:03d}"}, "ownerCollection": {"S": f"o{n % 50}#u"}},
        )
    query = {
        "TableName": bins,
        "IndexName": "ByOwnerCollection",
        "KeyConditionExpression": "ownerCollection = :p",
        "ExpressionAttributeValues": {":p": {"S": "o7#u"}},
    }
    assert len(db.query(**query)["Items"]) == 4
    whole_table_reads: list[str] = []
    original = Table.all_items

    def counted(self):
        whole_table_reads.append(self.name)
        return original(self)

    monkeypatch.setattr(Table, "all_items", counted)
    db.put_item(TableName=bins, Item={"binId": {"S": "x999"}, "ownerCollection": {"S": "o7#u"}})
    found = db.query(**query)["Items"]
    assert [item["binId"]["S"] for item in found] == ["x007", "x057", "x107", "x157", "x999"]
    base = db.query(
        TableName=bins,
        KeyConditionExpression="binId = :b",
        ExpressionAttributeValues={":b": {"S": "x042"}},
    )["Items"]
    assert [item["binId"]["S"] for item in base] == ["x042"]
    assert whole_table_reads == []
