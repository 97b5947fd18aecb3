"""docs/API.md §1: authentication table, request allowance, plans and the order of checks."""

import pytest

from tests.contract.conftest import PRICING, USERS

MISSING_READ = "You need to pass X-Master-Key or X-Access-Key in the header to read a private bin"
MISSING_CREATE = "You need to pass X-Master-Key or X-Access-Key in the header to create a bin"
FOREIGN_MASTER = "X-Master-Key is invalid or the bin doesn't belong to your account"
FOREIGN_ACCESS = "X-Access-Key is invalid or the bin doesn't belong to your account"
UNKNOWN_KEY = "$2a$10$" + "A" * 53
FREE_LIMIT = (
    "Free users cannot create a record over 100kb. Upgrade to Pro plan to create records upto 1mb"
)


def remaining(api, account) -> int:
    return api.op("account.show", account_id=account.account_id)["requestsRemaining"]


# -- no key ------------------------------------------------------------------------------------
def test_create_without_key(api):
    reply = api.post("/v3/b", USERS)
    assert (reply.status, reply.json()) == (401, {"message": MISSING_CREATE})


def test_read_private_without_key(api, private_bin):
    reply = api.get(f"/v3/b/{private_bin}")
    assert (reply.status, reply.json()) == (401, {"message": MISSING_READ})


def test_read_public_without_key(api, public_bin):
    reply = api.get(f"/v3/b/{public_bin}")
    assert reply.status == 200
    assert reply.json()["record"] == USERS


# -- unknown keys are never ignored ------------------------------------------------------------
@pytest.mark.parametrize("key", [UNKNOWN_KEY, "nonsense", "", "$2a$10$short"])
def test_unknown_master_key(api, public_bin, key):
    for reply in (
        api.post("/v3/b", USERS, {"X-Master-Key": key}),
        api.get(f"/v3/b/{public_bin}", {"X-Master-Key": key}),
    ):
        assert (reply.status, reply.json()) == (401, {"message": "Invalid X-Master-Key provided"})


def test_unknown_access_key(api, public_bin):
    for reply in (
        api.post("/v3/b", USERS, {"X-Access-Key": UNKNOWN_KEY}),
        api.get(f"/v3/b/{public_bin}", {"X-Access-Key": UNKNOWN_KEY}),
    ):
        assert (reply.status, reply.json()) == (401, {"message": "Invalid X-Access-Key provided"})


def test_keys_only_work_in_their_own_header(api, owner, private_bin):
    access = api.access_key(owner, "read")
    reply = api.get(f"/v3/b/{private_bin}", {"X-Master-Key": access})
    assert reply.json() == {"message": "Invalid X-Master-Key provided"}
    reply = api.get(f"/v3/b/{private_bin}", {"X-Access-Key": owner.key})
    assert reply.json() == {"message": "Invalid X-Access-Key provided"}


# -- another account's key ---------------------------------------------------------------------
def test_other_accounts_master_key_on_private_bin(api, other, private_bin):
    reply = api.get(f"/v3/b/{private_bin}", {"X-Master-Key": other.key})
    assert (reply.status, reply.json()) == (401, {"message": FOREIGN_MASTER})


def test_other_accounts_access_key_on_private_bin(api, other, private_bin):
    key = api.access_key(other, "read")
    reply = api.get(f"/v3/b/{private_bin}", {"X-Access-Key": key})
    assert (reply.status, reply.json()) == (401, {"message": FOREIGN_ACCESS})


def test_other_accounts_key_reads_public_bin_and_pays_for_it(api, owner, other, public_bin):
    owner_before, other_before = remaining(api, owner), remaining(api, other)
    reply = api.get(f"/v3/b/{public_bin}", {"X-Master-Key": other.key})
    assert reply.status == 200
    assert remaining(api, other) == other_before - 1
    assert remaining(api, owner) == owner_before


def test_keyless_public_read_counts_against_the_owner(api, owner, public_bin):
    before = remaining(api, owner)
    assert api.get(f"/v3/b/{public_bin}").status == 200
    assert remaining(api, owner) == before - 1


