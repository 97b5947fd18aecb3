"""docs/API.md §3.3: PUT /v3/b/<id>."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.contract.conftest import PRICING, USERS

NEW = {"users": [{"firstName": "Grace", "age": 85}]}


def put(api, bin_id, body, **headers):
    sent = {k.replace("_", "-"): v for k, v in headers.items()}
    return api.request("PUT", f"/v3/b/{bin_id}", sent, body)


def count(api, account, bin_id) -> int:
    reply = api.get(f"/v3/b/{bin_id}/versions/count", {"X-Master-Key": account.key})
    return reply.json()["metadata"]["versionCount"]


def test_private_update_is_unversioned_by_default(api, owner, private_bin):
    reply = put(api, private_bin, NEW, X_Master_Key=owner.key)
    assert reply.status == 200
    assert reply.json() == {"record": NEW, "metadata": {"parentId": private_bin, "private": True}}
    assert count(api, owner, private_bin) == 0
    zero = api.get(f"/v3/b/{private_bin}/0", {"X-Master-Key": owner.key})
    assert zero.json()["record"] == NEW  # replaced in place


def test_private_update_with_versioning(api, owner, private_bin):
    reply = put(api, private_bin, NEW, X_Master_Key=owner.key, X_Bin_Versioning="true")
    assert reply.json() == {
        "record": NEW,
        "metadata": {"parentId": private_bin, "private": True, "version": 1},
    }
    headers = {"X-Master-Key": owner.key}
    assert api.get(f"/v3/b/{private_bin}/0", headers).json()["record"] == USERS
    assert api.get(f"/v3/b/{private_bin}/1", headers).json()["record"] == NEW
    latest = api.get(f"/v3/b/{private_bin}/latest", headers).json()
    assert latest["record"] == NEW and "version" not in latest["metadata"]
    assert count(api, owner, private_bin) == 1


def test_public_update_needs_no_key_and_is_always_versioned(api, owner, public_bin):
    first = put(api, public_bin, NEW)
    assert first.json()["metadata"] == {"parentId": public_bin, "private": False, "version": 1}
    second = put(api, public_bin, {"x": 2}, X_Bin_Versioning="false")
    assert second.json()["metadata"]["version"] == 2
    assert api.get(f"/v3/b/{public_bin}/1").json()["record"] == NEW


def test_public_versioning_off_only_for_the_owners_master_key(api, owner, other, public_bin):
    access = api.access_key(owner, "update")
    by_access = put(api, public_bin, {"n": 1}, X_Access_Key=access, X_Bin_Versioning="false")
    assert by_access.json()["metadata"]["version"] == 1
    by_other = put(api, public_bin, {"n": 2}, X_Master_Key=other.key, X_Bin_Versioning="false")
    assert by_other.json()["metadata"]["version"] == 2
    by_owner = put(api, public_bin, {"n": 3}, X_Master_Key=owner.key, X_Bin_Versioning="false")
    assert by_owner.json()["metadata"] == {"parentId": public_bin, "private": False}
    assert api.get(f"/v3/b/{public_bin}").json()["record"] == {"n": 3}
    assert api.get(f"/v3/b/{public_bin}/2").json()["record"] == {"n": 3}


def test_versioning_header_must_be_boolean(api, owner, private_bin):
    reply = put(api, private_bin, NEW, X_Master_Key=owner.key, X_Bin_Versioning="sometimes")
    assert (reply.status, reply.json()) == (
        400,
        {"message": "X-Bin-Versioning must be true or false"},
    )


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b'{"a": 1}', None, "You need to pass Content-Type set to application/json"),
        (b"", "application/json", "Bin cannot be blank"),
        (b"{}", "application/json", "Bin cannot be blank"),
        (b"{oops", "application/json", "Invalid JSON provided"),
        (b"12", "application/json", "Bin must be a JSON object or array"),
    ],
)
def test_update_body_errors(api, owner, private_bin, body, content_type, message):
    headers = {"X-Master-Key": owner.key}
    if content_type:
        headers["Content-Type"] = content_type
    reply = api.request("PUT", f"/v3/b/{private_bin}", headers, body)
    assert (reply.status, reply.json()) == (400, {"message": message})


def test_update_auth(api, owner, other, private_bin):
    reply = put(api, private_bin, NEW)
    assert (reply.status, reply.json()) == (
        401,
        {
            "message": "You need to pass X-Master-Key or X-Access-Key in the header to update a private bin"
        },
    )
    reply = put(api, private_bin, NEW, X_Master_Key=other.key)
    assert (reply.status, reply.json()) == (
        401,
        {"message": "X-Master-Key is invalid or the bin doesn't belong to your account"},
    )
    reply = put(api, private_bin, NEW, X_Access_Key=api.access_key(owner, "read"))
    assert (reply.status, reply.json()) == (
        403,
        {"message": "X-Access-Key passed does not have permission to update the bin."},
    )
    reply = put(api, private_bin, NEW, X_Access_Key=api.access_key(owner, "update"))
    assert reply.status == 200


def test_update_ids(api, owner):
    reply = put(api, "nope", NEW, X_Master_Key=owner.key)
    assert (reply.status, reply.json()) == (400, {"message": "Invalid Bin Id provided"})
    reply = put(api, "b" * 24, NEW, X_Master_Key=owner.key)
    assert (reply.status, reply.json()) == (
        404,
        {"message": "Bin not found or it doesn't belong to your account"},
    )


def test_update_plan_limits(api, owner, private_bin):
    body = b'{"d": "' + b"x" * 102_400 + b'"}'
    headers = {"X-Master-Key": owner.key, "Content-Type": "application/json"}
    reply = api.request("PUT", f"/v3/b/{private_bin}", headers, body)
    assert reply.status == 403
    message = reply.json()["message"]
    assert message.startswith("Free users cannot update a record over 100kb. Upgrade to Pro plan")
    assert message.endswith(" https://jsonbin.io/pricing to update records upto 1mb")
    # a create keeps its wording
    created = api.request("POST", "/v3/b", headers, body)
    assert (created.status, created.json()["message"]) == (
        403,
        "Free users cannot create a record over 100kb. "
        "Upgrade to Pro plan to create records upto 1mb",
    )


def test_update_plan_is_the_owners(api, other):
    pro = api.account("pro")
    bin_id = api.create_bin(pro, {"a": 1}, X_Bin_Private="false")
    body = b'{"d": "' + b"x" * 200_000 + b'"}'
    reply = api.request(
        "PUT",
        f"/v3/b/{bin_id}",
        {"X-Master-Key": other.key, "Content-Type": "application/json"},
        body,
    )
    assert reply.status == 200


def test_update_validates_the_collections_schema(api, owner):
    schema = {"type": "object", "required": ["name"]}
    made = api.collection(owner, schema=schema)
    bin_id = api.create_bin(owner, {"name": "x"}, X_Collection_Id=made["collectionId"])
    reply = put(api, bin_id, {"nom": "y"}, X_Master_Key=owner.key)
    assert reply.status == 400
    assert reply.json() == {
        "message": "Schema Doc Validation Mismatch: $: 'name' is a required property",
        "schemaDocID": made["schemaDocId"],
        "schemaDocName": made["schemaDocName"],
    }


def test_update_charges_one_request(api):
    account = api.account(requests=3)
    bin_id = api.create_bin(account)
    reply = put(api, bin_id, NEW, X_Master_Key=account.key)
    assert reply.header("X-Requests-Remaining") == "1"
    put(api, bin_id, NEW, X_Master_Key=account.key)
    reply = put(api, bin_id, NEW, X_Master_Key=account.key)
    assert (reply.status, reply.json()) == (403, {"message": PRICING})


@pytest.mark.timeout(120)
@pytest.mark.parametrize("writers", [8, 128])
def test_concurrent_versioned_updates_lose_nothing(api, owner, writers):
    """Every one of N parallel versioned updates of one bin succeeds with a number of its own
    (before the backoff, 128 writers ended in about 11 503s on a loaded machine)."""
    bin_id = api.create_bin(owner, {"n": 0})
    headers = {"X-Master-Key": owner.key, "X-Bin-Versioning": "true"}
    updates = max(20, writers)

    def update(n):
        reply = api.request("PUT", f"/v3/b/{bin_id}", headers, {"n": n})
        assert reply.status == 200, reply.body
        return reply.json()["metadata"]["version"], n

    with ThreadPoolExecutor(max_workers=writers) as pool:
        made = dict(pool.map(update, range(1, updates + 1)))
    assert sorted(made) == list(range(1, updates + 1))
    read = {"X-Master-Key": owner.key}
    for version, n in made.items():
        assert api.get(f"/v3/b/{bin_id}/{version}", read).json()["record"] == {"n": n}
    assert api.get(f"/v3/b/{bin_id}/0", read).json()["record"] == {"n": 0}
    assert count(api, owner, bin_id) == updates


def test_concurrent_unversioned_updates_leave_one_whole_body(api, owner):
    bin_id = api.create_bin(owner, {"n": 0})
    bodies = [{"n": n, "payload": [n] * 50} for n in range(1, 13)]
    headers = {"X-Master-Key": owner.key}

    def update(body):
        return api.request("PUT", f"/v3/b/{bin_id}", headers, body).status

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert set(pool.map(update, bodies)) == {200}
    final = api.get(f"/v3/b/{bin_id}", headers).json()["record"]
    assert final in bodies
    assert count(api, owner, bin_id) == 0
