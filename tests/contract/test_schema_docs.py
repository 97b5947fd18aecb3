"""docs/API.md §5: schema docs, and validation that hostile schemas cannot hang."""

import time

import pytest

from tests.contract.test_collections import new_collection, new_schema

PERSON = {"type": "object", "properties": {"age": {"type": "integer"}}, "required": ["name"]}


def test_create_and_read(api, owner):
    reply = api.request(
        "POST", "/v3/s", {"X-Master-Key": owner.key, "X-Schema-Doc-Name": "person"}, PERSON
    )
    body = reply.json()
    assert reply.status == 200
    assert body["record"] == PERSON
    assert list(body["metadata"]) == ["id", "createdAt", "name"]
    assert body["metadata"]["name"] == "person"
    read = api.get(f"/v3/s/{body['metadata']['id']}", {"X-Master-Key": owner.key})
    assert read.json() == body


def test_replace_schema(api, owner):
    sid = new_schema(api, owner, PERSON)
    replacement = {"type": "array"}
    reply = api.request("PUT", f"/v3/s/{sid}", {"X-Master-Key": owner.key}, replacement)
    body = reply.json()
    assert body["record"] == replacement
    assert list(body["metadata"]) == ["id", "name", "createdAt"]
    cid = new_collection(api, owner)
    api.request(
        "PUT", f"/v3/c/{cid}/schemadoc/add", {"X-Master-Key": owner.key, "X-Schema-Doc-Id": sid}
    )
    # the new revision is the one that validates (validators are cached per revision)
    refused = api.post("/v3/b", {"name": "x"}, {"X-Master-Key": owner.key, "X-Collection-Id": cid})
    assert (
        refused.json()["message"]
        == "Schema Doc Validation Mismatch: $: {'name': 'x'} is not of type 'array'"
    )
    assert api.post("/v3/b", [1], {"X-Master-Key": owner.key, "X-Collection-Id": cid}).status == 200


def test_rename_schema(api, owner):
    sid = new_schema(api, owner, PERSON)
    reply = api.request(
        "PUT", f"/v3/s/{sid}/meta/name", {"X-Master-Key": owner.key, "X-Schema-Doc-Name": "human"}
    )
    assert reply.json() == {"metadata": {"id": sid, "name": "human"}}
    assert (
        api.get(f"/v3/s/{sid}", {"X-Master-Key": owner.key}).json()["metadata"]["name"] == "human"
    )


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (None, "You need to pass X-Schema-Doc-Name header to set a name for the Schema Doc"),
        ("s" * 33, "Name of the Schema Doc cannot be above 32 characters"),
    ],
)
def test_schema_name_errors(api, owner, name, message):
    headers = {"X-Master-Key": owner.key}
    if name is not None:
        headers["X-Schema-Doc-Name"] = name
    reply = api.request("POST", "/v3/s", headers, PERSON)
    assert (reply.status, reply.json()) == (400, {"message": message})


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        (
            {"type": 5},
            "Invalid JSON Schema provided: $.type: 5 is not valid under any of the given schemas",
        ),
        (
            {"minimum": "zero"},
            "Invalid JSON Schema provided: $.minimum: 'zero' is not of type 'number'",
        ),
        ([1, 2], "Invalid JSON Schema provided: a schema must be a JSON object or a boolean"),
        (
            {"$schema": "https://example.com/mine"},
            "Invalid JSON Schema provided: unsupported $schema 'https://example.com/mine'",
        ),
        (
            {"pattern": "(?<=a)b"},
            "Invalid JSON Schema provided: pattern '(?<=a)b' is not supported (RE2 syntax: no look-arounds or back-references)",
        ),
    ],
)
def test_invalid_schemas(api, owner, schema, message):
    reply = api.request(
        "POST", "/v3/s", {"X-Master-Key": owner.key, "X-Schema-Doc-Name": "bad"}, schema
    )
    assert (reply.status, reply.json()) == (400, {"message": message})


def test_deep_and_huge_schemas_are_refused(api, owner):
    deep: dict = {"type": "object"}
    for _ in range(40):
        deep = {"properties": {"x": deep}}
    reply = api.request(
        "POST", "/v3/s", {"X-Master-Key": owner.key, "X-Schema-Doc-Name": "deep"}, deep
    )
    assert (reply.status, reply.json()) == (
        400,
        {"message": "Invalid JSON Schema provided: nested deeper than 32 levels"},
    )
    huge = {"enum": ["v" * 100] * 1000}
    reply = api.request(
        "POST", "/v3/s", {"X-Master-Key": owner.key, "X-Schema-Doc-Name": "huge"}, huge
    )
    assert (reply.status, reply.json()) == (
        400,
        {"message": "Invalid JSON Schema provided: a schema may be at most 65536 bytes"},
    )


def test_schema_body_needs_json_content_type(api, owner):
    reply = api.request(
        "POST",
        "/v3/s",
        {"X-Master-Key": owner.key, "X-Schema-Doc-Name": "x"},
        b'{"type": "object"}',
    )
    assert (reply.status, reply.json()) == (
        400,
        {"message": "You need to pass Content-Type set to application/json"},
    )


