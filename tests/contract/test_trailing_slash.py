"""docs/API.md §1: every route answers the same with one trailing slash (a v2-era JSONBin
client asks for ``…/b/<id>/``). API Gateway refuses a route path ending in "/", so such a
request reaches the $default function, which invokes the function that owns the route."""

from __future__ import annotations

import pytest

from tests.contract.conftest import USERS

NOT_FOUND = "Route not found"


def _same(a, b) -> None:
    assert (a.status, a.body) == (b.status, b.body)
    assert a.header("X-Requests-Remaining") is not None


def test_a_read_with_a_trailing_slash_is_the_read(api, owner, private_bin):
    key = {"X-Master-Key": owner.key}
    for path in (f"/v3/b/{private_bin}", f"/v3/b/{private_bin}/latest", f"/v3/b/{private_bin}/0"):
        plain, slashed = api.get(path, key), api.get(path + "/", key)
        assert plain.status == 200
        _same(slashed, plain)
        assert slashed.header("ETag") == plain.header("ETag")
    versions = api.get(f"/v3/b/{private_bin}/versions/count/", key)
    assert versions.status == 200 and versions.json()["metadata"]["versionCount"] == 0


def test_writes_with_a_trailing_slash(api, owner):
    key = {"X-Master-Key": owner.key, "Content-Type": "application/json"}
    created = api.post("/v3/b/", USERS, key)
    assert created.status == 200, created.body
    bin_id = created.json()["metadata"]["id"]
    updated = api.request("PUT", f"/v3/b/{bin_id}/", {**key, "X-Bin-Versioning": "true"}, {"a": 2})
    assert (updated.status, updated.json()["metadata"]["version"]) == (200, 1)
    assert api.get(f"/v3/b/{bin_id}", key).json()["record"] == {"a": 2}
    deleted = api.request("DELETE", f"/v3/b/{bin_id}/", key)
    assert deleted.status == 200 and deleted.json()["metadata"]["versionsDeleted"] == 1


def test_master_key_routes_with_a_trailing_slash(api, owner):
    key = {"X-Master-Key": owner.key}
    for path in ("/v3/c", "/v3/a", "/v3/usage", "/v3/c/uncategorized/bins"):
        slashed = api.get(path + "/", key)
        assert slashed.status == 200, (path, slashed.body)
        assert slashed.json() == api.get(path, key).json() or path == "/v3/usage"
    made = api.post("/v3/c/", None, {**key, "X-Collection-Name": "slashed"})
    assert made.status == 200 and made.json()["metadata"]["name"] == "slashed"


def test_refusals_are_the_routes_own(api, owner, private_bin):
    assert api.get(f"/v3/b/{private_bin}/").message == (
        "You need to pass X-Master-Key or X-Access-Key in the header to read a private bin"
    )
    assert api.get("/v3/b/nope/", {"X-Master-Key": owner.key}).message == "Invalid Bin Id provided"


@pytest.mark.parametrize(
    "path", ["/v3/b//", "/v3/nothing/", "/v3/b/{bin}/0/x/", "/v3/b/{bin}//", "/v3//"]
)
def test_more_than_one_slash_or_no_route_is_not_found(api, owner, private_bin, path):
    reply = api.get(path.format(bin=private_bin), {"X-Master-Key": owner.key})
    assert (reply.status, reply.message) == (404, NOT_FOUND)


def test_a_preflight_with_a_trailing_slash(api, private_bin):
    reply = api.request(
        "OPTIONS",
        f"/v3/b/{private_bin}/",
        {"Origin": "https://app.example", "Access-Control-Request-Method": "GET"},
    )
    assert reply.status == 204
