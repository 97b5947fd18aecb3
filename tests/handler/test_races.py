"""Races made deterministic: a second client acts at the exact moment between a request's read
and its write. They reach the paths where a request reads the state again (and so the grants
those paths need, under the enforced IAM: tests/handler/test_policies.py names them here)."""

from __future__ import annotations

import secrets
import threading

import pytest

from openbin.storage.bins import BinRepository
from openbin.storage.records import RecordStore


def in_another_thread(action) -> None:
    thread = threading.Thread(target=action)
    thread.start()
    thread.join()


def test_a_delete_that_loses_twice_to_writers_reads_the_bin_again(handler_api, monkeypatch):
    account = handler_api.account()
    key = {"X-Master-Key": account.key}
    bin_id = handler_api.create_bin(account, {"v": 0})
    original = BinRepository.list_versions
    writes = []

    def list_versions(self, listed_bin_id):
        if len(writes) < 2:  # between the delete's read of the bin and its transaction
            writes.append(True)
            in_another_thread(
                lambda: handler_api.request("PUT", f"/v3/b/{bin_id}", key, {"v": len(writes)})
            )
        return original(self, listed_bin_id)

    monkeypatch.setattr(BinRepository, "list_versions", list_versions)
    reply = handler_api.request("DELETE", f"/v3/b/{bin_id}", key)
    assert len(writes) == 2
    assert reply.status == 200, reply.body
    assert handler_api.get(f"/v3/b/{bin_id}", key).status == 404


def test_a_read_of_a_version_whose_history_was_replaced_reads_it_again(handler_api, monkeypatch):
    """Reading version 1 while the history is deleted and two new versions are written: the old
    version 1's object is gone; the read finds the new version 1 and answers it."""
    account = handler_api.account(plan="pro")
    key = {"X-Master-Key": account.key}
    versioned = {**key, "X-Bin-Versioning": "true"}
    bin_id = handler_api.create_bin(account, {"v": 0})
    old = {"v": 1, "blob": secrets.token_hex(30_000)}  # in S3
    for record in (old, {"v": 2}):
        assert handler_api.request("PUT", f"/v3/b/{bin_id}", versioned, record).status == 200
    original = RecordStore.load
    raced = []

    def load(self, ref):
        if not raced and ref.s3_key:
            raced.append(True)

            def rewrite_history():
                handler_api.request("DELETE", f"/v3/b/{bin_id}/versions", key)
                for n in ("new 1", "new 2"):
                    handler_api.request("PUT", f"/v3/b/{bin_id}", versioned, {"v": n})

            in_another_thread(rewrite_history)
        return original(self, ref)

    monkeypatch.setattr(RecordStore, "load", load)
    reply = handler_api.get(f"/v3/b/{bin_id}/1?meta=false", key)
    assert raced
    assert (reply.status, reply.json()) == (200, {"v": "new 1"})


@pytest.mark.parametrize("write", ["unversioned update", "delete"])
def test_a_read_racing_a_write_never_answers_5xx(handler_api, storage, monkeypatch, write):
    """The read loads the bin, then its record's object, which a write removes in between (on
    AWS a missing key answers 403 without s3:ListBucket). It reads the bin again."""
    account = handler_api.account(plan="pro")
    key = {"X-Master-Key": account.key}
    big = {"blob": secrets.token_hex(30_000)}  # in S3, not inline
    bin_id = handler_api.create_bin(account, big)
    original = RecordStore.load
    raced = []

    def load(self, ref):
        if not raced and ref.s3_key:
            raced.append(True)

            def other_client():
                if write == "delete":
                    handler_api.request("DELETE", f"/v3/b/{bin_id}", key)
                else:
                    headers = {**key, "X-Bin-Versioning": "false"}
                    handler_api.request("PUT", f"/v3/b/{bin_id}", headers, {"new": 1})

            in_another_thread(other_client)
        return original(self, ref)

    monkeypatch.setattr(RecordStore, "load", load)
    reply = handler_api.get(f"/v3/b/{bin_id}?meta=false", key)
    assert raced
    if write == "delete":
        assert reply.status == 404
    else:
        assert (reply.status, reply.json()) == (200, {"new": 1})
