"""docs/API.md §3.1: POST /v3/b."""

import json

import pytest

from tests.contract.conftest import USERS
from tests.contract.test_collections import new_collection, new_schema

COLLECTION_NOT_FOUND = (
    "Collection not found or the Collection does not belong to the X-Master-Key provided"
)
PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
    "required": ["name"],
}


def test_create_private_by_default(api, owner):
    reply = api.post("/v3/b", USERS, {"X-Master-Key": owner.key})
    body = reply.json()
    assert body["record"] == USERS
    assert set(body["metadata"]) == {"id", "createdAt", "private"}
    assert body["metadata"]["private"] is True
    assert list(body) == ["record", "metadata"]


def test_create_public_named(api, owner):
    reply = api.post(
        "/v3/b",
        USERS,
        {"X-Master-Key": owner.key, "X-Bin-Private": "false", "X-Bin-Name": "people"},
    )
    metadata = reply.json()["metadata"]
    assert metadata["private"] is False
    assert metadata["name"] == "people"
    assert set(metadata) == {"id", "createdAt", "private", "name"}


@pytest.mark.parametrize("name", ["a", "n" * 128, "My bin (v2) — ünïcode"])
def test_bin_names_within_limits(api, owner, name):
    headers = {"X-Master-Key": owner.key, "X-Bin-Name": name}
    if api.level == "http":  # HTTP header values travel as latin-1
        name = name.encode().decode("latin-1")
        headers["X-Bin-Name"] = name
    reply = api.post("/v3/b", {"a": 1}, headers)
    assert reply.status == 200
    bin_id = reply.json()["metadata"]["id"]
    read = api.get(f"/v3/b/{bin_id}", {"X-Master-Key": owner.key})
    assert read.json()["metadata"]["name"] == reply.json()["metadata"]["name"]


@pytest.mark.parametrize("name", ["", "   ", "n" * 129])
def test_bin_name_blank_or_too_long(api, owner, name):
    reply = api.post("/v3/b", {"a": 1}, {"X-Master-Key": owner.key, "X-Bin-Name": name})
    assert (reply.status, reply.json()) == (
        400,
        {"message": "X-Bin-Name cannot be blank or over 128 characters"},
    )


@pytest.mark.parametrize("cid", ["abc", "Z" * 24, "0" * 23, "0" * 25, "6B01EFF4FA617BEE168E9046"])
def test_invalid_collection_id(api, owner, cid):
    reply = api.post("/v3/b", {"a": 1}, {"X-Master-Key": owner.key, "X-Collection-Id": cid})
    assert (reply.status, reply.json()) == (400, {"message": "Invalid X-Collection-Id provided"})


def test_unknown_collection(api, owner):
    reply = api.post("/v3/b", {"a": 1}, {"X-Master-Key": owner.key, "X-Collection-Id": "1" * 24})
    assert (reply.status, reply.json()) == (404, {"message": COLLECTION_NOT_FOUND})


def test_another_accounts_collection(api, owner, other):
    theirs = api.collection(other)["collectionId"]
    reply = api.post("/v3/b", {"a": 1}, {"X-Master-Key": owner.key, "X-Collection-Id": theirs})
    assert (reply.status, reply.json()) == (404, {"message": COLLECTION_NOT_FOUND})


def test_create_in_collection(api, owner):
    cid = api.collection(owner)["collectionId"]
    reply = api.post("/v3/b", {"a": 1}, {"X-Master-Key": owner.key, "X-Collection-Id": cid})
    assert reply.status == 200
    assert reply.json()["metadata"]["collectionId"] == cid
    bin_id = reply.json()["metadata"]["id"]
    read = api.get(f"/v3/b/{bin_id}", {"X-Master-Key": owner.key})
    assert read.json()["metadata"]["collectionId"] == cid


