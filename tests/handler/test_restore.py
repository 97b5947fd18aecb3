"""Backup and restore (docs/DEPLOYING.md): the records bucket keeps what an update or a delete replaced, so
the tables restored to a point in time find every record they point to; and the two operator
steps of a restore, on the emulated account built from template.yaml."""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime

import pytest

from openbin.storage.records import decompress
from openbin_cli import ops

pytestmark = pytest.mark.fresh_world  # restores act on whole tables and the whole bucket

_random = random.Random(11)
LARGE = {"items": [f"{_random.getrandbits(128):032x}" for _ in range(2000)]}  # stored in S3


def versions_of(storage, key: str) -> tuple[list[dict], list[dict]]:
    """(object versions, delete markers) of one key."""
    page = storage.records._s3.list_object_versions(
        Bucket=storage.settings.records_bucket, Prefix=key
    )
    return page.get("Versions", []), page.get("DeleteMarkers", [])


def test_a_replaced_or_deleted_record_stays_readable_as_a_noncurrent_version(handler_api, storage):
    account = handler_api.account()
    key = {"X-Master-Key": account.key}
    bin_id = handler_api.create_bin(account, LARGE)
    first = storage.bins.get(bin_id).record
    assert first.s3_key is not None
    handler_api.request("PUT", f"/v3/b/{bin_id}", key, {"replaced": True})  # unversioned
    handler_api.request("DELETE", f"/v3/b/{bin_id}", key)
    kept, markers = versions_of(storage, first.s3_key)
    assert [m["IsLatest"] for m in markers] == [True]  # deleted: a marker over the object
    assert [v["IsLatest"] for v in kept] == [False]  # ... which is still there, noncurrent
    body = storage.records._s3.get_object(
        Bucket=storage.settings.records_bucket, Key=first.s3_key, VersionId=kept[0]["VersionId"]
    )["Body"].read()
    assert json.loads(decompress(body)) == LARGE


def test_undeleting_records_since_a_restore_time(handler_api, storage):
    account = handler_api.account()
    before = handler_api.create_bin(account, LARGE)
    kept = storage.bins.get(before).record
    time.sleep(1.1)  # S3 times are to the second
    since = datetime.now(UTC).replace(microsecond=0)
    time.sleep(1.1)
    handler_api.request("DELETE", f"/v3/b/{before}", {"X-Master-Key": account.key})
    assert [m["IsLatest"] for m in versions_of(storage, kept.s3_key)[1]] == [True]
    answer = ops.run(storage, "records.undelete", {"since": since.isoformat()})
    assert answer["recordsRestored"] == 1
    assert json.loads(storage.records.load(kept)) == LARGE
    again = ops.run(storage, "records.undelete", {"since": since.isoformat()})
    assert again["recordsRestored"] == 0  # nothing left to bring back


def test_a_live_table_takes_exactly_the_restored_tables_items(handler_api, storage, aws):
    db = storage.db
    live = storage.settings.accounts_table
    restored = "AccountsTable-restored"
    db.create_table(
        TableName=restored,
        AttributeDefinitions=[{"AttributeName": "accountId", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "accountId", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    kept, gone = handler_api.account(), handler_api.account()
    snapshot = db.get_item(TableName=live, Key={"accountId": {"S": kept.account_id}})["Item"]
    db.put_item(TableName=restored, Item=snapshot)
    handler_api.op("account.add-requests", account_id=kept.account_id, count=5)  # after "T"
    answer = ops.run(storage, "table.copy", {"table": "AccountsTable", "source": restored})
    assert answer["itemsWritten"] == 1 and answer["itemsDeleted"] >= 1
    items = db.scan(TableName=live)["Items"]
    assert items == [snapshot]
    assert handler_api.op("account.show", account_id=kept.account_id)["requestsRemaining"] == 10_000
    assert gone.account_id not in json.dumps(items)
