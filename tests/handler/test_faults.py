"""Storage faults at every step of create, update and delete (issue: reliability).

For each storage call an operation makes, in turn, a fault is injected there:
- ``throttled``: that attempt is refused as throttled (nothing applied): the request succeeds;
- ``down``: that call and every later one fail with a 5xx (nothing applied);
- ``lost``: that call IS applied, its answer is lost (a 5xx), then the service is down.
Afterwards, whatever the client was told: a 503 says exactly "Service temporarily
unavailable, please retry"; an acknowledged write is in storage; no bin points at a missing S3
object; every version number up to the latest has its record; usage counters are exact; and
no request was charged more than once.
"""

from __future__ import annotations

import json
import os
import random
import types
from collections import Counter

import botocore.endpoint
import pytest
from botocore.awsrequest import AWSResponse
from moto.core.botocore_stubber import MockRawResponse
from moto.core.models import botocore_stubber

from openbin import storage as storage_module
from openbin_local.emulator import skip_next_request

pytestmark = pytest.mark.fresh_world  # the invariants scan every table and object

UNAVAILABLE = {"message": "Service temporarily unavailable, please retry"}
SMALL = {"kind": "small", "n": 1}
_random = random.Random(7)
LARGE = {"kind": "large", "items": [f"{_random.getrandbits(128):032x}" for _ in range(800)]}  # → S3


def _error(request, service: str, status: int, code: str) -> AWSResponse:
    if service == "s3":
        body = f"<Error><Code>{code}</Code><Message>injected</Message></Error>"
        headers = {"Content-Type": "application/xml"}
    else:
        body = json.dumps(
            {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "injected"}
        )
        headers = {"Content-Type": "application/x-amz-json-1.0"}
    return AWSResponse(request.url, status, headers, MockRawResponse(body))


