"""The repositories' contract, run against the real ones (moto) and the in-memory fakes
(``tests.fakes``) alike: what the services rely on, so a fake that drifts fails here."""

from __future__ import annotations

import pytest

from openbin import clock, ids
from openbin.models import (
    Account,
    Bin,
    Collection,
    KeyRecord,
    ListingCursor,
    RecordRef,
    RememberedCreate,
    SchemaDoc,
)
from openbin.storage.accounts import ChargeRefused
from openbin.storage.batch import Wanted
from openbin.storage.bins import AccountChanged, Charge, RevisionConflict
from openbin.storage.idempotency import AlreadyCreated
from openbin.storage.keys import KeyLimitReached
from tests.fakes import FakeStorage


@pytest.fixture(params=["moto", "fake"])
def repos(request):
    if request.param == "fake":
        return FakeStorage()
    return request.getfixturevalue("storage")


def new_account(repos, plan="free", requests=5) -> Account:
    account = Account(ids.new_id(), plan, requests, "2026-01-01T00:00:00Z")
    repos.accounts.create(account)
    return account


def new_bin(
    repos,
    owner: Account,
    size=10,
    private=True,
    collection_id=None,
    created_at="2026-01-01T00:00:00.000Z",
) -> Bin:
    bin = Bin(
        bin_id=ids.new_id(),
        owner_id=owner.account_id,
        private=private,
        created_at=created_at,
        latest_version=0,
        record=repos.records.save("x", b"x" * size),
        revision="r0",
        collection_id=collection_id,
    )
    repos.bins.create(bin)
    return bin


def ref(size: int) -> RecordRef:
    return RecordRef(size=size, inline=b"\x00")


def test_a_charge_takes_one_request_and_refuses_with_the_account_as_it_is(repos):
    account = new_account(repos, requests=1)
    assert repos.accounts.charge(account.account_id).requests_remaining == 0
    with pytest.raises(ChargeRefused) as refused:
        repos.accounts.charge(account.account_id)
    assert refused.value.account.requests_remaining == 0
    other = new_account(repos)
    repos.accounts.set_blocked(other.account_id, True)
    with pytest.raises(ChargeRefused) as refused:
        repos.accounts.charge(other.account_id)
    assert (refused.value.account.blocked, refused.value.account.requests_remaining) == (True, 5)
    with pytest.raises(ChargeRefused) as refused:
        repos.accounts.charge(ids.new_id())
    assert refused.value.account is None
    assert repos.accounts.add_requests(ids.new_id(), 1) is None


def test_a_create_that_charges_is_refused_whole_if_the_account_changed(repos):
    account = new_account(repos, plan="free")
    bin = Bin(ids.new_id(), account.account_id, True, "t", 0, ref(7), "r0")
    with pytest.raises(AccountChanged):
        repos.bins.create(bin, Charge(plan="pro"))
    assert repos.bins.get(bin.bin_id) is None
    assert repos.accounts.get(account.account_id).requests_remaining == 5
    repos.bins.create(bin, Charge(plan="free"))
    after = repos.accounts.get(account.account_id)
    assert (after.requests_remaining, after.bins, after.stored_bytes) == (4, 1, 7)


def test_a_write_on_a_stale_revision_is_refused_with_the_bin_as_it_is(repos):
    account = new_account(repos)
    bin = new_bin(repos, account)
    assert repos.bins.append_version(bin, ref(20), "t1", "r1") == 1
    with pytest.raises(RevisionConflict) as conflict:
        repos.bins.replace_latest(bin, ref(30), "r2")  # still at r0
    current = conflict.value.current
    assert (current.revision, current.latest_version, current.record.size) == ("r1", 1, 20)
    assert repos.bins.get(bin.bin_id).revision == "r1"


