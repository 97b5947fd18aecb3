"""docs/API.md §2 and §3.2: GET /v3/b/<id>, /latest, /<version>; IDs and versions."""

import json
import time

import pytest

from tests.contract.conftest import USERS


def test_read_private_with_master_key(api, owner, private_bin):
    reply = api.get(f"/v3/b/{private_bin}", {"X-Master-Key": owner.key})
    assert reply.status == 200
    body = reply.json()
    assert body["record"] == USERS
    assert list(body["metadata"]) == ["id", "private", "createdAt", "name"]
    assert body["metadata"]["id"] == private_bin
    assert body["metadata"]["private"] is True
    assert body["metadata"]["name"] == "users"


def test_read_public_metadata(api, public_bin):
    metadata = api.get(f"/v3/b/{public_bin}").json()["metadata"]
    assert set(metadata) == {"id", "private", "createdAt"}
    assert metadata["private"] is False


def test_latest_equals_bare_read(api, owner, private_bin):
    bare = api.get(f"/v3/b/{private_bin}", {"X-Master-Key": owner.key}).json()
    latest = api.get(f"/v3/b/{private_bin}/latest", {"X-Master-Key": owner.key}).json()
    assert bare == latest
    assert "version" not in latest["metadata"]


def test_version_zero(api, owner, private_bin):
    reply = api.get(f"/v3/b/{private_bin}/0", {"X-Master-Key": owner.key})
    assert reply.status == 200
    assert reply.json()["record"] == USERS
    assert reply.json()["metadata"]["version"] == 0


@pytest.mark.parametrize("version", ["1", "2", "000001", "99999999999999999999999999"])
def test_version_beyond_history(api, owner, private_bin, version):
    reply = api.get(f"/v3/b/{private_bin}/{version}", {"X-Master-Key": owner.key})
    assert (reply.status, reply.json()) == (404, {"message": "Bin version not found"})


@pytest.mark.parametrize("version", ["-1", "1.5", "abc", "latest2", "LATEST", "1e3", "٣"])
def test_invalid_version(api, owner, private_bin, version):
    path = f"/v3/b/{private_bin}/{version}"
    if api.level == "http":
        from urllib.parse import quote

        path = quote(path)
    reply = api.get(path, {"X-Master-Key": owner.key})
    assert (reply.status, reply.json()) == (400, {"message": "Bin version is invalid"})


@pytest.mark.parametrize(
    "bin_id", ["abc", "0" * 23, "0" * 25, "Z" * 24, "6B01EFF4FA617BEE168E9046", "g" * 24]
)
def test_invalid_bin_id(api, owner, bin_id):
    for path in (f"/v3/b/{bin_id}", f"/v3/b/{bin_id}/0", f"/v3/b/{bin_id}/latest"):
        reply = api.get(path, {"X-Master-Key": owner.key})
        assert (reply.status, reply.json()) == (400, {"message": "Invalid Bin Id provided"})


def test_unknown_bin(api, owner):
    for path in ("/v3/b/" + "a" * 24, "/v3/b/" + "a" * 24 + "/0"):
        reply = api.get(path, {"X-Master-Key": owner.key})
        assert (reply.status, reply.json()) == (
            404,
            {"message": "Bin not found or it doesn't belong to your account"},
        )


@pytest.mark.parametrize(
    ("headers", "query"),
    [({"X-Bin-Meta": "false"}, ""), ({}, "?meta=false"), ({"X-Bin-Meta": "FALSE"}, "?meta=true")],
)
def test_meta_off(api, owner, private_bin, headers, query):
    for path in (f"/v3/b/{private_bin}", f"/v3/b/{private_bin}/latest", f"/v3/b/{private_bin}/0"):
        reply = api.get(path + query, {"X-Master-Key": owner.key, **headers})
        assert reply.status == 200
        assert reply.json() == USERS


def test_meta_query_must_be_boolean(api, owner, private_bin):
    reply = api.get(f"/v3/b/{private_bin}?meta=nah", {"X-Master-Key": owner.key})
    assert (reply.status, reply.json()) == (400, {"message": "meta must be true or false"})


