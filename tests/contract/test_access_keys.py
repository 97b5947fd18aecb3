"""docs/API.md §6 (access keys), §7 (usage) and blocked accounts on every route."""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

MASTER_REQUIRED = {"message": "You need to pass X-Master-Key in the header"}
ALL = {"create": True, "read": True, "update": True, "delete": True}


def create_key(api, account, name="ci", bins=None):
    return api.request(
        "POST", "/v3/a", {"X-Master-Key": account.key, "X-Key-Name": name}, {"bins": bins or ALL}
    )


def test_create_access_key(api, owner):
    reply = create_key(api, owner, "reader", {"read": True})
    body = reply.json()
    assert reply.status == 200
    assert list(body) == ["accessKey", "accessKeyId", "keyPermissions", "metadata"]
    assert re.fullmatch(r"\$2a\$10\$[./A-Za-z0-9]{53}", body["accessKey"])
    assert re.fullmatch(r"[0-9a-f]{24}", body["accessKeyId"])
    assert body["keyPermissions"] == {
        "bins": {"create": False, "read": True, "update": False, "delete": False}
    }
    assert set(body["metadata"]) == {"name", "createdAt"} and body["metadata"]["name"] == "reader"


def test_access_key_permissions_apply_on_bin_routes(api, owner):
    key = create_key(api, owner, "rw", {"create": True, "read": True}).json()["accessKey"]
    made = api.post("/v3/b", {"a": 1}, {"X-Access-Key": key})
    assert made.status == 200
    bin_id = made.json()["metadata"]["id"]
    assert api.get(f"/v3/b/{bin_id}", {"X-Access-Key": key}).status == 200
    reply = api.request("PUT", f"/v3/b/{bin_id}", {"X-Access-Key": key}, {"a": 2})
    assert reply.json() == {
        "message": "X-Access-Key passed does not have permission to update the bin."
    }
    reply = api.request("DELETE", f"/v3/b/{bin_id}", {"X-Access-Key": key})
    assert reply.json() == {
        "message": "X-Access-Key passed does not have permission to delete the bin."
    }


def test_list_access_keys_never_shows_secrets(api, owner, other):
    first = create_key(api, owner, "one").json()
    second = create_key(api, owner, "two", {"read": True}).json()
    create_key(api, other, "theirs")
    reply = api.get("/v3/a", {"X-Master-Key": owner.key})
    listing = reply.json()
    assert [item["accessKeyId"] for item in listing] == [
        first["accessKeyId"],
        second["accessKeyId"],
    ]
    for item in listing:
        assert list(item) == ["accessKeyId", "keyPermissions", "metadata"]
    assert listing[1]["keyPermissions"]["bins"]["read"] is True
    assert (
        first["accessKey"] not in reply.body.decode()
        and second["accessKey"] not in reply.body.decode()
    )


def test_delete_access_key_takes_effect_on_the_next_request(api, owner, private_bin):
    made = create_key(api, owner, "temp").json()
    assert api.get(f"/v3/b/{private_bin}", {"X-Access-Key": made["accessKey"]}).status == 200
    reply = api.request("DELETE", f"/v3/a/{made['accessKeyId']}", {"X-Master-Key": owner.key})
    assert reply.json() == {
        "metadata": {"id": made["accessKeyId"], "name": "temp"},
        "message": "Access Key deleted successfully",
    }
    reply = api.get(f"/v3/b/{private_bin}", {"X-Access-Key": made["accessKey"]})
    assert (reply.status, reply.json()) == (401, {"message": "Invalid X-Access-Key provided"})
    assert api.get("/v3/a", {"X-Master-Key": owner.key}).json() == []
    if api.level == "handler":  # deleted by one function, refused by another
        assert api.invocations[-3:] == [
            "AccessKeysFunction",
            "ReadBinFunction",
            "AccessKeysFunction",
        ]


def test_delete_access_key_errors(api, owner, other):
    reply = api.request("DELETE", "/v3/a/nope", {"X-Master-Key": owner.key})
    assert (reply.status, reply.json()) == (400, {"message": "Invalid Access Key Id provided"})
    reply = api.request("DELETE", "/v3/a/" + "e" * 24, {"X-Master-Key": owner.key})
    assert (reply.status, reply.json()) == (404, {"message": "Access Key not found"})
    theirs = create_key(api, other).json()["accessKeyId"]
    reply = api.request("DELETE", f"/v3/a/{theirs}", {"X-Master-Key": owner.key})
    assert (reply.status, reply.json()) == (404, {"message": "Access Key not found"})


def test_at_most_four_access_keys(api, owner):
    made = [create_key(api, owner, f"k{n}").json() for n in range(4)]
    reply = create_key(api, owner, "fifth")
    assert (reply.status, reply.json()) == (
        403,
        {"message": "You can only create up to 4 Access Keys"},
    )
    api.request("DELETE", f"/v3/a/{made[0]['accessKeyId']}", {"X-Master-Key": owner.key})
    assert create_key(api, owner, "again").status == 200