def test_keyless_answers_never_show_the_owners_allowance(api, owner, public_bin):
    for reply in (
        api.get(f"/v3/b/{public_bin}"),
        api.get(f"/v3/b/{public_bin}/latest?meta=false"),
        api.request("PUT", f"/v3/b/{public_bin}", {}, {"changed": True}),
        api.request("PUT", f"/v3/b/{public_bin}", {}, b"not json"),
    ):
        assert reply.status in (200, 400)
        assert reply.header("X-Requests-Remaining") is None
    drained = api.account(requests=1)
    shared = api.create_bin(drained, USERS, X_Bin_Private="false")  # uses the only request
    reply = api.get(f"/v3/b/{shared}")
    assert (reply.status, reply.json()) == (403, {"message": PRICING})
    assert reply.header("X-Requests-Remaining") is None


def test_every_answer_to_a_recognised_key_says_what_is_left(api, owner, other, private_bin):
    """Refusals before any charge (the bin does not exist, is another account's, the key lacks
    the permission) still say what the caller's account has left."""
    missing = "f" * 24
    owner_left, other_left = str(remaining(api, owner)), str(remaining(api, other))
    reader = api.access_key(owner, "read")
    for reply, left in (
        (api.get(f"/v3/b/{missing}", {"X-Master-Key": owner.key}), owner_left),
        (api.request("DELETE", f"/v3/b/{missing}", {"X-Master-Key": owner.key}), owner_left),
        (api.get(f"/v3/b/{private_bin}", {"X-Master-Key": other.key}), other_left),
        (api.request("DELETE", f"/v3/b/{private_bin}", {"X-Access-Key": reader}), owner_left),
        (api.get(f"/v3/c/{missing}/bins", {"X-Master-Key": owner.key}), owner_left),
        (api.get(f"/v3/s/{missing}", {"X-Master-Key": owner.key}), owner_left),
        (api.request("DELETE", f"/v3/a/{missing}", {"X-Master-Key": owner.key}), owner_left),
    ):
        assert reply.status in (401, 403, 404), reply.body
        assert reply.header("X-Requests-Remaining") == left, reply.body
    # and an unknown key is not recognised: nothing to say
    reply = api.get(f"/v3/b/{missing}", {"X-Master-Key": UNKNOWN_KEY})
    assert (reply.status, reply.header("X-Requests-Remaining")) == (401, None)


# -- access keys -------------------------------------------------------------------------------
def test_access_key_with_create_permission(api, owner):
    key = api.access_key(owner, "create")
    reply = api.post("/v3/b", USERS, {"X-Access-Key": key})
    assert reply.status == 200
    bin_id = reply.json()["metadata"]["id"]
    # the bin belongs to the key's account
    assert api.get(f"/v3/b/{bin_id}", {"X-Master-Key": owner.key}).status == 200


def test_access_key_without_create_permission(api, owner):
    key = api.access_key(owner, "read", "update", "delete")
    reply = api.post("/v3/b", USERS, {"X-Access-Key": key})
    assert (reply.status, reply.json()) == (
        403,
        {"message": "X-Access-Key passed does not have permission to create a bin."},
    )


def test_access_key_with_read_permission(api, owner, private_bin):
    key = api.access_key(owner, "read")
    reply = api.get(f"/v3/b/{private_bin}", {"X-Access-Key": key})
    assert reply.status == 200
    assert reply.json()["record"] == USERS


def test_access_key_without_read_permission(api, owner, private_bin, public_bin):
    key = api.access_key(owner, "create")
    for bin_id in (private_bin, public_bin):
        reply = api.get(f"/v3/b/{bin_id}", {"X-Access-Key": key})
        assert (reply.status, reply.json()) == (
            403,
            {"message": "X-Access-Key passed does not have permission to read the bin."},
        )


def test_master_key_wins_when_both_are_sent(api, owner, private_bin):
    key = api.access_key(owner, "create")
    reply = api.get(f"/v3/b/{private_bin}", {"X-Master-Key": owner.key, "X-Access-Key": key})
    assert reply.status == 200


@pytest.mark.parametrize("access_key", [UNKNOWN_KEY, "not-a-key"], ids=["unknown", "malformed"])
def test_a_key_that_matches_nothing_is_never_ignored_beside_a_valid_one(
    api, owner, private_bin, access_key
):
    before = remaining(api, owner)
    both = {"X-Master-Key": owner.key, "X-Access-Key": access_key}
    for reply in (
        api.get(f"/v3/b/{private_bin}", both),
        api.post("/v3/b", USERS, both),
        api.request("PUT", f"/v3/b/{private_bin}", both, USERS),
        api.get("/v3/c", both),
    ):
        assert (reply.status, reply.json()) == (401, {"message": "Invalid X-Access-Key provided"})
        assert reply.header("X-Requests-Remaining") is None
    assert remaining(api, owner) == before