def test_schema_valid_record(api, owner):
    cid = api.collection(owner, schema=PERSON)["collectionId"]
    reply = api.post(
        "/v3/b", {"name": "Ada", "age": 36}, {"X-Master-Key": owner.key, "X-Collection-Id": cid}
    )
    assert reply.status == 200


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"name": "Ada", "age": "old"}, "$.age: 'old' is not of type 'integer'"),
        ({"age": 3}, "$: 'name' is a required property"),
        ({"name": "Ada", "age": -1}, "$.age: -1 is less than the minimum of 0"),
        ([1, 2], "$: [1, 2] is not of type 'object'"),
    ],
)
def test_schema_mismatch(api, owner, record, message):
    made = api.collection(owner, "people", schema=PERSON)
    reply = api.post(
        "/v3/b", record, {"X-Master-Key": owner.key, "X-Collection-Id": made["collectionId"]}
    )
    assert reply.status == 400
    assert reply.json() == {
        "message": f"Schema Doc Validation Mismatch: {message}",
        "schemaDocID": made["schemaDocId"],
        "schemaDocName": made["schemaDocName"],
    }


def test_plan_limit_comes_before_schema(api, owner):
    cid = api.collection(owner, schema=PERSON)["collectionId"]
    body = b'{"pad": "' + b"x" * 110_000 + b'"}'
    headers = {
        "X-Master-Key": owner.key,
        "X-Collection-Id": cid,
        "Content-Type": "application/json",
    }
    reply = api.post("/v3/b", body, headers)
    assert reply.status == 403


def test_create_charges_one_request(api):
    account = api.account(requests=3)
    reply = api.post("/v3/b", {"a": 1}, {"X-Master-Key": account.key})
    assert reply.header("X-Requests-Remaining") == "2"


@pytest.mark.parametrize(
    ("body", "matches"),
    [
        (b'{"f": 1e400}', b"[1e400]"),
        (b"[-1.5E+999, 1e-400, 2.50]", b"[-1.5E+999,1e-400,2.50]"),
        (b"[3.14159265358979323846264, 1E5, 0.5]", b"[3.14159265358979323846264,1E5,0.5]"),
        (b'{"n": 1' + b"0" * 5000 + b"}", b"[1" + b"0" * 5000 + b"]"),
    ],
    ids=["1e400", "-1.5E+999", "more digits than a double", "5001-digit integer"],
)
def test_numbers_beyond_a_double_are_json_and_kept_exactly(api, owner, body, matches):
    """Valid by the JSON grammar (Python's float range and integer digit limit are not JSON's);
    stored and read back byte for byte, and a JSONPath answer writes them as sent."""
    made = api.post("/v3/b", body, {"X-Master-Key": owner.key, "Content-Type": "application/json"})
    assert made.status == 200, made.body
    bin_id = json.loads(made.body, parse_int=str, parse_float=str)["metadata"]["id"]
    key = {"X-Master-Key": owner.key}
    assert api.get(f"/v3/b/{bin_id}?meta=false", key).body == body
    reply = api.get(f"/v3/b/{bin_id}?meta=false", {**key, "X-JSON-Path": "$.*"})
    assert (reply.status, reply.body) == (200, matches)


@pytest.mark.parametrize(
    ("schema", "reason"),
    [
        ({"maximum": 10}, "inf is greater than the maximum of 10"),
        ({"multipleOf": 0.5}, "inf cannot be checked against multipleOf"),
    ],
)
def test_numbers_beyond_a_double_meet_schemas_as_infinity(api, owner, schema, reason):
    cid = new_collection(api, owner)
    sid = new_schema(api, owner, {"properties": {"f": schema}})
    api.request(
        "PUT", f"/v3/c/{cid}/schemadoc/add", {"X-Master-Key": owner.key, "X-Schema-Doc-Id": sid}
    )
    reply = api.post(
        "/v3/b",
        b'{"f": 1e400}',
        {"X-Master-Key": owner.key, "X-Collection-Id": cid, "Content-Type": "application/json"},
    )
    assert (reply.status, reply.json()["message"]) == (
        400,
        f"Schema Doc Validation Mismatch: $.f: {reason}",
    )
