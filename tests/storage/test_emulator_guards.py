"""Guards on the emulator's use of moto internals (see ``openbin_cli.emulator.PATCHED_FOR``):
the version they were checked against, each patch in place, and the snapshot reader, which
reads moto's tables directly, agreeing with what the API returns for the same items."""

from __future__ import annotations

import pytest
from moto.core import responses as moto_responses
from moto.core.botocore_stubber import BotocoreStubber
from moto.dynamodb.models import DynamoDBBackend

from openbin_cli import emulator
from openbin_cli.emulator import _encode_value, _table_items
from tests.unit.test_third_party_guards import check_version


def test_moto_patches_are_for_this_version_and_installed():
    check_version(emulator.PATCHED_FOR)
    assert BotocoreStubber.process_request is emulator._serialised_process_request
    assert DynamoDBBackend.transact_write_items.__module__ == "openbin_cli.emulator"
    assert hasattr(DynamoDBBackend.transact_write_items, "__wrapped__")
    assert hasattr(moto_responses.method_names_from_class, "cache_info")
    from moto.dynamodb import models

    assert models.copy.__name__ == "copy"  # moto's module still copies through this name


def scan(db, table: str) -> list[dict]:
    items, kwargs = [], {"TableName": table}
    while True:
        page = db.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.mark.fresh_world  # compares whole tables
def test_snapshots_read_from_moto_what_a_scan_returns(aws, handler_api):
    """Every attribute type the app stores (and the others DynamoDB has), inline binary
    records included: the snapshot of each table equals a Scan, encoded the same way."""
    account = handler_api.account("pro")
    bin_id = handler_api.create_bin(account, {"a": [1, 2.5, None, True], "b": {"c": "ü"}})
    headers = {"X-Master-Key": account.key, "X-Bin-Versioning": "true"}
    handler_api.request("PUT", f"/v3/b/{bin_id}", headers, {"v": 2})
    handler_api.request("POST", "/v3/a", {"X-Master-Key": account.key, "X-Key-Name": "k"}, {})
    handler_api.op("collection.create", account_id=account.account_id, name="c", schema="{}")
    table = aws.names["BinsTable"]
    aws.db.put_item(
        TableName=table,
        Item={
            "binId": {"S": "every-type"},
            "n": {"N": "12.50"},
            "bin": {"B": b"\x00\xff"},
            "flag": {"BOOL": False},
            "nothing": {"NULL": True},
            "ss": {"SS": ["x", "y"]},
            "ns": {"NS": ["1", "2"]},
            "bs": {"BS": [b"\x01", b"\x02"]},
            "list": {"L": [{"S": "s"}, {"B": b"\x03"}, {"M": {"k": {"N": "1"}}}]},
            "map": {"M": {"inner": {"L": [{"BOOL": True}]}, "b": {"B": b"\x04"}}},
        },
    )

    def canonical(items):
        def order(value):
            ((kind, inner),) = value.items()
            if kind in ("SS", "NS", "BS"):
                return {kind: sorted(inner)}
            if kind == "M":
                return {"M": {k: order(v) for k, v in inner.items()}}
            if kind == "L":
                return {"L": [order(v) for v in inner]}
            return value

        rows = [{k: order(v) for k, v in item.items()} for item in items]
        return sorted(rows, key=repr)

    for name, physical in aws.names.items():
        if name not in aws.template.tables:
            continue
        scanned = [
            {k: _encode_value(v) for k, v in item.items()} for item in scan(aws.db, physical)
        ]
        assert scanned, name
        assert canonical(_table_items(physical)) == canonical(scanned), name