class Faults:
    """Counts storage calls (attempts included) and fails the chosen one."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.at: int | None = None
        self.mode = ""
        self.broken = False

    def __call__(self, event_name: str, request, **_):
        service = event_name.split(".")[1]
        target = request.headers.get("X-Amz-Target", b"")
        target = target.decode() if isinstance(target, bytes) else target
        self.calls.append(f"{service}:{target.rsplit('.', 1)[-1] or request.method}")
        index = len(self.calls) - 1
        if not self.broken and index != self.at:
            return None
        if self.mode == "lost" and not self.broken:
            botocore_stubber(event_name, request)  # applied by the emulated service…
        skip_next_request()  # …and not (again) by moto's own handler, which botocore calls too
        if self.mode == "throttled" and not self.broken:
            code = "SlowDown" if service == "s3" else "ThrottlingException"
            return _error(request, service, 503 if service == "s3" else 400, code)
        self.broken = True
        code = "InternalError" if service == "s3" else "InternalServerError"
        return _error(request, service, 500, code)


@pytest.fixture
def faults(aws, monkeypatch):
    monkeypatch.setattr(
        botocore.endpoint,
        "time",
        types.SimpleNamespace(sleep=lambda s: None, time=__import__("time").time),
    )
    monkeypatch.setattr("openbin.retry.time.sleep", lambda seconds: None)
    os.environ["OPENBIN_INLINE_RECORD_LIMIT"] = "4096"
    storage_module.reset()
    storage = storage_module.get_storage()
    injector = Faults()
    for client in (storage.db, storage.accounts._once, storage.records._s3):
        client.meta.events.register_first("before-send", injector)
    return injector


# -- invariants --------------------------------------------------------------------------------
def scan(storage, table):
    items, kwargs = [], {"TableName": table}
    while True:
        page = storage.db.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def check_invariants(storage, account_id: str) -> None:
    s3, bucket = storage.records._s3, storage.settings.records_bucket
    objects = {
        obj["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for obj in page.get("Contents", [])
    }
    bins = [
        b for b in scan(storage, storage.bins.table) if b.get("ownerId", {}).get("S") == account_id
    ]
    versions = scan(storage, storage.bins.versions_table)
    stored = 0
    for item in bins:
        bin = storage.bins.from_item(item)
        if bin.record.s3_key:
            assert bin.record.s3_key in objects, "a bin points at a missing S3 object"
        stored += bin.record.size
        history = {int(v["version"]["N"]): v for v in versions if v["binId"]["S"] == bin.bin_id}
        for number in range(bin.latest_version):
            assert number in history, f"version {number} of {bin.bin_id} has no record"
            record = storage.bins.version_from_item(history[number]).record
            if record.s3_key:
                assert record.s3_key in objects, "a version points at a missing S3 object"
            stored += record.size
    account = storage.accounts.get(account_id)
    assert (account.bins, account.stored_bytes) == (len(bins), stored), "usage counters drifted"


def run(handler_api, faults, storage, operation, at: int | None, mode: str):
    """A fresh account and bin, then ``operation`` with a fault at call ``at``."""
    faults.at, faults.mode, faults.broken = None, "", False
    account = handler_api.account(requests=100)
    bin_id = handler_api.create_bin(account, LARGE, X_Bin_Private="false")
    handler_api.request(
        "PUT", f"/v3/b/{bin_id}", {"X-Master-Key": account.key, "X-Bin-Versioning": "true"}, SMALL
    )
    before = storage.accounts.get(account.account_id).requests_remaining
    faults.calls.clear()
    faults.at, faults.mode = at, mode
    reply = operation(handler_api, account, bin_id)
    faults.at, faults.broken = None, False
    return account, bin_id, reply, before


def create(api, account, bin_id):
    return api.post("/v3/b", LARGE, {"X-Master-Key": account.key})


def update(api, account, bin_id):
    return api.request("PUT", f"/v3/b/{bin_id}", {"X-Master-Key": account.key}, LARGE)


def update_versioned(api, account, bin_id):
    headers = {"X-Master-Key": account.key, "X-Bin-Versioning": "true"}
    return api.request("PUT", f"/v3/b/{bin_id}", headers, {"n": 3})


def delete(api, account, bin_id):
    return api.request("DELETE", f"/v3/b/{bin_id}", {"X-Master-Key": account.key})


def delete_versions(api, account, bin_id):
    return api.request("DELETE", f"/v3/b/{bin_id}/versions", {"X-Master-Key": account.key})


def acknowledged(api, account, bin_id, operation, reply) -> None:
    """A 200 means the write is in storage."""
    read = {"X-Master-Key": account.key}
    if operation is create:
        new_id = reply.json()["metadata"]["id"]
        assert api.get(f"/v3/b/{new_id}", read).json()["record"] == LARGE
    elif operation is update:
        assert api.get(f"/v3/b/{bin_id}", read).json()["record"] == LARGE
    elif operation is update_versioned:
        assert api.get(f"/v3/b/{bin_id}", read).json()["record"] == {"n": 3}
    elif operation is delete:
        assert api.get(f"/v3/b/{bin_id}", read).status == 404
    else:
        assert (
            api.get(f"/v3/b/{bin_id}/versions/count", read).json()["metadata"]["versionCount"] == 0
        )


@pytest.mark.parametrize("operation", [create, update, update_versioned, delete, delete_versions])
def test_faults_at_every_step(handler_api, faults, storage, operation):
    account, bin_id, reply, _ = run(handler_api, faults, storage, operation, None, "")
    assert reply.status == 200
    steps = len(faults.calls)
    assert steps >= 2  # an update is two: the read, then one transaction
    outcomes = Counter()
    for at in range(steps):
        for mode in ("throttled", "down", "lost"):
            account, bin_id, reply, before = run(handler_api, faults, storage, operation, at, mode)
            where = f"{operation.__name__}: {mode} at call {at} ({faults.calls[at] if at < len(faults.calls) else '?'})"
            charged = before - storage.accounts.get(account.account_id).requests_remaining
            assert charged <= 1, f"charged {charged} times: {where}"
            if mode == "throttled":
                assert reply.status == 200, where
            else:
                assert reply.status in (200, 503), where
            if reply.status == 503:
                assert reply.json() == UNAVAILABLE, where
            else:
                assert charged == 1, where
                acknowledged(handler_api, account, bin_id, operation, reply)
            outcomes[reply.status] += 1
            check_invariants(storage, account.account_id)
    assert outcomes[503] > 0  # the faults were real


def test_the_charge_is_never_resent_after_an_unknown_outcome(handler_api, faults, storage):
    """Applied, then the answer lost: the service is back at once, yet the decrement is not
    sent again (botocore would, for a 500): the request fails, charged exactly once."""
    account = handler_api.account(requests=10)
    bin_id = handler_api.create_bin(account, SMALL)
    faults.calls.clear()
    faults.at, faults.mode = 1, "lost"  # call 0 is the key lookup, call 1 the charge

    def recover(**_):
        faults.broken = False  # a single lost answer, nothing else fails

    storage.accounts._once.meta.events.register("after-call", recover)
    reply = handler_api.get(f"/v3/b/{bin_id}", {"X-Master-Key": account.key})
    assert (reply.status, reply.json()) == (503, UNAVAILABLE)
    assert faults.calls.count("dynamodb:UpdateItem") == 1
    assert storage.accounts.get(account.account_id).requests_remaining == 8
    assert storage.accounts._once.meta.config.retries["total_max_attempts"] == 1


def test_the_deadline_stops_storage_calls_with_a_503(handler_api, storage, monkeypatch):
    """An invocation close to its timeout answers 503 instead of letting Lambda kill it; the
    deadline belongs to that invocation only."""
    from openbin import aws
    from openbin_local.runtime import LambdaContext

    account = handler_api.account()
    bin_id = handler_api.create_bin(account)
    real = LambdaContext.get_remaining_time_in_millis
    monkeypatch.setattr(LambdaContext, "get_remaining_time_in_millis", lambda self: 1500)
    reply = handler_api.get(f"/v3/b/{bin_id}", {"X-Master-Key": account.key})
    assert (reply.status, reply.json()) == (503, UNAVAILABLE)
    assert aws.deadline.get() is None
    monkeypatch.setattr(LambdaContext, "get_remaining_time_in_millis", real)
    assert handler_api.get(f"/v3/b/{bin_id}", {"X-Master-Key": account.key}).status == 200


def test_a_storage_failure_is_answered_without_another_storage_call(handler_api, faults):
    """A recognised key's error answers say what the account has left, read on the error path;
    never after a failure of storage itself, which would only make the 503 slower."""
    account = handler_api.account()
    missing = "f" * 24
    faults.calls.clear()
    reply = handler_api.get(f"/v3/b/{missing}", {"X-Master-Key": account.key})
    assert (reply.status, reply.header("X-Requests-Remaining")) == (404, "10000")
    assert faults.calls == ["dynamodb:BatchGetItem", "dynamodb:GetItem"]
    bin_id = handler_api.create_bin(account)
    faults.calls.clear()
    faults.at, faults.mode, faults.broken = 1, "down", False  # the charge fails
    reply = handler_api.get(f"/v3/b/{bin_id}", {"X-Master-Key": account.key})
    assert (reply.status, reply.json()) == (503, UNAVAILABLE)
    assert reply.header("X-Requests-Remaining") is None
    assert faults.calls == ["dynamodb:BatchGetItem", "dynamodb:UpdateItem"]