def test_surrounding_whitespace_is_not_part_of_a_key(api, owner, private_bin):
    for key in (owner.key + "  ", " " + owner.key, "\t" + owner.key + " \t"):
        assert api.get(f"/v3/b/{private_bin}", {"X-Master-Key": key}).status == 200
    made = api.post("/v3/b", USERS, {"X-Master-Key": owner.key, "X-Bin-Name": "  padded \t"})
    assert made.json()["metadata"]["name"] == "padded"


# -- allowance ---------------------------------------------------------------------------------
def test_requests_exhausted_on_create_and_read(api):
    account = api.account(requests=2)
    bin_id = api.create_bin(account)
    assert api.get(f"/v3/b/{bin_id}", {"X-Master-Key": account.key}).status == 200
    for reply in (
        api.post("/v3/b", USERS, {"X-Master-Key": account.key}),
        api.get(f"/v3/b/{bin_id}", {"X-Master-Key": account.key}),
    ):
        assert (reply.status, reply.json()) == (403, {"message": PRICING})
    assert remaining(api, account) == 0


def test_exhausted_owner_stops_keyless_public_reads(api):
    account = api.account(requests=1)
    bin_id = api.create_bin(account, X_Bin_Private="false")
    reply = api.get(f"/v3/b/{bin_id}")
    assert (reply.status, reply.json()) == (403, {"message": PRICING})


def test_added_requests_are_usable(api):
    account = api.account(requests=1)
    bin_id = api.create_bin(account)
    assert api.get(f"/v3/b/{bin_id}", {"X-Master-Key": account.key}).status == 403
    api.op("account.add-requests", account_id=account.account_id, count=3)
    assert api.get(f"/v3/b/{bin_id}", {"X-Master-Key": account.key}).status == 200
    assert remaining(api, account) == 2


def test_plan_allowances_at_account_creation(api):
    assert remaining(api, api.account("free")) == 10_000
    assert remaining(api, api.account("pro")) == 100_000


def test_a_refused_body_still_counts_a_request(api):
    account = api.account(requests=5)
    reply = api.post(
        "/v3/b", b"{", {"X-Master-Key": account.key, "Content-Type": "application/json"}
    )
    assert reply.status == 400
    assert remaining(api, account) == 4


def test_refused_keys_and_permissions_do_not_count(api, owner, private_bin):
    before = remaining(api, owner)
    api.post("/v3/b", USERS, {"X-Access-Key": api.access_key(owner, "read")})
    api.get(f"/v3/b/{private_bin}", {"X-Access-Key": api.access_key(owner, "create")})
    api.get(f"/v3/b/{private_bin}")
    assert remaining(api, owner) == before


# -- blocked accounts ----------------------------------------------------------------------------
def test_blocked_account(api, owner, private_bin, public_bin):
    api.op("account.block", account_id=owner.account_id)
    blocked = {"message": "Account blocked. Contact the administrator"}
    for reply in (
        api.post("/v3/b", USERS, {"X-Master-Key": owner.key}),
        api.get(f"/v3/b/{private_bin}", {"X-Master-Key": owner.key}),
        api.get(f"/v3/b/{public_bin}"),
    ):
        assert (reply.status, reply.json()) == (403, blocked)
    api.op("account.unblock", account_id=owner.account_id)
    assert api.get(f"/v3/b/{public_bin}").status == 200


def test_a_blocked_accounts_public_bins_are_closed_to_every_key(api, owner, other, public_bin):
    """Not only keyless requests: another account's keys are refused too, and not charged."""
    api.op("account.block", account_id=owner.account_id)
    before = remaining(api, other)
    reader = api.access_key(other, "read", "update")
    for reply in (
        api.get(f"/v3/b/{public_bin}", {"X-Master-Key": other.key}),
        api.get(f"/v3/b/{public_bin}", {"X-Access-Key": reader}),
        api.request("PUT", f"/v3/b/{public_bin}", {"X-Master-Key": other.key}, {"changed": 1}),
        api.request("PUT", f"/v3/b/{public_bin}", {"X-Access-Key": reader}, {"changed": 2}),
        api.get(f"/v3/b/{public_bin}/versions/count", {"X-Master-Key": other.key}),
    ):
        assert (reply.status, reply.json()) == (
            403,
            {"message": "Account blocked. Contact the administrator"},
        )
        assert reply.header("X-Requests-Remaining") == str(before)
    assert remaining(api, other) == before
    api.op("account.unblock", account_id=owner.account_id)
    reply = api.get(f"/v3/b/{public_bin}?meta=false", {"X-Master-Key": other.key})
    assert (reply.status, reply.json()) == (200, USERS)  # no update was applied