def test_versions_keep_each_replaced_record_and_usage_counts_every_byte(repos):
    account = new_account(repos)
    bin = new_bin(repos, account, size=10)
    first = repos.bins.get(bin.bin_id)
    assert repos.bins.append_version(first, ref(20), "t1", "r1") == 1
    second = repos.bins.get(bin.bin_id)
    assert repos.bins.append_version(second, ref(30), "t2", "r2") == 2
    assert repos.bins.get_version(bin.bin_id, 0).record.size == 10
    assert repos.bins.get_version(bin.bin_id, 1).record.size == 20
    assert repos.bins.get_version(bin.bin_id, 2) is None  # the latest is the bin itself
    listed = repos.bins.list_versions(bin.bin_id)
    assert [(v.version, v.record.size) for v in listed] == [(0, 10), (1, 20)]
    assert repos.accounts.get(account.account_id).stored_bytes == 60
    third = repos.bins.get(bin.bin_id)
    repos.bins.replace_latest(third, ref(5), "r3")
    assert repos.accounts.get(account.account_id).stored_bytes == 35


def test_history_items_are_deleted_only_while_they_are_the_ones_listed(repos):
    account = new_account(repos)
    bin = new_bin(repos, account)
    repos.bins.append_version(repos.bins.get(bin.bin_id), ref(20), "t1", "r1")
    listed = repos.bins.list_versions(bin.bin_id)
    repos.bins.reset_history(repos.bins.get(bin.bin_id), ref(20), "r2", freed=10)
    repos.bins.append_version(repos.bins.get(bin.bin_id), ref(40), "t3", "r3")  # a new version 0
    assert repos.bins.delete_versions(bin.bin_id, listed) is True
    kept = repos.bins.list_versions(bin.bin_id)
    assert [(v.version, v.record.size) for v in kept] == [(0, 20)]


def test_deleting_a_bin_uncounts_it_and_its_history(repos):
    account = new_account(repos)
    bin = new_bin(repos, account, size=10)
    repos.bins.append_version(repos.bins.get(bin.bin_id), ref(20), "t1", "r1")
    current = repos.bins.get(bin.bin_id)
    with pytest.raises(RevisionConflict):
        repos.bins.delete_bin(bin, history_bytes=0)  # read before the append
    repos.bins.delete_bin(current, history_bytes=10)
    after = repos.accounts.get(account.account_id)
    assert (after.bins, after.stored_bytes) == (0, 0)
    assert repos.bins.get(bin.bin_id) is None
    assert repos.bins.rename(bin.bin_id, "gone") is False


def test_pages_list_a_collections_bins_in_creation_order_after_the_cursor(repos):
    """By createdAt, then ID (IDs are random within their second): the two made in the same
    millisecond list by ID."""
    account = new_account(repos)
    times = ["00.001", "00.002", "00.002", "00.010", "01.000"]
    made = [
        new_bin(repos, account, collection_id="c" * 24, created_at=f"2026-01-01T00:00:{t}Z")
        for t in times
    ]
    made[1:3] = sorted(made[1:3], key=lambda b: b.bin_id)
    order = [b.bin_id for b in made]
    loose = new_bin(repos, account)
    page = repos.bins.page(account.account_id, "c" * 24, None, True, limit=3)
    assert [b.bin_id for b in page] == order[:3]
    after = ListingCursor(made[2].bin_id, made[2].created_at)
    page = repos.bins.page(account.account_id, "c" * 24, after, True, limit=3)
    assert [b.bin_id for b in page] == order[3:]
    page = repos.bins.page(account.account_id, "c" * 24, after, False, limit=3)
    assert [b.bin_id for b in page] == order[:2][::-1]
    gone = ListingCursor("f" * 24, "2026-01-01T00:00:00.005Z")  # between two, in no bin
    page = repos.bins.page(account.account_id, "c" * 24, gone, True, limit=3)
    assert [b.bin_id for b in page] == order[3:]
    assert [b.bin_id for b in repos.bins.page(account.account_id, None, None, True)] == [
        loose.bin_id
    ]


