"""The emulator's Query (openbin_local.moto_speed._install_query_lookup) answers exactly what moto's
own does, on the base table and on every index, through puts, updates that move an item to
another partition, deletes, batch writes and transactions, page by page in both directions,
with any Limit and with start keys of items that are gone; and it reads only the partition it
asks for, and of an index partition only the page (and the one item after it)."""

from __future__ import annotations

import random

import pytest

from openbin_local import moto_speed

pytestmark = pytest.mark.fresh_world  # compares whole partitions of its own tables


def both(monkeypatch, call):
    """``call()`` with the emulator's Query, then with moto's own."""
    ours = call()
    monkeypatch.setattr(moto_speed, "STOCK_QUERIES", True)
    try:
        stock = call()
    finally:
        monkeypatch.setattr(moto_speed, "STOCK_QUERIES", False)
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
                for limit in (1, 4, None):
                    query = {
                        "TableName": bins,
                        "IndexName": "ByOwnerCollection",
                        "KeyConditionExpression": "ownerCollection = :p",
                        "ExpressionAttributeValues": {":p": {"S": partition}},
                        "ScanIndexForward": forward,
                        **({"Limit": limit} if limit else {}),
                    }
                    ours, stock = both(monkeypatch, lambda query=query: pages(db, **query))
                    assert ours == stock, (partition, forward, limit)
                # a page after any bin id, there or not (deleted, moved, never made)
                start = {
                    "ownerCollection": {"S": partition},
                    "binId": {"S": f"b{rng.randrange(62):03d}"},
                }
                query = {**query, "Limit": 3, "ExclusiveStartKey": start}
                ours, stock = both(monkeypatch, lambda query=query: db.query(**query))
                ours.pop("ResponseMetadata"), stock.pop("ResponseMetadata")
                assert ours == stock, (partition, start)
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


def test_an_index_without_a_range_key_pages_as_moto_does(aws, monkeypatch):
    """KeysTable's ByAccount has a hash key alone: moto orders its partition by the table's key."""
    db, keys = aws.db, aws.names["KeysTable"]
    rng = random.Random(5)
    for n in range(40):
        db.put_item(
            TableName=keys,
            Item={"keyHash": {"S": f"h{rng.randrange(1000):04d}"}, "accountId": {"S": f"a{n % 3}"}},
        )
    for account in ("a0", "a1", "a2", "a9"):
        for forward in (True, False):
            for limit in (2, 5, None):
                query = {
                    "TableName": keys,
                    "IndexName": "ByAccount",
                    "KeyConditionExpression": "accountId = :a",
                    "ExpressionAttributeValues": {":a": {"S": account}},
                    "ScanIndexForward": forward,
                    **({"Limit": limit} if limit else {}),
                }
                ours, stock = both(monkeypatch, lambda query=query: pages(db, **query))
                assert ours == stock, (account, forward, limit)


def test_a_page_of_a_large_partition_reads_the_page(aws, monkeypatch):
    """Of 2,000 bins in one collection, a page of 10 hands moto 11 items (the page and the one
    after it, which makes its LastEvaluatedKey), from the start or any start key, either way."""
    from moto.dynamodb.models.table import Table

    db, bins = aws.db, aws.names["BinsTable"]
    for first in range(0, 2_000, 25):
        db.batch_write_item(
            RequestItems={
                bins: [
                    {
                        "PutRequest": {
                            "Item": {
                                "binId": {"S": f"big{n:05d}"},
                                "ownerCollection": {"S": "big#c"},
                            }
                        }
                    }
                    for n in range(first, first + 25)
                ]
            }
        )
    sorted_sizes: list[int] = []
    original = Table.sorted_items

    def counted(self, hash_attrs, range_attrs, items):
        sorted_sizes.append(len(items))
        return original(self, hash_attrs, range_attrs, items)

    monkeypatch.setattr(Table, "sorted_items", counted)
    for forward in (True, False):
        for start in (None, "big00000", "big01234", "big01999", "big99999"):
            query = {
                "TableName": bins,
                "IndexName": "ByOwnerCollection",
                "KeyConditionExpression": "ownerCollection = :p",
                "ExpressionAttributeValues": {":p": {"S": "big#c"}},
                "ScanIndexForward": forward,
                "Limit": 10,
            }
            if start:
                query["ExclusiveStartKey"] = {
                    "ownerCollection": {"S": "big#c"},
                    "binId": {"S": start},
                }
            sorted_sizes.clear()
            ours = db.query(**query)
            assert sorted_sizes and max(sorted_sizes) <= 11, sorted_sizes
            monkeypatch.setattr(moto_speed, "STOCK_QUERIES", True)
            stock = db.query(**query)
            monkeypatch.setattr(moto_speed, "STOCK_QUERIES", False)
            for answer in (ours, stock):
                answer.pop("ResponseMetadata")
            assert ours == stock, (forward, start)
