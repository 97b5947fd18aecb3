"""``openbin sweep``: record objects that no bin or version names (a write that failed after
storing its object, its clean-up failing too) are deleted by the operator's sweep, and nothing
a bin or a version names ever is."""

from __future__ import annotations

import secrets
import time

import pytest

from openbin_cli import ops

pytestmark = pytest.mark.fresh_world  # it counts every object of the bucket


def test_the_sweep_deletes_orphans_only(handler_api, storage):
    account = handler_api.account(plan="pro")
    key = {"X-Master-Key": account.key}
    big = {"blob": secrets.token_hex(30_000)}  # in S3
    bin_id = handler_api.create_bin(account, big)
    versioned = {**key, "X-Bin-Versioning": "true"}
    assert handler_api.request("PUT", f"/v3/b/{bin_id}", versioned, big).status == 200
    orphan = storage.records.save(bin_id, b'{"lost": true}', as_object=True)  # no item names it
    time.sleep(0.01)
    dry = ops.run(storage, "records.sweep", {"older_than_minutes": 0, "dry_run": True})
    assert dry == {"objects": 3, "orphaned": 1, "deleted": False}
    swept = ops.run(storage, "records.sweep", {"older_than_minutes": 0})
    assert swept == {"objects": 3, "orphaned": 1, "deleted": True}
    assert storage.records.keys_of_bin(bin_id) != [] and orphan.s3_key not in (
        storage.records.keys_of_bin(bin_id)
    )
    for path in (f"/v3/b/{bin_id}", f"/v3/b/{bin_id}/0"):
        assert handler_api.get(path, key).status == 200  # what is named is all still there
    assert ops.run(storage, "records.sweep", {"older_than_minutes": 60})["objects"] == 0
