"""Creating a bin in two sequential round trips: the key names its account, which is read with
the key and charged in the bin's own transaction. Every refusal still charges exactly what the
contract's order of checks says, and keys without the hint work the old way."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from openbin.clock import now_iso
from openbin.keys import account_hint, generate_key, hash_key
from openbin.models import KeyRecord
from openbin.storage import dynamo

EXHAUSTED = "Requests exhausted. Buy additional requests at https://jsonbin.io/pricing"
FREE_TOO_BIG = (
    "Free users cannot create a record over 100kb. Upgrade to Pro plan to create records upto 1mb"
)


def remaining(handler_api, account) -> int:
    return handler_api.op("account.show", account_id=account.account_id)["requestsRemaining"]


def usage(handler_api, account) -> tuple[int, int]:
    shown = handler_api.op("account.show", account_id=account.account_id)
    return shown.get("bins", 0), shown.get("storedBytes", 0)


def s3_objects(storage) -> list[str]:
    s3 = storage.records._s3
    listed = s3.list_objects_v2(Bucket=storage.settings.records_bucket)
    return [o["Key"] for o in listed.get("Contents", [])]


def test_keys_carry_their_account(handler_api):
    account = handler_api.account()
    assert account_hint(account.key) == account.account_id
    access = handler_api.access_key(account, "create")
    assert account_hint(access) == account.account_id
    assert account_hint("not a key") is None


def test_a_create_is_two_round_trips(handler_api, calls):
    account = handler_api.account(requests=10)
    calls.clear()
    reply = handler_api.post("/v3/b", {"a": 1}, {"X-Master-Key": account.key})
    assert reply.status == 200
    assert calls == ["dynamodb:BatchGetItem", "dynamodb:TransactWriteItems"]
    assert reply.header("X-Requests-Remaining") == "9"
    assert remaining(handler_api, account) == 9
    assert usage(handler_api, account)[0] == 1


def test_a_create_into_a_collection_and_with_an_access_key_too(handler_api, calls):
    account = handler_api.account(requests=10)
    collection = handler_api.collection(account)
    access = handler_api.access_key(account, "create")
    calls.clear()
    reply = handler_api.post(
        "/v3/b",
        [1],
        {"X-Access-Key": access, "X-Collection-Id": collection["collectionId"]},
    )
    assert reply.status == 200, reply.body
    assert reply.json()["metadata"]["collectionId"] == collection["collectionId"]
    assert calls == ["dynamodb:BatchGetItem", "dynamodb:TransactWriteItems"]
    assert reply.header("X-Requests-Remaining") == "9"


def test_a_large_record_adds_one_s3_call(handler_api, calls):
    account = handler_api.account("pro", requests=10)
    calls.clear()
    record = {"rows": [f"row {i} {'x' * (i % 50)}" for i in range(20_000)]}
    reply = handler_api.post("/v3/b", record, {"X-Master-Key": account.key})
    assert reply.status == 200
    assert calls == ["dynamodb:BatchGetItem", "s3:PutObject", "dynamodb:TransactWriteItems"]


def test_a_key_without_the_hint_still_works(handler_api, storage, calls):
    account = handler_api.account(requests=10)
    legacy = generate_key()  # as imported from elsewhere: no account in it
    assert account_hint(legacy) != account.account_id
    storage.keys.put(
        KeyRecord(hash_key(legacy), account.account_id, kind="master", created_at=now_iso())
    )
    calls.clear()
    reply = handler_api.post("/v3/b", {"a": 1}, {"X-Master-Key": legacy})
    assert reply.status == 200
    assert calls == [
        "dynamodb:BatchGetItem",
        "dynamodb:UpdateItem",
        "dynamodb:TransactWriteItems",
    ]
    assert reply.header("X-Requests-Remaining") == "9"
    assert remaining(handler_api, account) == 9


def test_a_forged_hint_gets_nothing(handler_api):
    victim = handler_api.account(requests=10)
    forged = generate_key(victim.account_id)  # names the victim, but is no key of theirs
    reply = handler_api.post("/v3/b", {"a": 1}, {"X-Master-Key": forged})
    assert (reply.status, reply.message) == (401, "Invalid X-Master-Key provided")
    assert remaining(handler_api, victim) == 10


@pytest.mark.parametrize(
    ("body", "headers", "status", "message"),
    [
        (b"{nope", {"Content-Type": "application/json"}, 400, "Invalid JSON provided"),
        (b"{}", {"Content-Type": "application/json"}, 400, "Bin cannot be blank"),
        (b"[1]", {"Content-Type": "text/plain"}, 400, None),
        (b"[1]", {"Content-Type": "application/json", "X-Bin-Private": "maybe"}, 400, None),
        (b"[1]", {"Content-Type": "application/json", "X-Collection-Id": "x"}, 400, None),
    ],
)
def test_a_refused_create_is_charged_once(handler_api, storage, body, headers, status, message):
    account = handler_api.account(requests=5)
    reply = handler_api.post("/v3/b", body, {"X-Master-Key": account.key, **headers})
    assert reply.status == status
    if message:
        assert reply.message == message
    assert reply.header("X-Requests-Remaining") == "4"
    assert remaining(handler_api, account) == 4
    assert usage(handler_api, account) == (0, 0)


def test_the_size_limit_of_the_plan_is_charged_once(handler_api):
    account = handler_api.account("free", requests=5)
    reply = handler_api.post("/v3/b", {"big": "x" * 110_000}, {"X-Master-Key": account.key})
    assert (reply.status, reply.message) == (403, FREE_TOO_BIG)
    assert reply.header("X-Requests-Remaining") == "4"
    assert remaining(handler_api, account) == 4


def test_an_exhausted_account_wins_over_a_bad_body(handler_api):
    account = handler_api.account(requests=0)
    reply = handler_api.post(
        "/v3/b", b"{nope", {"X-Master-Key": account.key, "Content-Type": "application/json"}
    )
    assert (reply.status, reply.message) == (403, EXHAUSTED)
    assert reply.header("X-Requests-Remaining") == "0"


def change_account_after_read(monkeypatch, change):
    """Run ``change`` right after the create's BatchGetItem: as if another request changed the
    account between the two round trips."""
    import openbin.storage.batch as batch

    original = dynamo.batch_get
    done = []

    def batch_get(client, wanted):
        found = original(client, wanted)
        if not done:
            done.append(True)
            change()
        return found

    monkeypatch.setattr(batch, "batch_get", batch_get)


@pytest.mark.fresh_world  # counts every object in the bucket
def test_allowance_used_up_between_the_round_trips(handler_api, storage, monkeypatch, calls):
    account = handler_api.account("pro", requests=1)

    def use_it_up():
        storage.accounts.charge(account.account_id)

    change_account_after_read(monkeypatch, use_it_up)
    record = {"rows": [f"row {i} {'x' * (i % 50)}" for i in range(20_000)]}  # goes to S3
    calls.clear()
    reply = handler_api.post("/v3/b", record, {"X-Master-Key": account.key})
    assert (reply.status, reply.message) == (403, EXHAUSTED)
    assert reply.header("X-Requests-Remaining") == "0"
    assert remaining(handler_api, account) == 0
    assert usage(handler_api, account) == (0, 0)
    assert s3_objects(storage) == []  # the object written for it is gone again
    assert "dynamodb:UpdateItem" in calls  # the charge that said why


BIG = {"big": "x" * 110_000}


@pytest.mark.parametrize(
    ("plan", "change", "body", "answer", "left", "bins"),
    [
        # blocked: refused, and not charged
        ("free", "block", [1], (403, "Account blocked. Contact the administrator"), 5, 0),
        # moved to the free plan: the record is now too large; charged once
        ("pro", "set-plan", BIG, (403, FREE_TOO_BIG), 4, 0),
        # another request charged meanwhile: created all the same, both charged once
        ("free", "charge", [1], (200, None), 3, 1),
    ],
    ids=["blocked", "plan-changed", "another-request"],
)
def test_account_changed_between_the_round_trips(
    handler_api, storage, monkeypatch, plan, change, body, answer, left, bins
):
    account = handler_api.account(plan, requests=5)
    changes = {
        "block": lambda: storage.accounts.set_blocked(account.account_id, True),
        "set-plan": lambda: storage.accounts.set_plan(account.account_id, "free"),
        "charge": lambda: storage.accounts.charge(account.account_id),
    }
    change_account_after_read(monkeypatch, changes[change])
    reply = handler_api.post("/v3/b", body, {"X-Master-Key": account.key})
    assert (reply.status, reply.message if reply.status != 200 else None) == answer
    assert remaining(handler_api, account) == left
    assert usage(handler_api, account)[0] == bins
    if not bins:
        assert usage(handler_api, account) == (0, 0)


def test_concurrent_creates_stop_exactly_at_the_allowance(handler_api):
    account = handler_api.account(requests=6)

    def create(_):
        reply = handler_api.post("/v3/b", [1], {"X-Master-Key": account.key})
        return reply.status

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(pool.map(create, range(14)))
    assert statuses == [200] * 6 + [403] * 8
    assert remaining(handler_api, account) == 0
    assert usage(handler_api, account)[0] == 6


# -- Idempotency-Key (docs/API.md §3.11) -----------------------------------------------------
def idempotent(key: str, master: str) -> dict:
    return {"X-Master-Key": master, "Idempotency-Key": key}


def test_an_idempotent_create_is_two_round_trips_and_its_replay_one(handler_api, calls):
    account = handler_api.account(requests=10)
    calls.clear()
    first = handler_api.post("/v3/b", {"a": 1}, idempotent("k", account.key))
    assert first.status == 200
    assert calls == ["dynamodb:BatchGetItem", "dynamodb:TransactWriteItems"]
    calls.clear()
    again = handler_api.post("/v3/b", {"a": 1}, idempotent("k", account.key))
    assert again.json() == first.json()
    assert calls == ["dynamodb:BatchGetItem"]  # the key, its account and the remembered create
    assert again.header("X-Requests-Remaining") == "9"
    assert remaining(handler_api, account) == 9


def test_a_key_without_the_hint_reads_its_account_and_key_once_more(handler_api, storage, calls):
    account = handler_api.account(requests=10)
    legacy = generate_key()
    storage.keys.put(
        KeyRecord(hash_key(legacy), account.account_id, kind="master", created_at=now_iso())
    )
    calls.clear()
    first = handler_api.post("/v3/b", {"a": 1}, idempotent("k", legacy))
    assert first.status == 200
    # Charged in the bin's transaction: the second read brings the account too.
    assert calls == [
        "dynamodb:BatchGetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:TransactWriteItems",
    ]
    calls.clear()
    again = handler_api.post("/v3/b", {"a": 1}, idempotent("k", legacy))
    assert again.json() == first.json()
    assert calls == ["dynamodb:BatchGetItem", "dynamodb:BatchGetItem"]
    assert remaining(handler_api, account) == 9
    # The same key sent with the account's hinted master key finds the same create.
    assert handler_api.post("/v3/b", {"a": 1}, idempotent("k", account.key)).json() == first.json()


def test_a_create_that_loses_its_key_to_a_concurrent_one_answers_as_the_winner(
    handler_api, storage, calls, monkeypatch
):
    """The race made deterministic: the remembered create is not there when the key is read,
    and is there when the transaction runs. The loser is not charged, leaves no object behind,
    and answers the winner's answer (or a 422 for a different body)."""
    from openbin.storage import batch

    account = handler_api.account("pro", requests=10)
    record = {"rows": [f"row {i} {'x' * (i % 50)}" for i in range(20_000)]}  # stored in S3
    winner = handler_api.post("/v3/b", record, idempotent("race", account.key))
    objects = s3_objects(storage)
    real_read = batch.read

    def read_before_the_winner(storage, wanted):
        found = real_read(storage, wanted)
        found.remembered = None
        return found

    monkeypatch.setattr(batch, "read", read_before_the_winner)
    monkeypatch.setattr(type(storage), "read", lambda self, wanted: batch.read(self, wanted))
    calls.clear()
    loser = handler_api.post("/v3/b", record, idempotent("race", account.key))
    assert loser.status == 200 and loser.json() == winner.json()
    assert loser.header("Idempotent-Replayed") == "true"
    assert calls == [
        "dynamodb:BatchGetItem",
        "s3:PutObject",
        "dynamodb:TransactWriteItems",  # refused: the key is taken
        "s3:DeleteObjects",  # the loser's object, referenced by nothing
        "dynamodb:GetItem",  # the winner's answer
    ]
    assert s3_objects(storage) == objects
    assert remaining(handler_api, account) == 9
    assert usage(handler_api, account)[0] == 1
    different = handler_api.post("/v3/b", {"other": 1}, idempotent("race", account.key))
    assert different.status == 422
    assert remaining(handler_api, account) == 8


def test_a_key_is_remembered_for_the_configured_hours(handler_api, monkeypatch):
    from openbin import clock
    from openbin import storage as storage_module

    monkeypatch.setenv("OPENBIN_IDEMPOTENCY_HOURS", "2")
    storage_module.reset()
    account = handler_api.account(requests=10)
    now = clock.epoch()
    first = handler_api.post("/v3/b", {"a": 1}, idempotent("hours", account.key))
    monkeypatch.setattr(clock, "epoch", lambda: now + 2 * 3600 - 5)
    assert handler_api.post("/v3/b", {"a": 1}, idempotent("hours", account.key)).json() == (
        first.json()
    )
    monkeypatch.setattr(clock, "epoch", lambda: now + 2 * 3600 + 5)  # forgotten: a new create
    later = handler_api.post("/v3/b", {"b": 2}, idempotent("hours", account.key))
    assert later.status == 200 and later.header("Idempotent-Replayed") is None
    assert later.json()["metadata"]["id"] != first.json()["metadata"]["id"]
    assert usage(handler_api, account)[0] == 2
    assert remaining(handler_api, account) == 8