def test_access_keys_stop_at_the_limit_and_are_deleted_once(repos):
    account = new_account(repos)

    def key(n):
        return KeyRecord(
            f"{account.account_id}-{n}",
            account.account_id,
            "access",
            "t",
            ids.new_id(),
            f"k{n}",
            {"read": True},
        )

    first, second = key(1), key(2)
    repos.keys.create_access_key(first, limit=1)
    with pytest.raises(KeyLimitReached):
        repos.keys.create_access_key(second, limit=1)
    assert repos.accounts.get(account.account_id).access_keys == 1
    assert [k.name for k in repos.keys.access_keys_of(account.account_id)] == ["k1"]
    assert repos.keys.delete_access_key(first) is True
    assert repos.keys.delete_access_key(first) is False
    assert repos.accounts.get(account.account_id).access_keys == 0


def test_collections_and_schema_docs_change_only_when_they_exist(repos):
    owner = new_account(repos)
    collection = Collection(ids.new_id(), owner.account_id, "c", "t")
    repos.collections.put(collection)
    attached = repos.collections.set_schema_doc(collection.collection_id, "s" * 24)
    assert (attached.collection.schema_doc_id, attached.previous) == ("s" * 24, None)
    detached = repos.collections.set_schema_doc(collection.collection_id, None)
    assert (detached.collection.schema_doc_id, detached.previous) == (None, "s" * 24)
    assert repos.collections.get(collection.collection_id) == detached.collection
    assert repos.collections.set_schema_doc(ids.new_id(), None) is None
    assert repos.collections.rename(ids.new_id(), "x") is None
    doc = SchemaDoc(ids.new_id(), owner.account_id, "d", "{}", "t")
    repos.schema_docs.put(doc)
    assert repos.schema_docs.replace_schema(doc.schema_doc_id, "true").revision == 1
    assert repos.schema_docs.replace_schema(ids.new_id(), "true") is None
    assert [c.name for c in repos.collections.list_by_owner(owner.account_id)] == ["c"]


def test_a_create_takes_its_idempotency_key_in_its_own_transaction(repos, monkeypatch):
    """A key names the bin its create made, for its account only; a second create under a live
    key is refused whole (no bin, no charge, no counters); an expired key is free again."""
    account, other = new_account(repos), new_account(repos)
    now = clock.epoch()
    first = Bin(ids.new_id(), account.account_id, False, "t0", 0, ref(7), "r0", name="n")
    repos.bins.create(first, Charge(plan="free"), RememberedCreate("k-1", "h1", first, now + 60))
    kept = repos.idempotency.get(account.account_id, "k-1")
    assert kept is not None
    assert (kept.request_hash, kept.expires_at) == ("h1", now + 60)
    assert (kept.bin.bin_id, kept.bin.private, kept.bin.created_at) == (first.bin_id, False, "t0")
    assert (kept.bin.revision, kept.bin.name, kept.bin.record.size) == ("r0", "n", 7)
    assert kept.bin.collection_id is None and kept.bin.owner_id == account.account_id
    found = repos.read(
        Wanted(account_id=account.account_id, idempotency=(account.account_id, "k-1"))
    )
    assert found.remembered == kept
    assert repos.idempotency.get(other.account_id, "k-1") is None  # scoped to the account
    assert repos.idempotency.get(account.account_id, "k-2") is None

    second = Bin(ids.new_id(), account.account_id, True, "t1", 0, ref(9), "r1")
    with pytest.raises(AlreadyCreated):
        repos.bins.create(
            second, Charge(plan="free"), RememberedCreate("k-1", "h2", second, now + 60)
        )
    assert repos.bins.get(second.bin_id) is None
    after = repos.accounts.get(account.account_id)
    assert (after.requests_remaining, after.bins, after.stored_bytes) == (4, 1, 7)
    theirs = Bin(ids.new_id(), other.account_id, True, "t1", 0, ref(9), "r1")
    repos.bins.create(theirs, None, RememberedCreate("k-1", "h2", theirs, now + 60))

    monkeypatch.setattr(clock, "epoch", lambda: now + 60)  # the moment it expires
    assert repos.idempotency.get(account.account_id, "k-1") is None
    repos.bins.create(second, None, RememberedCreate("k-1", "h2", second, now + 120))
    again = repos.idempotency.get(account.account_id, "k-1")
    assert again is not None and again.bin.bin_id == second.bin_id