# -- plans ---------------------------------------------------------------------------------------
def _record_of(size: int) -> bytes:
    head, tail = b'{"data": "', b'"}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


def test_free_plan_limit(api, owner):
    ok = api.post(
        "/v3/b",
        _record_of(102_400),
        {"X-Master-Key": owner.key, "Content-Type": "application/json"},
    )
    assert ok.status == 200
    over = api.post(
        "/v3/b",
        _record_of(102_401),
        {"X-Master-Key": owner.key, "Content-Type": "application/json"},
    )
    assert (over.status, over.json()) == (403, {"message": FREE_LIMIT})


def test_pro_plan_limit(api):
    pro = api.account("pro")
    headers = {"X-Master-Key": pro.key, "Content-Type": "application/json"}
    assert api.post("/v3/b", _record_of(1_048_576), headers).status == 200
    over = api.post("/v3/b", _record_of(1_048_577), headers)
    assert (over.status, over.json()) == (
        403,
        {"message": "Pro users cannot create a record over 1mb"},
    )


def test_upgrading_lifts_the_limit(api, owner):
    headers = {"X-Master-Key": owner.key, "Content-Type": "application/json"}
    assert api.post("/v3/b", _record_of(200_000), headers).status == 403
    api.op("account.set-plan", account_id=owner.account_id, plan="pro")
    assert api.post("/v3/b", _record_of(200_000), headers).status == 200


# -- order of checks -----------------------------------------------------------------------------
def test_order_id_shape_before_key(api):
    reply = api.get("/v3/b/xyz", {"X-Master-Key": UNKNOWN_KEY})
    assert reply.json() == {"message": "Invalid Bin Id provided"}


def test_order_key_before_existence(api):
    reply = api.get("/v3/b/" + "0" * 24, {"X-Master-Key": UNKNOWN_KEY})
    assert (reply.status, reply.json()) == (401, {"message": "Invalid X-Master-Key provided"})


def test_order_existence_before_permission(api):
    reply = api.get("/v3/b/" + "0" * 24)
    assert (reply.status, reply.json()) == (
        404,
        {"message": "Bin not found or it doesn't belong to your account"},
    )


def test_order_permission_before_headers(api, other, private_bin):
    reply = api.get(f"/v3/b/{private_bin}/abc", {"X-Master-Key": other.key, "X-Bin-Meta": "bad"})
    assert (reply.status, reply.json()) == (401, {"message": FOREIGN_MASTER})


def test_order_allowance_before_headers_and_body(api):
    account = api.account(requests=1)
    bin_id = api.create_bin(account)
    reply = api.get(f"/v3/b/{bin_id}/abc", {"X-Master-Key": account.key, "X-Bin-Meta": "bad"})
    assert (reply.status, reply.json()) == (403, {"message": PRICING})
    reply = api.post("/v3/b", b"{", {"X-Master-Key": account.key})
    assert (reply.status, reply.json()) == (403, {"message": PRICING})


def test_order_create_key_permission_then_body(api, owner):
    reply = api.post("/v3/b", b"{")
    assert reply.json() == {"message": MISSING_CREATE}
    key = api.access_key(owner, "read")
    reply = api.post("/v3/b", b"{", {"X-Access-Key": key})
    assert reply.json() == {
        "message": "X-Access-Key passed does not have permission to create a bin."
    }


def test_order_headers_before_versions(api, owner, private_bin):
    reply = api.get(f"/v3/b/{private_bin}/abc", {"X-Master-Key": owner.key, "X-Bin-Meta": "bad"})
    assert reply.json() == {"message": "X-Bin-Meta must be true or false"}


def test_order_body_before_plan_limit(api, owner):
    body = b"{" + b" " * 200_000
    reply = api.post("/v3/b", body, {"X-Master-Key": owner.key, "Content-Type": "application/json"})
    assert reply.json() == {"message": "Invalid JSON provided"}