def test_schema_ids_and_ownership(api, owner, other):
    for method in ("GET", "PUT"):
        reply = api.request(
            method, "/v3/s/nope", {"X-Master-Key": owner.key}, PERSON if method == "PUT" else None
        )
        assert (reply.status, reply.json()) == (400, {"message": "Invalid Schema Id provided"})
        reply = api.request(
            method,
            "/v3/s/" + "4" * 24,
            {"X-Master-Key": owner.key},
            PERSON if method == "PUT" else None,
        )
        assert (reply.status, reply.json()) == (404, {"message": "Schema Doc not found"})
    theirs = new_schema(api, other, PERSON)
    reply = api.get(f"/v3/s/{theirs}", {"X-Master-Key": owner.key})
    assert (reply.status, reply.json()) == (404, {"message": "Schema Doc not found"})


def test_schema_routes_need_the_master_key(api, owner):
    access = api.access_key(owner, "create", "read", "update", "delete")
    reply = api.request("POST", "/v3/s", {"X-Access-Key": access, "X-Schema-Doc-Name": "x"}, PERSON)
    assert (reply.status, reply.json()) == (
        401,
        {"message": "You need to pass X-Master-Key in the header"},
    )


def test_catastrophic_pattern_answers_quickly(api, owner):
    schema = {
        "type": "object",
        "properties": {"s": {"type": "string", "pattern": "^(a+)+$"}},
        "patternProperties": {"^(b+)+$": {"type": "integer"}},
        "additionalProperties": {"type": "string"},
    }
    cid = new_collection(api, owner)
    sid = new_schema(api, owner, schema)
    api.request(
        "PUT", f"/v3/c/{cid}/schemadoc/add", {"X-Master-Key": owner.key, "X-Schema-Doc-Id": sid}
    )
    started = time.monotonic()
    reply = api.post(
        "/v3/b", {"s": "a" * 50 + "!"}, {"X-Master-Key": owner.key, "X-Collection-Id": cid}
    )
    assert time.monotonic() - started < 1.0
    assert (reply.status, reply.json()["message"]) == (
        400,
        "Schema Doc Validation Mismatch: $.s: '" + "a" * 50 + "!' does not match '^(a+)+$'",
    )
    started = time.monotonic()
    reply = api.post(
        "/v3/b", {"b" * 50 + "!": 1}, {"X-Master-Key": owner.key, "X-Collection-Id": cid}
    )
    assert time.monotonic() - started < 1.0
    assert reply.status == 400


def test_draft_2020_12_schemas(api, owner):
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "unevaluatedProperties": False,
        "properties": {"a": {}},
    }
    cid = new_collection(api, owner)
    sid = new_schema(api, owner, schema)
    api.request(
        "PUT", f"/v3/c/{cid}/schemadoc/add", {"X-Master-Key": owner.key, "X-Schema-Doc-Id": sid}
    )
    assert (
        api.post("/v3/b", {"a": 1}, {"X-Master-Key": owner.key, "X-Collection-Id": cid}).status
        == 200
    )
    assert (
        api.post("/v3/b", {"b": 1}, {"X-Master-Key": owner.key, "X-Collection-Id": cid}).status
        == 400
    )


@pytest.mark.parametrize(
    "ref", ["http://127.0.0.1:9/evil.json", "file:///etc/passwd", "other.json#/defs/a"]
)
def test_references_outside_the_schema_are_refused(api, owner, ref):
    schema = {"properties": {"a": {"$ref": ref}}}
    reply = api.request(
        "POST", "/v3/s", {"X-Master-Key": owner.key, "X-Schema-Doc-Name": "ref"}, schema
    )
    assert (reply.status, reply.json()) == (
        400,
        {
            "message": f"Invalid JSON Schema provided: $ref '{ref}' points outside the schema (only references within the schema are supported)"
        },
    )


def test_references_within_the_schema_work(api, owner):
    schema = {
        "$id": "https://openbin.example/person",
        "definitions": {"age": {"type": "integer"}},
        "properties": {
            "age": {"$ref": "#/definitions/age"},
            "twin": {"$ref": "https://openbin.example/person#/definitions/age"},
        },
    }
    cid = new_collection(api, owner)
    sid = new_schema(api, owner, schema)
    api.request(
        "PUT", f"/v3/c/{cid}/schemadoc/add", {"X-Master-Key": owner.key, "X-Schema-Doc-Id": sid}
    )
    headers = {"X-Master-Key": owner.key, "X-Collection-Id": cid}
    assert api.post("/v3/b", {"age": 3, "twin": 4}, headers).status == 200
    refused = api.post("/v3/b", {"age": "three"}, headers)
    assert (
        refused.json()["message"]
        == "Schema Doc Validation Mismatch: $.age: 'three' is not of type 'integer'"
    )


def test_data_keywords_are_not_patterns(api, owner):
    schema = {"properties": {"a": {"const": {"pattern": "(?=a)", "$ref": "http://x"}}}}
    reply = api.request(
        "POST", "/v3/s", {"X-Master-Key": owner.key, "X-Schema-Doc-Name": "c"}, schema
    )
    assert reply.status == 200