@pytest.mark.parametrize(
    ("path", "matches"),
    [
        ("users[0].firstName", ["Ada"]),
        ("$.users[0].firstName", ["Ada"]),
        ("$..age", [36, 41]),
        ("users[*].firstName", ["Ada", "Alan"]),
        ("$.users[?(@.age > 40)].firstName", ["Alan"]),
        ("$.users[0:1].age", [36]),
        ("$.users[-1:].firstName", ["Alan"]),
        ("$.users[0,1].age", [36, 41]),
        ("$.users[?(@.firstName =~ '^Al')].age", [41]),
        ("$.nothing", []),
        ("$", [USERS]),
    ],
)
def test_json_path(api, owner, private_bin, path, matches):
    reply = api.get(f"/v3/b/{private_bin}", {"X-Master-Key": owner.key, "X-JSON-Path": path})
    assert reply.status == 200
    body = reply.json()
    assert body["records"] == matches
    assert body["metadata"]["id"] == private_bin
    bare = api.get(
        f"/v3/b/{private_bin}?meta=false", {"X-Master-Key": owner.key, "X-JSON-Path": path}
    )
    assert bare.json() == matches


@pytest.mark.parametrize(
    "path", ["$.[", "users[0", "$..[?(@.x ==)]", "$$", "users]]", " ", "x" * 300]
)
def test_invalid_json_path(api, owner, private_bin, path):
    reply = api.get(f"/v3/b/{private_bin}", {"X-Master-Key": owner.key, "X-JSON-Path": path})
    assert (reply.status, reply.json()) == (
        400,
        {"message": "Invalid X-JSON-Path expression passed"},
    )


def test_hostile_json_path_is_refused_quickly(api, owner):
    tree = {"a": [{"a": [{"a": [{"a": list(range(20))} for _ in range(20)]} for _ in range(20)]}]}
    bin_id = api.create_bin(owner, tree)
    started = time.monotonic()
    reply = api.get(f"/v3/b/{bin_id}", {"X-Master-Key": owner.key, "X-JSON-Path": "$..*..*..*"})
    elapsed = time.monotonic() - started
    assert (reply.status, reply.json()) == (
        400,
        {"message": "Invalid X-JSON-Path expression passed"},
    )
    assert elapsed < 5  # a safety bound (the budget answers in well under a second)


@pytest.mark.timeout(120)
def test_json_path_work_linear_in_a_large_record_succeeds(api):
    """Every value of a 1 MB record: refused before the budget grew with the record."""
    owner = api.account("pro")
    record = [{"id": i, "name": f"user {i}", "tags": ["a", "b"]} for i in range(18_000)]
    body = json.dumps(record).encode()
    assert 900_000 < len(body) < 1_048_576
    made = api.post("/v3/b", body, {"X-Master-Key": owner.key, "Content-Type": "application/json"})
    bin_id = made.json()["metadata"]["id"]
    reply = api.get(
        f"/v3/b/{bin_id}?meta=false", {"X-Master-Key": owner.key, "X-JSON-Path": "$..*"}
    )
    assert reply.status == 200
    assert len(reply.json()) == 18_000 * 6
    reply = api.get(
        f"/v3/b/{bin_id}?meta=false",
        {"X-Master-Key": owner.key, "X-JSON-Path": "$..[?(@.id >= 17998)].name"},
    )
    assert reply.json() == ["user 17998", "user 17999"]


def test_catastrophic_regex_filter_answers(api, owner):
    bin_id = api.create_bin(owner, [{"s": "a" * 50 + "!"}])
    started = time.monotonic()
    reply = api.get(
        f"/v3/b/{bin_id}", {"X-Master-Key": owner.key, "X-JSON-Path": "$[?(@.s =~ '^(a+)+$')]"}
    )
    assert reply.status == 200
    assert reply.json()["records"] == []
    assert time.monotonic() - started < 5


def test_json_path_on_version_zero(api, owner, private_bin):
    reply = api.get(
        f"/v3/b/{private_bin}/0", {"X-Master-Key": owner.key, "X-JSON-Path": "users[1].age"}
    )
    assert reply.json()["records"] == [41]
    assert reply.json()["metadata"]["version"] == 0
