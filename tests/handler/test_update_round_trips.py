"""Updates in two sequential round trips (issue 17): the owner's key names its account, which is
read with the key and the bin and charged in the write's own transaction, as a create is. Every
refusal still charges what the contract's order of checks says, exactly once; an account that
changed between the read and the write is charged on its own and refused as any charge is; keys
that cannot defer the charge work the old way."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from openbin.clock import now_iso
from openbin.keys import generate_key, hash_key
from openbin.models import KeyRecord
from openbin.storage import batch

JSON = {"Content-Type": "application/json"}
FREE_TOO_BIG = (
    "Free users cannot update a record over 100kb. "
    "Upgrade to Pro plan https://jsonbin.io/pricing to update records upto 1mb"
)
EXHAUSTED = "Requests exhausted. Buy additional requests at https://jsonbin.io/pricing"
BLOCKED = "Account blocked. Contact the administrator"
WRITE = ["dynamodb:BatchGetItem", "dynamodb:TransactWriteItems"]


def shown(handler_api, account) -> dict:
    return handler_api.op("account.show", account_id=account.account_id)


def left(handler_api, account) -> int:
    return shown(handler_api, account)["requestsRemaining"]


def test_writes_are_two_round_trips_and_charged_once(handler_api, calls):
    account = handler_api.account(requests=20)
    key = {"X-Master-Key": account.key}
    bin_id = handler_api.create_bin(account, {"n": 0})
    cases = [
        ("PUT", {**key, **JSON, "X-Bin-Versioning": "true"}, b'{"n": 1}'),
        ("PUT", {**key, **JSON, "X-Bin-Versioning": "false"}, b'{"n": 2}'),
        ("PATCH", {**key, "Content-Type": "application/merge-patch+json"}, b'{"m": 3}'),
    ]
    for method, headers, body in cases:
        before = left(handler_api, account)
        calls.clear()
        reply = handler_api.request(method, f"/v3/b/{bin_id}", headers, body)
        assert reply.status == 200, reply.body
        assert calls == WRITE, method
        assert reply.header("X-Requests-Remaining") == str(before - 1)
        assert left(handler_api, account) == before - 1
    calls.clear()
    restored = handler_api.request("POST", f"/v3/b/{bin_id}/versions/0/restore", key)
    assert restored.json()["record"] == {"n": 0}
    assert calls == WRITE  # version 0 is read with the key and the bin
    access = handler_api.access_key(account, "update")  # an access key carries its account too
    calls.clear()
    reply = handler_api.request("PUT", f"/v3/b/{bin_id}", {"X-Access-Key": access, **JSON}, [1])
    assert (reply.status, calls) == (200, WRITE)


def test_a_record_in_s3_adds_its_object_calls(handler_api, calls):
    account = handler_api.account("pro", requests=10)
    record = {"rows": [f"row {i} {'x' * (i % 50)}" for i in range(20_000)]}
    bin_id = handler_api.create_bin(account, {"small": True})
    calls.clear()
    headers = {"X-Master-Key": account.key, **JSON, "X-Bin-Versioning": "true"}
    assert handler_api.request("PUT", f"/v3/b/{bin_id}", headers, record).status == 200
    assert calls == ["dynamodb:BatchGetItem", "s3:PutObject", "dynamodb:TransactWriteItems"]


@pytest.mark.parametrize(
    ("headers", "body", "status", "message"),
    [
        ({"If-Match": '"stale"'}, b'{"a": 1}', 412, None),
        ({"Content-Type": "text/plain"}, b'{"a": 1}', 400, None),
        ({"X-Bin-Versioning": "maybe"}, b'{"a": 1}', 400, None),
        ({}, b"{broken", 400, "Invalid JSON provided"),
        ({}, b'{"big": "' + b"x" * 110_000 + b'"}', 403, FREE_TOO_BIG),
    ],
    ids=["if-match", "content-type", "versioning", "json", "size"],
)
def test_every_refusal_after_the_allowance_is_charged_once(
    handler_api, calls, headers, body, status, message
):
    account = handler_api.account(requests=10)
    bin_id = handler_api.create_bin(account)
    sent = {"X-Master-Key": account.key, **JSON, **headers}
    calls.clear()
    reply = handler_api.request("PUT", f"/v3/b/{bin_id}", sent, body)
    assert reply.status == status
    if message:
        assert reply.message == message
    assert calls == ["dynamodb:BatchGetItem", "dynamodb:UpdateItem"]  # the read, the charge
    assert reply.header("X-Requests-Remaining") == "8"
    assert left(handler_api, account) == 8
    record = handler_api.get(f"/v3/b/{bin_id}?meta=false", {"X-Master-Key": account.key})
    assert record.json() == {"a": 1}  # unchanged


def test_no_request_left_wins_over_a_bad_body(handler_api):
    account = handler_api.account(requests=2)
    bin_id = handler_api.create_bin(account)
    headers = {"X-Master-Key": account.key, **JSON}
    assert handler_api.request("PUT", f"/v3/b/{bin_id}", headers, b'{"b": 2}').status == 200
    reply = handler_api.request("PUT", f"/v3/b/{bin_id}", headers, b"{broken")
    assert (reply.status, reply.message) == (403, EXHAUSTED)
    assert left(handler_api, account) == 0


def after_the_read(monkeypatch, storage, change) -> None:
    """Run ``change`` once, right after a request's combined read: the account changes between
    the read and the write."""
    real_read, done = batch.read, []

    def read(storage_, wanted):
        found = real_read(storage_, wanted)
        if not done and wanted.bin_id is not None:
            done.append(True)
            change()
        return found

    monkeypatch.setattr(batch, "read", read)
    monkeypatch.setattr(type(storage), "read", lambda self, wanted: batch.read(self, wanted))


def test_an_account_blocked_meanwhile_is_refused_and_nothing_is_written(
    handler_api, storage, monkeypatch
):
    account = handler_api.account(requests=10)
    bin_id = handler_api.create_bin(account, {"n": 0})
    block = lambda: handler_api.op("account.block", account_id=account.account_id)  # noqa: E731
    after_the_read(monkeypatch, storage, block)
    headers = {"X-Master-Key": account.key, **JSON, "X-Bin-Versioning": "true"}
    reply = handler_api.request("PUT", f"/v3/b/{bin_id}", headers, b'{"n": 1}')
    assert (reply.status, reply.message) == (403, BLOCKED)
    assert left(handler_api, account) == 9  # the create only
    assert storage.bins.get(bin_id).latest_version == 0


def test_a_plan_changed_meanwhile_is_charged_once_and_held_to_the_new_limit(
    handler_api, storage, monkeypatch, calls
):
    account = handler_api.account("pro", requests=10)
    bin_id = handler_api.create_bin(account, {"n": 0})
    objects_before = storage.records._s3.list_objects_v2(Bucket=storage.settings.records_bucket)
    to_free = lambda: handler_api.op(  # noqa: E731
        "account.set-plan", account_id=account.account_id, plan="free"
    )
    after_the_read(monkeypatch, storage, to_free)
    headers = {"X-Master-Key": account.key, **JSON}
    big = b'{"big": "' + os.urandom(150_000).hex().encode() + b'"}'  # pro only; kept in S3
    calls.clear()
    reply = handler_api.request("PUT", f"/v3/b/{bin_id}", headers, big)
    assert (reply.status, reply.message) == (403, FREE_TOO_BIG)
    assert left(handler_api, account) == 8  # the create and this request, once
    assert handler_api.get(f"/v3/b/{bin_id}?meta=false", headers).json() == {"n": 0}
    objects = storage.records._s3.list_objects_v2(Bucket=storage.settings.records_bucket)
    assert "s3:PutObject" in calls and "s3:DeleteObjects" in calls  # written, then discarded
    assert objects.get("KeyCount") == objects_before.get("KeyCount")


def test_keys_that_cannot_defer_the_charge_pay_it_first(handler_api, storage, calls):
    owner = handler_api.account(requests=10)
    public = handler_api.create_bin(owner, {"n": 0}, X_Bin_Private="false")
    legacy = generate_key()  # no account in the key
    storage.keys.put(KeyRecord(hash_key(legacy), owner.account_id, "master", now_iso()))
    calls.clear()
    reply = handler_api.request("PUT", f"/v3/b/{public}", {"X-Master-Key": legacy, **JSON}, [1])
    assert reply.status == 200
    assert calls == ["dynamodb:BatchGetItem", "dynamodb:UpdateItem", "dynamodb:TransactWriteItems"]
    assert left(handler_api, owner) == 8


def test_parallel_updates_are_each_charged_exactly_once(handler_api):
    account = handler_api.account(requests=100)
    bin_id = handler_api.create_bin(account, {"n": 0})
    headers = {"X-Master-Key": account.key, **JSON, "X-Bin-Versioning": "true"}

    def put(n: int):
        return handler_api.request("PUT", f"/v3/b/{bin_id}", headers, {"n": n})

    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(put, range(1, 17)))
    assert [r.status for r in replies] == [200] * 16
    assert sorted(r.json()["metadata"]["version"] for r in replies) == list(range(1, 17))
    assert left(handler_api, account) == 100 - 1 - 16


def test_a_delete_charges_in_its_own_transaction(handler_api, storage, monkeypatch, calls):
    account = handler_api.account(requests=10)
    bin_id = handler_api.create_bin(account, {"n": 0})
    calls.clear()
    reply = handler_api.request("DELETE", f"/v3/b/{bin_id}", {"X-Master-Key": account.key})
    assert reply.status == 200
    # the bin and the key, its history (to count its bytes out), then one transaction
    assert calls == ["dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:TransactWriteItems"]
    assert reply.header("X-Requests-Remaining") == "8"
    assert shown(handler_api, account)["bins"] == 0
    assert left(handler_api, account) == 8
    stale = handler_api.create_bin(account, {"n": 0})
    gone = handler_api.request(
        "DELETE", f"/v3/b/{stale}", {"X-Master-Key": account.key, "If-Match": '"old"'}
    )
    assert gone.status == 412 and left(handler_api, account) == 6  # the create, the refusal
    block = lambda: handler_api.op("account.block", account_id=account.account_id)  # noqa: E731
    after_the_read(monkeypatch, storage, block)
    refused = handler_api.request("DELETE", f"/v3/b/{stale}", {"X-Master-Key": account.key})
    assert (refused.status, refused.message) == (403, BLOCKED)
    assert storage.bins.get(stale) is not None  # nothing deleted
