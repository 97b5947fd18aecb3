"""History you can use (docs/API.md §3.10, beyond JSONBin): the versions of a bin, listed 10 a
page, and a version restored as a new version. At both levels."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest


def versioned(api, owner, bin_id, record):
    headers = {"X-Master-Key": owner.key, "X-Bin-Versioning": "true"}
    reply = api.request("PUT", f"/v3/b/{bin_id}", headers, record)
    assert reply.status == 200
    return reply


def size(record) -> int:
    return len(json.dumps(record).encode())


def test_versions_are_listed_newest_first_with_their_size(api, owner):
    records = [{"v": 0}, {"v": 1, "more": "x" * 10}, {"v": 2}, {"v": 3, "list": [1, 2]}]
    made = api.post("/v3/b", records[0], {"X-Master-Key": owner.key}).json()
    bin_id = made["metadata"]["id"]
    for record in records[1:]:
        versioned(api, owner, bin_id, record)
    reply = api.get(f"/v3/b/{bin_id}/versions", {"X-Master-Key": owner.key})
    assert reply.status == 200
    listed = reply.json()
    assert [v["version"] for v in listed] == [3, 2, 1, 0]
    assert [v["size"] for v in listed] == [size(r) for r in reversed(records)]
    assert set(listed[0]) == {"version", "createdAt", "size"}
    assert listed[-1]["createdAt"] == made["metadata"]["createdAt"]
    times = [v["createdAt"] for v in listed]
    assert times == sorted(times, reverse=True)


def test_versions_page_ten_at_a_time(api, owner):
    bin_id = api.create_bin(owner, {"v": 0})
    for n in range(1, 12):
        versioned(api, owner, bin_id, {"v": n})
    key = {"X-Master-Key": owner.key}
    first = api.get(f"/v3/b/{bin_id}/versions", key).json()
    assert [v["version"] for v in first] == list(range(11, 1, -1))
    second = api.get(f"/v3/b/{bin_id}/versions/{first[-1]['version']}", key).json()
    assert [v["version"] for v in second] == [1, 0]
    assert api.get(f"/v3/b/{bin_id}/versions/0", key).json() == []
    bad = api.get(f"/v3/b/{bin_id}/versions/latest", key)
    assert (bad.status, bad.json()) == (400, {"message": "Bin version is invalid"})


def test_a_public_bins_versions_need_no_key_a_private_bins_do(api, owner, public_bin, private_bin):
    assert api.get(f"/v3/b/{public_bin}/versions").status == 200
    assert api.get(f"/v3/b/{private_bin}/versions").status == 401


def test_a_restore_is_a_new_version_and_rewrites_nothing(api, owner):
    bin_id = api.create_bin(owner, {"v": 0})
    versioned(api, owner, bin_id, {"v": 1})
    versioned(api, owner, bin_id, {"v": 2})
    key = {"X-Master-Key": owner.key}
    reply = api.request("POST", f"/v3/b/{bin_id}/versions/1/restore", key)
    assert reply.status == 200
    assert reply.json()["record"] == {"v": 1}
    assert reply.json()["metadata"]["parentId"] == bin_id
    assert api.get(f"/v3/b/{bin_id}?meta=false", key).json() == {"v": 1}
    assert [v["version"] for v in api.get(f"/v3/b/{bin_id}/versions", key).json()] == [3, 2, 1, 0]
    assert api.get(f"/v3/b/{bin_id}/2?meta=false", key).json() == {"v": 2}  # kept
    assert reply.header("ETag") == api.get(f"/v3/b/{bin_id}", key).header("ETag")


def test_restore_errors(api, owner, other):
    bin_id = api.create_bin(owner, {"v": 0})
    key = {"X-Master-Key": owner.key}
    missing = api.request("POST", f"/v3/b/{bin_id}/versions/5/restore", key)
    assert (missing.status, missing.json()) == (404, {"message": "Bin version not found"})
    bad = api.request("POST", f"/v3/b/{bin_id}/versions/one/restore", key)
    assert (bad.status, bad.json()) == (400, {"message": "Bin version is invalid"})
    stale = api.request("POST", f"/v3/b/{bin_id}/versions/0/restore", {**key, "If-Match": '"x"'})
    assert stale.status == 412
    foreign = api.request("POST", f"/v3/b/{bin_id}/versions/0/restore", {"X-Master-Key": other.key})
    assert foreign.status == 401
    assert api.get(f"/v3/b/{bin_id}/versions", key).json()[0]["version"] == 0  # unchanged


def test_a_restore_racing_a_delete_of_the_history_never_brings_it_back(api, owner):
    """4 parallel restores of version 1 beside a DELETE of the versions: in about 9 of 40
    rounds the purged record was the latest again after the delete had answered. Whatever the
    order, a restore either came first (and the delete then purged it too) or finds no version
    1 (404): the bin ends at version 0's record with no history."""
    from concurrent.futures import ThreadPoolExecutor

    key = {"X-Master-Key": owner.key}
    for _ in range(15):
        bin_id = api.create_bin(owner, {"v": 0})
        versioned(api, owner, bin_id, {"v": 1, "purged": True})
        versioned(api, owner, bin_id, {"v": 2, "purged": True})

        def restore(_, bin_id=bin_id):
            return api.request("POST", f"/v3/b/{bin_id}/versions/1/restore", key)

        with ThreadPoolExecutor(max_workers=5) as pool:
            restores = [pool.submit(restore, n) for n in range(4)]
            deleted = api.request("DELETE", f"/v3/b/{bin_id}/versions", key)
            statuses = sorted(r.result().status for r in restores)
        assert deleted.status == 200
        assert set(statuses) <= {200, 404}, statuses
        assert api.get(f"/v3/b/{bin_id}?meta=false", key).json() == {"v": 0}
        count = api.get(f"/v3/b/{bin_id}/versions/count", key).json()["metadata"]
        assert count["versionCount"] == 0


NOT_ASCII_DIGITS = ["\u00b2", "\u00b9", "\u0661", "\uff11", "\u0967"]  # ² ¹ ١ １ १


@pytest.mark.parametrize("digit", NOT_ASCII_DIGITS)
def test_only_ascii_digits_are_version_numbers(api, owner, digit):
    """``…/versions/²/restore`` and ``GET …/versions/¹`` answered 500, and ``…/versions/١/restore``
    restored version 1: every route parses a version with one parser."""
    bin_id = api.create_bin(owner, {"v": 0}, X_Bin_Private="false")
    versioned(api, owner, bin_id, {"v": 1})
    key = {"X-Master-Key": owner.key}
    encoded = quote(digit)
    invalid = (400, {"message": "Bin version is invalid"})
    for path in (f"/v3/b/{bin_id}/versions/{encoded}/restore",):
        reply = api.request("POST", path, key)
        assert (reply.status, reply.json()) == invalid
    for path in (f"/v3/b/{bin_id}/versions/{encoded}", f"/v3/b/{bin_id}/{encoded}"):
        for headers in (key, {}):  # a public bin: no key needed, no 500 either
            reply = api.get(path, headers)
            assert (reply.status, reply.json()) == invalid
    assert [v["version"] for v in api.get(f"/v3/b/{bin_id}/versions", key).json()] == [1, 0]
