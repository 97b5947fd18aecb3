"""docs/API.md §3.3–3.5 checks that need to look inside storage."""

import os
from collections import Counter

import pytest

from openbin import storage as storage_module
from openbin.services.bins import BinService
from tests.seed import write_history
from tests.support import storage_calls


@pytest.fixture
def all_in_s3(aws):
    """Every record goes to S3 (inline limit 0), so object cleanup is visible."""
    os.environ["OPENBIN_INLINE_RECORD_LIMIT"] = "0"
    storage_module.reset()
    return storage_module.get_storage()


def objects_of(storage, bin_id) -> list[str]:
    return storage.records.keys_of_bin(bin_id)


def test_delete_removes_every_object(handler_api, all_in_s3):
    account = handler_api.account()
    bin_id = handler_api.create_bin(account, {"v": 0})
    headers = {"X-Master-Key": account.key, "X-Bin-Versioning": "true"}
    for n in range(1, 4):
        handler_api.request("PUT", f"/v3/b/{bin_id}", headers, {"v": n})
    handler_api.request("PUT", f"/v3/b/{bin_id}", {"X-Master-Key": account.key}, {"v": "x"})
    assert len(objects_of(all_in_s3, bin_id)) == 4  # v0..v2 in history, and the latest
    reply = handler_api.request("DELETE", f"/v3/b/{bin_id}", {"X-Master-Key": account.key})
    assert reply.json()["metadata"]["versionsDeleted"] == 3
    assert objects_of(all_in_s3, bin_id) == []
    versions = all_in_s3.db.query(
        TableName=all_in_s3.bins.versions_table,
        KeyConditionExpression="binId = :b",
        ExpressionAttributeValues={":b": {"S": bin_id}},
    )
    assert versions["Items"] == []


def test_unversioned_update_removes_the_replaced_object(handler_api, all_in_s3):
    account = handler_api.account()
    bin_id = handler_api.create_bin(account, {"v": 0})
    before = objects_of(all_in_s3, bin_id)
    handler_api.request("PUT", f"/v3/b/{bin_id}", {"X-Master-Key": account.key}, {"v": 1})
    after = objects_of(all_in_s3, bin_id)
    assert len(before) == len(after) == 1 and before != after


@pytest.mark.parametrize("preserve", ["true", "false"])
def test_delete_versions_removes_dropped_objects(handler_api, all_in_s3, preserve):
    account = handler_api.account()
    bin_id = handler_api.create_bin(account, {"v": 0})
    headers = {"X-Master-Key": account.key, "X-Bin-Versioning": "true"}
    for n in range(1, 4):
        handler_api.request("PUT", f"/v3/b/{bin_id}", headers, {"v": n})
    reply = handler_api.request(
        "DELETE",
        f"/v3/b/{bin_id}/versions",
        {"X-Master-Key": account.key, "X-Preserve-Latest": preserve},
    )
    assert reply.json()["metadata"]["versionsDeleted"] == 3
    assert len(objects_of(all_in_s3, bin_id)) == 1
    latest = handler_api.get(f"/v3/b/{bin_id}", {"X-Master-Key": account.key}).json()["record"]
    assert latest == ({"v": 3} if preserve == "true" else {"v": 0})


def test_version_limit_is_configurable(handler_api, aws):
    os.environ["OPENBIN_MAX_VERSIONS"] = "3"
    storage_module.reset()
    account = handler_api.account()
    bin_id = handler_api.create_bin(account, {"v": 0})
    headers = {"X-Master-Key": account.key, "X-Bin-Versioning": "true"}
    made = [
        handler_api.request("PUT", f"/v3/b/{bin_id}", headers, {"v": n}).json()["metadata"]
        for n in range(1, 6)
    ]
    assert [m.get("version") for m in made] == [1, 2, 3, None, None]
    read = {"X-Master-Key": account.key}
    assert handler_api.get(f"/v3/b/{bin_id}", read).json()["record"] == {"v": 5}
    assert handler_api.get(f"/v3/b/{bin_id}/2", read).json()["record"] == {"v": 2}
    assert (
        handler_api.get(f"/v3/b/{bin_id}/versions/count", read).json()["metadata"]["versionCount"]
        == 3
    )


def _calls_of_a_read(handler_api, storage, path, key) -> Counter:
    with storage_calls(storage) as calls:
        reply = handler_api.get(path, {"X-Master-Key": key})
    assert reply.status == 200
    return calls


def test_reading_the_latest_costs_the_same_at_1_and_1000_versions(handler_api, storage):
    account = handler_api.account()
    small = handler_api.create_bin(account, {"v": 0})
    large = handler_api.create_bin(account, {"v": 0})
    BinService(storage).write_version(small, b'{"v": 1}', versioned=True)
    write_history(storage.db, storage.bins, large, 1000)
    assert storage.bins.get(large).latest_version == 1000
    one = _calls_of_a_read(handler_api, storage, f"/v3/b/{small}", account.key)
    thousand = _calls_of_a_read(handler_api, storage, f"/v3/b/{large}", account.key)
    assert one == thousand == Counter({"BatchGetItem": 1, "UpdateItem": 1})
    # a numbered version is fetched in the same single BatchGetItem
    old = _calls_of_a_read(handler_api, storage, f"/v3/b/{large}/3", account.key)
    assert old == Counter({"BatchGetItem": 1, "UpdateItem": 1})
    reply = handler_api.get(f"/v3/b/{large}/3", {"X-Master-Key": account.key})
    assert reply.json()["record"] == {"v": 3}


def test_a_writer_that_lost_the_race_retries_on_the_state_it_was_given(handler_api, storage):
    """The refused transaction returns the bin as the winner left it: no read before the
    second attempt."""
    account = handler_api.account()
    bin_id = handler_api.create_bin(account, {"v": 0})
    stale = storage.bins.get(bin_id)
    BinService(storage).write_version(bin_id, b'{"v": 1}', versioned=True)  # the winner
    with storage_calls(storage) as calls:
        version = BinService(storage).write_version(
            bin_id, b'{"v": 2}', versioned=True, first=stale
        )
    assert version == 2
    assert calls == {"TransactWriteItems": 2}
    read = {"X-Master-Key": account.key}
    assert handler_api.get(f"/v3/b/{bin_id}/1?meta=false", read).json() == {"v": 1}
    assert handler_api.get(f"/v3/b/{bin_id}?meta=false", read).json() == {"v": 2}