def test_key_limit_is_exact_under_concurrency(api, owner):
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda n: create_key(api, owner, f"k{n}").status, range(8)))
    assert sorted(statuses) == [200] * 4 + [403] * 4
    assert len(api.get("/v3/a", {"X-Master-Key": owner.key}).json()) == 4


@pytest.mark.parametrize(
    ("name", "body", "content_type", "message"),
    [
        (
            None,
            {"bins": ALL},
            "application/json",
            "You need to pass X-Key-Name header to set a name for the Access Key",
        ),
        (
            "k" * 33,
            {"bins": ALL},
            "application/json",
            "Name of the Access Key cannot be above 32 characters",
        ),
        ("k", {"bins": ALL}, None, "You need to pass Content-Type set to application/json"),
        ("k", b"{nope", "application/json", "Invalid JSON provided"),
        ("k", {"bins": {"read": "yes"}}, "application/json", None),
        ("k", {"bins": {"drop": True}}, "application/json", None),
        ("k", {"collections": {}}, "application/json", None),
        ("k", b"", "application/json", None),
    ],
)
def test_create_access_key_errors(api, owner, name, body, content_type, message):
    headers = {"X-Master-Key": owner.key}
    if name is not None:
        headers["X-Key-Name"] = name
    if content_type:
        headers["Content-Type"] = content_type
    if not isinstance(body, bytes):
        import json

        body = json.dumps(body).encode()
    reply = api.request("POST", "/v3/a", headers, body)
    expected = message or (
        'You need to pass the permissions in the body as {"bins": {"create": true|false, '
        '"read": true|false, "update": true|false, "delete": true|false}}'
    )
    assert (reply.status, reply.json()) == (400, {"message": expected})


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v3/a"),
        ("POST", "/v3/a"),
        ("DELETE", "/v3/a/" + "1" * 24),
        ("GET", "/v3/usage"),
        ("GET", "/v3/c"),
        ("POST", "/v3/s"),
    ],
)
def test_access_keys_are_refused_off_the_bin_routes(api, owner, method, path):
    access = api.access_key(owner, "create", "read", "update", "delete")
    for headers in ({"X-Access-Key": access}, {}):
        reply = api.request(method, path, headers)
        assert (reply.status, reply.json()) == (401, MASTER_REQUIRED)


# -- usage -----------------------------------------------------------------------------------------
def usage_of(api, account) -> dict:
    reply = api.get("/v3/usage", {"X-Master-Key": account.key})
    assert reply.status == 200
    assert reply.header("X-Requests-Remaining") == str(reply.json()["requestsRemaining"])
    return reply.json()


def test_usage_shape(api):
    account = api.account("pro", requests=50)
    assert usage_of(api, account) == {
        "plan": "pro",
        "requestsRemaining": 49,
        "recordSizeLimit": 1_048_576,
        "bins": 0,
        "storedBytes": 0,
    }


def test_usage_follows_every_write(api, owner):
    headers = {"X-Master-Key": owner.key, "Content-Type": "application/json"}
    first = api.post("/v3/b", b'{"a": 1}', headers).json()["metadata"]["id"]  # 8 bytes
    api.post("/v3/b", b'["xyz"]', headers)  # 7 bytes
    assert (usage_of(api, owner)["bins"], usage_of(api, owner)["storedBytes"]) == (2, 15)
    versioned = {**headers, "X-Bin-Versioning": "true"}
    api.request("PUT", f"/v3/b/{first}", versioned, b'{"a": 22}')  # +9, history kept
    assert usage_of(api, owner)["storedBytes"] == 24
    api.request("PUT", f"/v3/b/{first}", headers, b'{"a": 333}')  # replaces the 9-byte latest
    assert usage_of(api, owner)["storedBytes"] == 25
    api.request("DELETE", f"/v3/b/{first}/versions", {"X-Master-Key": owner.key})  # back to v0
    assert usage_of(api, owner)["storedBytes"] == 15
    api.request("DELETE", f"/v3/b/{first}", {"X-Master-Key": owner.key})
    shown = usage_of(api, owner)
    assert (shown["bins"], shown["storedBytes"]) == (1, 7)


def test_account_show_prints_the_usage(api, owner):
    api.create_bin(owner, [1])
    shown = api.op("account.show", account_id=owner.account_id)
    usage = usage_of(api, owner)
    for key in ("plan", "recordSizeLimit", "bins", "storedBytes"):
        assert shown[key] == usage[key]
    assert shown["requestsRemaining"] == usage["requestsRemaining"] + 1


def test_blocked_account_on_master_routes(api, owner):
    api.op("account.block", account_id=owner.account_id)
    for method, path in (("GET", "/v3/usage"), ("GET", "/v3/a"), ("GET", "/v3/c")):
        reply = api.request(method, path, {"X-Master-Key": owner.key})
        assert (reply.status, reply.json()) == (
            403,
            {"message": "Account blocked. Contact the administrator"},
        )
