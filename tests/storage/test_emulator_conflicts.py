"""DynamoDB's transaction conflicts, emulated (openbin_local.conflicts): a transaction is in
flight for a moment, and another transaction or a single-item write that touches one of its
items meanwhile fails as on AWS; reads are not blocked, and sequential calls never collide."""

from __future__ import annotations

import threading
import time

import pytest
from botocore.exceptions import ClientError

from openbin_local import conflicts


def update(table: str, bin_id: str, value: str) -> dict:
    return {
        "Update": {
            "TableName": table,
            "Key": {"binId": {"S": bin_id}},
            "UpdateExpression": "SET rev = :v",
            "ExpressionAttributeValues": {":v": {"S": value}},
        }
    }


@pytest.fixture
def slow_transactions(monkeypatch):
    monkeypatch.setenv("OPENBIN_TRANSACTION_WINDOW_MS", "400")


def in_flight(aws, items: list[dict]) -> threading.Thread:
    """A transaction started in another thread, holding its items for the window."""
    thread = threading.Thread(target=lambda: aws.db.transact_write_items(TransactItems=items))
    thread.start()
    time.sleep(0.1)  # it holds its items now
    return thread


def test_a_transaction_touching_an_item_in_flight_is_cancelled(aws, slow_transactions):
    bins = aws.names["BinsTable"]
    first = in_flight(aws, [update(bins, "c1", "a")])
    with pytest.raises(ClientError) as raised:
        aws.db.transact_write_items(
            TransactItems=[update(bins, "c2", "b"), update(bins, "c1", "b")]
        )
    first.join()
    error = raised.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    assert [r["Code"] for r in error["CancellationReasons"]] == ["None", "TransactionConflict"]
    item = aws.db.get_item(TableName=bins, Key={"binId": {"S": "c1"}}, ConsistentRead=True)
    assert item["Item"]["rev"] == {"S": "a"}  # the first one was applied, the second nothing
    assert "Item" not in aws.db.get_item(TableName=bins, Key={"binId": {"S": "c2"}})


def test_a_single_item_write_of_an_item_in_flight_fails_and_reads_are_not_blocked(
    aws, slow_transactions
):
    bins = aws.names["BinsTable"]
    aws.db.put_item(TableName=bins, Item={"binId": {"S": "c3"}, "rev": {"S": "0"}})
    first = in_flight(aws, [update(bins, "c3", "a")])
    started = time.monotonic()
    read = aws.db.get_item(TableName=bins, Key={"binId": {"S": "c3"}}, ConsistentRead=True)
    assert time.monotonic() - started < 0.2 and read["Item"]["rev"] == {"S": "0"}
    with pytest.raises(ClientError) as raised:
        aws.db.update_item(
            TableName=bins,
            Key={"binId": {"S": "c3"}},
            UpdateExpression="SET rev = :v",
            ExpressionAttributeValues={":v": {"S": "b"}},
        )
    first.join()
    assert raised.value.response["Error"]["Code"] == "TransactionConflictException"


def test_sequential_calls_never_collide(aws, slow_transactions):
    bins = aws.names["BinsTable"]
    before = dict(conflicts.COLLISIONS)
    aws.db.transact_write_items(TransactItems=[update(bins, "c4", "a")])
    aws.db.transact_write_items(TransactItems=[update(bins, "c4", "b")])
    aws.db.update_item(
        TableName=bins,
        Key={"binId": {"S": "c4"}},
        UpdateExpression="SET rev = :v",
        ExpressionAttributeValues={":v": {"S": "c"}},
    )
    assert conflicts.COLLISIONS == before


def test_the_window_can_be_turned_off(aws, monkeypatch):
    monkeypatch.setenv("OPENBIN_TRANSACTION_WINDOW_MS", "0")
    bins = aws.names["BinsTable"]
    started = time.monotonic()
    aws.db.transact_write_items(TransactItems=[update(bins, "c5", "a")])
    assert time.monotonic() - started < 0.2
