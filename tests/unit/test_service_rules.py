"""Service rules on in-memory repositories (``tests.fakes``): the domain's decisions alone, in
milliseconds. What the rules look like on the wire is the contract tests' business; that the
fakes behave as the real repositories do is ``tests/storage/test_repository_contract.py``'s.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from openbin import ids
from openbin.clock import now_iso
from openbin.errors import InvalidRequest, NotAllowed, NotAuthenticated, NotFound
from openbin.services import auth
from openbin.services.access_keys import AccessKeyService
from openbin.services.accounts import AccountService
from openbin.services.auth import Credentials
from openbin.services.bin_meta import BinMetaService
from openbin.services.bins import BinService, CreateRequest, ReadRequest, UpdateRequest
from openbin.services.collections import CollectionService
from openbin.services.usage import UsageService
from tests.fakes import FakeStorage

EXHAUSTED = "Requests exhausted. Buy additional requests at https://jsonbin.io/pricing"
BLOCKED = "Account blocked. Contact the administrator"
NOT_FOUND = "Bin not found or it doesn't belong to your account"


@pytest.fixture(autouse=True)
def no_pauses(monkeypatch):
    """Retries after a lost race pause for real on AWS; here the rules, not the timing."""
    monkeypatch.setattr("openbin.retry.time.sleep", lambda seconds: None)


@pytest.fixture
def storage() -> FakeStorage:
    return FakeStorage()


def account(storage, plan="free", requests=None) -> tuple[str, Credentials]:
    made, master = AccountService(storage).create_account(plan, requests)
    return made.account_id, Credentials(master_key=master)


def body(value) -> bytes:
    return json.dumps(value).encode()


def create(storage, creds, value=None, **fields) -> str:
    value = {"a": 1} if value is None else value
    request = CreateRequest(creds, content_type="application/json", body=body(value))
    for name, field_value in fields.items():
        setattr(request, name, field_value)
    return BinService(storage).create(request).bin.bin_id


def remaining(storage, account_id) -> int:
    return storage.accounts.get(account_id).requests_remaining


# -- versions --------------------------------------------------------------------------------
def test_versioned_writes_append_and_unversioned_writes_replace_the_latest(storage):
    _, creds = account(storage, "pro")
    bin_id = create(storage, creds, {"n": 0})
    service = BinService(storage)
    assert [service.write_version(bin_id, body({"n": k}), True) for k in (1, 2)] == [1, 2]
    assert service.write_version(bin_id, body({"n": 22}), False) is None
    assert storage.bins.get(bin_id).latest_version == 2

    def read(version):
        request = ReadRequest(creds, bin_id, version=version)
        return json.loads(service.read(request).record_json)

    assert [read("0"), read("1"), read("2"), read("latest")] == [
        {"n": 0},
        {"n": 1},
        {"n": 22},
        {"n": 22},
    ]
    with pytest.raises(NotFound, match="Bin version not found"):
        read("3")


def test_past_the_version_limit_writes_replace_the_latest(storage):
    _, creds = account(storage, "pro")
    bin_id = create(storage, creds)
    service = BinService(storage.with_settings(max_versions=2))
    numbers = [service.write_version(bin_id, body({"n": k}), True) for k in (1, 2, 3)]
    assert numbers == [1, 2, None]
    assert storage.bins.get(bin_id).latest_version == 2


def test_concurrent_versioned_writes_each_get_a_number_of_their_own(storage):
    _, creds = account(storage, "pro")
    bin_id = create(storage, creds, {"n": 0})
    service = BinService(storage)
    with ThreadPoolExecutor(max_workers=16) as pool:
        numbers = list(pool.map(lambda n: service.write_version(bin_id, body(n), True), range(40)))
    assert sorted(numbers) == list(range(1, 41))
    assert storage.bins.get(bin_id).latest_version == 40


def test_a_write_to_a_missing_bin_is_not_found_and_leaves_no_object(storage):
    service = BinService(storage.with_settings(inline_record_limit=0))
    with pytest.raises(NotFound, match=NOT_FOUND):
        service.write_version(ids.new_id(), b"[1]", True)
    assert storage.tables.objects == {}


def test_replaced_and_deleted_records_leave_no_objects_behind(storage):
    storage = storage.with_settings(inline_record_limit=0)  # every record is an object
    account_id, creds = account(storage, "pro")
    bin_id = create(storage, creds, {"n": 0})
    service = BinService(storage)
    service.write_version(bin_id, body({"n": 1}), True)
    service.write_version(bin_id, body({"n": 2}), False)
    assert len(storage.records.keys_of_bin(bin_id)) == 2  # version 0 and the latest
    assert service.delete(creds, bin_id).versions_deleted == 1
    assert storage.records.keys_of_bin(bin_id) == []


# -- usage counters --------------------------------------------------------------------------
def test_usage_counts_bins_and_every_stored_byte_history_included(storage):
    account_id, creds = account(storage, "pro")
    first = create(storage, creds, {"n": 0})
    second = create(storage, creds, {"s": "x" * 100})
    service = BinService(storage)
    service.write_version(first, body({"n": 1}), True)
    sizes = len(body({"n": 0})) + len(body({"s": "x" * 100})) + len(body({"n": 1}))
    usage = UsageService(storage).usage(creds)
    assert (usage.account.bins, usage.account.stored_bytes) == (2, sizes)
    service.delete(creds, first)
    usage = UsageService(storage).usage(creds)
    assert (usage.account.bins, usage.account.stored_bytes) == (1, len(body({"s": "x" * 100})))
    assert BinMetaService(storage).count_versions(creds, second).latest_version == 0


def test_deleting_versions_keeps_the_base_or_the_latest_and_frees_the_rest(storage):
    account_id, creds = account(storage, "pro")
    bin_id = create(storage, creds, {"n": 0})
    service = BinService(storage)
    for k in (1, 2):
        service.write_version(bin_id, body({"n": k}), True)
    result = BinMetaService(storage).delete_versions(creds, bin_id, True)
    assert (result.count, result.latest_preserved) == (2, True)
    bin = storage.bins.get(bin_id)
    assert (bin.latest_version, json.loads(storage.records.load(bin.record))) == (0, {"n": 2})
    assert storage.accounts.get(account_id).stored_bytes == len(body({"n": 2}))
    again = BinMetaService(storage).delete_versions(creds, bin_id, False)  # none left
    assert (again.count, storage.bins.get(bin_id)) == (0, bin)


# -- the gate: who may do what, and what is charged --------------------------------------------
def test_a_create_costs_one_read_and_one_request(storage):
    account_id, creds = account(storage, requests=5)
    create(storage, creds)
    assert (storage.reads, remaining(storage, account_id)) == (1, 4)


def test_a_refused_create_is_still_charged(storage):
    account_id, creds = account(storage, requests=5)
    request = CreateRequest(creds, content_type="application/json", body=b"{nope")
    with pytest.raises(InvalidRequest):
        BinService(storage).create(request)
    assert remaining(storage, account_id) == 4


def test_an_exhausted_account_is_refused_before_its_body_is_looked_at(storage):
    account_id, creds = account(storage, requests=0)
    request = CreateRequest(creds, content_type="text/plain", body=b"{nope")
    with pytest.raises(NotAllowed, match="Requests exhausted"):
        BinService(storage).create(request)
    assert auth.requests_remaining.get() == 0
    assert remaining(storage, account_id) == 0


def test_a_private_bin_is_closed_to_other_accounts_and_to_keyless_requests(storage):
    _, owner = account(storage)
    _, other = account(storage)
    bin_id = create(storage, owner)
    service = BinService(storage)
    with pytest.raises(NotAuthenticated, match="doesn't belong to your account"):
        service.read(ReadRequest(other, bin_id))
    with pytest.raises(NotAuthenticated, match="to read a private bin"):
        service.read(ReadRequest(Credentials(), bin_id))


def test_a_public_bin_charges_its_owner_for_keyless_reads(storage):
    owner_id, owner = account(storage, requests=10)
    bin_id = create(storage, owner, private=False)
    BinService(storage).read(ReadRequest(Credentials(), bin_id))
    assert remaining(storage, owner_id) == 8  # the create, then the read


def test_a_blocked_owner_closes_its_public_bins_to_every_key(storage):
    owner_id, owner = account(storage)
    _, other = account(storage)
    bin_id = create(storage, owner, private=False)
    AccountService(storage).set_blocked(owner_id, True)
    service = BinService(storage)
    for creds in (Credentials(), other):
        with pytest.raises(NotAllowed, match=BLOCKED):
            service.read(ReadRequest(creds, bin_id))
        with pytest.raises(NotAllowed, match=BLOCKED):
            service.update(
                UpdateRequest(creds, bin_id, content_type="application/json", body=b"{}")
            )


def test_an_access_key_may_do_only_what_it_was_given(storage):
    account_id, master = account(storage)
    bin_id = create(storage, master)
    made = AccessKeyService(storage).issue(account_id, "reader", {"read": True})
    reader = Credentials(access_key=made.key)
    BinService(storage).read(ReadRequest(reader, bin_id))
    with pytest.raises(NotAllowed, match="does not have permission to update"):
        BinService(storage).update(
            UpdateRequest(reader, bin_id, content_type="application/json", body=b"{}")
        )


# -- access keys ------------------------------------------------------------------------------
def test_access_keys_stop_at_the_limit_and_a_deleted_one_frees_a_place(storage):
    storage = storage.with_settings(max_access_keys=2)
    account_id, master = account(storage)
    service = AccessKeyService(storage)
    made = [service.issue(account_id, f"k{n}", {"read": True}) for n in range(2)]
    with pytest.raises(NotAllowed, match="You can only create up to 2 Access Keys"):
        service.issue(account_id, "k3", {"read": True})
    service.delete(master, made[0].record.access_key_id)
    service.issue(account_id, "k3", {"read": True})
    assert sorted(k.name for k in service.list_for(master)) == ["k1", "k3"]


def test_another_accounts_access_key_is_not_found(storage):
    owner_id, _ = account(storage)
    _, other = account(storage)
    made = AccessKeyService(storage).issue(owner_id, "k", {"read": True})
    with pytest.raises(NotFound, match="Access Key not found"):
        AccessKeyService(storage).delete(other, made.record.access_key_id)


# -- collections --------------------------------------------------------------------------------
def test_a_collection_lists_its_bins_ten_a_page_in_either_order(storage):
    _, creds = account(storage, "pro")
    service = CollectionService(storage)
    collection = service.create(creds, "things")
    made = []  # in creation order, in distinct milliseconds (createdAt's resolution)
    for _ in range(23):
        made.append(create(storage, creds, collection_id=collection.collection_id))
        made_at = now_iso()
        while now_iso() == made_at:  # (time.sleep is a no-op in this module: see above)
            pass
    create(storage, creds)  # uncategorized
    pages, after = [], None
    while True:
        page = service.bins(creds, collection.collection_id, after, "ascending")
        if not page:
            break
        pages.append([b.bin_id for b in page])
        after = page[-1].bin_id
    assert [len(p) for p in pages] == [10, 10, 3]
    assert sum(pages, []) == made
    newest = service.bins(creds, collection.collection_id, None, None)
    assert [b.bin_id for b in newest] == made[::-1][:10]
    assert len(service.bins(creds, "uncategorized", None, None)) == 1


def test_a_bin_cannot_be_filed_into_another_accounts_collection(storage):
    _, owner = account(storage)
    _, other = account(storage)
    theirs = CollectionService(storage).create(other, "theirs")
    with pytest.raises(NotFound, match="Collection not found"):
        create(storage, owner, collection_id=theirs.collection_id)


# -- idempotent creates ------------------------------------------------------------------------
def test_what_makes_two_creates_the_same_request():
    from openbin.services.bins import request_hash

    creds = Credentials(master_key="k")

    def fingerprint(record=b"{}", **fields) -> str:
        return request_hash(CreateRequest(creds, **fields), record)

    base = fingerprint()
    assert fingerprint(content_type="application/json; charset=utf-8") == base  # not the type
    assert fingerprint(idempotency_key="another") == base
    different = [
        fingerprint(b"[]"),
        fingerprint(xl=True),
        fingerprint(private_sent="false"),
        fingerprint(private_sent="true"),  # as sent: the default written out is another request
        fingerprint(name="n"),
        fingerprint(collection_id="0" * 24),
        fingerprint(name="a", collection_id="b"),
        fingerprint(name="a,b"),  # no two header values can be confused
        fingerprint(name='a", "b'),
    ]
    assert len({base, *different}) == len(different) + 1


def test_a_replay_is_answered_from_what_was_remembered(storage):
    from openbin.errors import KeyReused

    account_id, creds = account(storage, requests=5)
    service = BinService(storage)

    def idempotent(value, key="k", **fields):
        request = CreateRequest(
            creds, content_type="application/json", body=body(value), idempotency_key=key
        )
        for name, field_value in fields.items():
            setattr(request, name, field_value)
        return service.create(request)

    first = idempotent({"a": 1}, name="n")
    assert not first.replayed
    reads = storage.reads
    again = idempotent({"a": 1}, name="n")
    assert again.replayed and storage.reads == reads + 1
    assert (again.bin.bin_id, again.bin.created_at, again.bin.name) == (
        first.bin.bin_id,
        first.bin.created_at,
        "n",
    )
    assert (again.record_json, again.etag) == (first.record_json, first.etag)
    assert remaining(storage, account_id) == 4
    with pytest.raises(KeyReused):
        idempotent({"a": 2}, name="n")
    assert remaining(storage, account_id) == 3
    with pytest.raises(InvalidRequest):
        idempotent({"a": 1}, key="")
    assert remaining(storage, account_id) == 2
    assert storage.accounts.get(account_id).bins == 1


def test_a_create_charged_on_its_own_that_loses_its_key_is_not_charged_twice(storage, monkeypatch):
    """The account changed between the read and the write (so the request was charged on its
    own), and a concurrent create took the key meanwhile: the winner's answer, one charge."""
    from openbin.storage.bins import AccountChanged

    account_id, creds = account(storage, requests=5)
    service = BinService(storage)

    def idempotent(value):
        request = CreateRequest(
            creds, content_type="application/json", body=body(value), idempotency_key="k"
        )
        return service.create(request)

    real_create = storage.bins.create
    winner = {}

    def racing(bin, charge=None, remembered=None):
        if charge is not None and "result" not in winner:  # the account changed since read
            winner["result"] = None
            winner["result"] = idempotent({"a": 1})  # ... and the same request won the key
            raise AccountChanged()
        return real_create(bin, charge, remembered)

    monkeypatch.setattr(storage.bins, "create", racing)
    loser = idempotent({"a": 1})
    monkeypatch.setattr(storage.bins, "create", real_create)
    assert loser.replayed and loser.bin.bin_id == winner["result"].bin.bin_id
    assert remaining(storage, account_id) == 3  # the winner's charge and the loser's own
    assert storage.accounts.get(account_id).bins == 1
