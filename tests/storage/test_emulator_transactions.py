"""The local emulator's TransactWriteItems: backs up only the items it touches (stock moto copies
every touched table whole, so a local create slowed down with the data), with the same outcome
as moto's own: applied entirely, or not at all."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from moto.backends import get_backend

from openbin_local import moto_speed
from openbin_local.emulator import REGION

ACCOUNT = "123456789012"
pytestmark = pytest.mark.fresh_world  # raw items, whole-table counts


def moto_tables():
    return get_backend("dynamodb")[ACCOUNT][REGION].tables


def bins_and_versions(aws):
    return aws.names["BinsTable"], aws.names["VersionsTable"]


def put(aws, table, item):
    aws.db.put_item(TableName=table, Item=item)


def get(aws, table, key):
    return aws.db.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")


def set_rev(table: str, value: str, expected: str | None = None) -> dict:
    """A transaction item that sets bin "a"'s ``rev`` (if it is still ``expected``)."""
    update = {
        "TableName": table,
        "Key": {"binId": {"S": "a"}},
        "UpdateExpression": "SET rev = :new",
        "ExpressionAttributeValues": {":new": {"S": value}},
    }
    if expected is not None:
        update["ConditionExpression"] = "rev = :old"
        update["ExpressionAttributeValues"][":old"] = {"S": expected}
    return {"Update": update}


def cancelled_transaction(aws):
    """Changes an existing bin, adds a new bin and a version, then fails on its last item."""
    bins, versions = bins_and_versions(aws)
    with pytest.raises(ClientError) as caught:
        aws.db.transact_write_items(
            TransactItems=[
                set_rev(bins, "changed"),
                {"Put": {"TableName": bins, "Item": {"binId": {"S": "new"}, "rev": {"S": "1"}}}},
                {
                    "Put": {
                        "TableName": versions,
                        "Item": {"binId": {"S": "a"}, "version": {"N": "0"}, "tok": {"S": "x"}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": bins,
                        "Key": {"binId": {"S": "b"}},
                        "ConditionExpression": "attribute_not_exists(binId)",
                    }
                },
            ]
        )
    assert caught.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r["Code"] for r in caught.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "None", "ConditionalCheckFailed"]


def seed_bins(aws):
    bins, _ = bins_and_versions(aws)
    put(aws, bins, {"binId": {"S": "a"}, "rev": {"S": "original"}})
    put(aws, bins, {"binId": {"S": "b"}, "rev": {"S": "1"}})


def test_a_cancelled_transaction_leaves_everything_as_it_was(aws):
    bins, versions = bins_and_versions(aws)
    seed_bins(aws)
    table = moto_tables()[bins]
    cancelled_transaction(aws)
    assert get(aws, bins, {"binId": {"S": "a"}})["rev"] == {"S": "original"}
    assert get(aws, bins, {"binId": {"S": "new"}}) is None
    assert get(aws, versions, {"binId": {"S": "a"}, "version": {"N": "0"}}) is None
    assert aws.db.scan(TableName=bins)["Count"] == 2
    # No table was swapped for a copy of itself.
    assert moto_tables()[bins] is table


def test_stock_moto_copies_the_table_instead(aws, monkeypatch):
    """The check above can tell the two apart: stock moto puts its whole-table copy back."""
    monkeypatch.setattr(moto_speed, "STOCK_TRANSACTIONS", True)
    bins, _ = bins_and_versions(aws)
    seed_bins(aws)
    table = moto_tables()[bins]
    cancelled_transaction(aws)
    assert get(aws, bins, {"binId": {"S": "a"}})["rev"] == {"S": "original"}
    assert moto_tables()[bins] is not table


def test_an_applied_transaction_is_applied_whole(aws):
    bins, versions = bins_and_versions(aws)
    seed_bins(aws)
    aws.db.transact_write_items(
        TransactItems=[
            set_rev(bins, "2", expected="original"),
            {
                "Put": {
                    "TableName": versions,
                    "Item": {"binId": {"S": "a"}, "version": {"N": "0"}, "tok": {"S": "x"}},
                }
            },
            {"Delete": {"TableName": bins, "Key": {"binId": {"S": "b"}}}},
        ]
    )
    assert get(aws, bins, {"binId": {"S": "a"}})["rev"] == {"S": "2"}
    assert get(aws, versions, {"binId": {"S": "a"}, "version": {"N": "0"}})["tok"] == {"S": "x"}
    assert get(aws, bins, {"binId": {"S": "b"}}) is None


def test_a_refused_update_of_a_versioned_item_is_restored(aws):
    _, versions = bins_and_versions(aws)
    key = {"binId": {"S": "a"}, "version": {"N": "3"}}
    put(aws, versions, {**key, "tok": {"S": "kept"}})
    with pytest.raises(ClientError):
        aws.db.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": versions,
                        "Key": key,
                        "UpdateExpression": "SET tok = :t",
                        "ExpressionAttributeValues": {":t": {"S": "lost"}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": versions,
                        "Key": {"binId": {"S": "a"}, "version": {"N": "4"}},
                        "ConditionExpression": "attribute_exists(binId)",
                    }
                },
            ]
        )
    assert get(aws, versions, key)["tok"] == {"S": "kept"}
