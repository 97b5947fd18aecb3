"""docs/API.md §5, "a hostile schema cannot hang a function": schemas whose references fan out
are refused when saved; schemas whose work grows with the data stop at their step budget with
a clear 400. Every case runs under a timeout, so a regression fails instead of hanging."""

from __future__ import annotations

import json
import time

import pytest

from tests.contract.test_collections import new_collection, new_schema

pytestmark = pytest.mark.timeout(60)

TOO_LARGE = "Invalid JSON Schema provided: its references expand to more than 10000 subschemas"
ENDLESS = "Invalid JSON Schema provided: the schema refers to itself without end"
TOO_SLOW = "Invalid JSON Schema provided: checking it takes more than 200000 steps"
# Wall-clock bounds are loose on purpose (a loaded CI machine); before the fix these cases
# took seconds to forever.
QUICK = 5.0


def fan_out(levels: int, leaf: dict) -> dict:
    """Each level refers twice to the next: 2^levels subschemas in one pass, in about 1 KB."""
    definitions = {
        f"d{i}": {"anyOf": [{"$ref": f"#/definitions/d{i + 1}"}] * 2} for i in range(levels)
    }
    definitions[f"d{levels}"] = leaf
    return {"definitions": definitions, "$ref": "#/definitions/d0"}


def save(api, owner, schema):
    headers = {"X-Master-Key": owner.key, "X-Schema-Doc-Name": "hostile"}
    started = time.monotonic()
    reply = api.request("POST", "/v3/s", headers, schema)
    return reply, time.monotonic() - started


def collection_with(api, owner, schema) -> str:
    cid = new_collection(api, owner)
    sid = new_schema(api, owner, schema)
    reply = api.request(
        "PUT", f"/v3/c/{cid}/schemadoc/add", {"X-Master-Key": owner.key, "X-Schema-Doc-Id": sid}
    )
    assert reply.status == 200, reply.body
    return cid


@pytest.mark.parametrize(
    "leaf",
    [{"type": "object"}, {"properties": {"q": {"type": "string"}}}],
    ids=["leaf-checked-on-save", "leaf-only-checked-on-data"],
)
@pytest.mark.parametrize("levels", [14, 30])
def test_references_that_fan_out_are_refused_on_save(api, owner, levels, leaf):
    reply, took = save(api, owner, fan_out(levels, leaf))
    assert (reply.status, reply.json()) == (400, {"message": TOO_LARGE})
    assert took < QUICK


def test_a_schema_too_costly_to_check_is_refused_on_save(api, owner):
    """Within the expansion limit (8,190 subschemas), but every one of its 2,048 leaves compares
    the probe values with 50 others."""
    reply, took = save(api, owner, fan_out(11, {"enum": list(range(50))}))
    assert (reply.status, reply.json()) == (400, {"message": TOO_SLOW})
    assert took < QUICK


def test_a_fan_out_within_the_limit_is_saved_and_used(api, owner):
    cid = collection_with(api, owner, fan_out(8, {"type": "object"}))
    headers = {"X-Master-Key": owner.key, "X-Collection-Id": cid}
    assert api.post("/v3/b", {"a": 1}, headers).status == 200
    refused = api.post("/v3/b", [1], headers)
    assert refused.status == 400
    assert refused.json()["message"] == (
        "Schema Doc Validation Mismatch: $: [1] is not valid under any of the given schemas"
    )


@pytest.mark.parametrize(
    "schema",
    [
        {"anyOf": [{"type": "string"}, {"$ref": "#"}]},
        {"allOf": [{"$ref": "#/definitions/a"}], "definitions": {"a": {"not": {"$ref": "#"}}}},
    ],
    ids=["through-anyOf", "through-a-definition"],
)
def test_a_reference_loop_that_never_reaches_the_data_is_refused(api, owner, schema):
    reply, took = save(api, owner, schema)
    assert (reply.status, reply.json()) == (400, {"message": ENDLESS})
    assert took < QUICK


def test_recursion_through_the_data_is_a_schema_like_any_other(api, owner):
    tree = {
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": "string"}, "children": {"items": {"$ref": "#"}}},
    }
    cid = collection_with(api, owner, tree)
    record: dict = {"name": "leaf"}
    for level in range(45):  # 90 levels of JSON nesting
        record = {"name": f"n{level}", "children": [record]}
    headers = {"X-Master-Key": owner.key, "X-Collection-Id": cid}
    assert api.post("/v3/b", record, headers).status == 200
    record["children"][0]["children"][0]["name"] = 7
    refused = api.post("/v3/b", record, headers)
    assert refused.json()["message"] == (
        "Schema Doc Validation Mismatch: $.children[0].children[0].name: 7 is not of type 'string'"
    )


def test_work_that_grows_with_the_data_stops_at_the_budget(api, owner):
    """Saved (each pass applies a handful of subschemas), but every level of the data doubles
    the work: the record is refused with a 400 instead of running for 2^40 steps."""
    schema = {
        "anyOf": [
            {"required": ["y"], "properties": {"x": {"$ref": "#"}}},
            {"required": ["z"], "properties": {"x": {"$ref": "#"}}},
        ]
    }
    cid = collection_with(api, owner, schema)
    record: dict = {"y": 1}
    for _ in range(40):
        record = {"x": record}
    started = time.monotonic()
    reply = api.post("/v3/b", record, {"X-Master-Key": owner.key, "X-Collection-Id": cid})
    assert time.monotonic() - started < QUICK
    assert reply.status == 400
    body = reply.json()
    budget = 20_000 + 2 * len(json.dumps(record))  # docs/API.md: 20,000 + 2 a byte
    assert body["message"] == (
        f"Schema Doc Validation Mismatch: $: validating the record against this schema takes more than {budget} steps"
    )
    assert set(body) == {"message", "schemaDocID", "schemaDocName"}
    assert (
        api.post("/v3/b", {"y": 1}, {"X-Master-Key": owner.key, "X-Collection-Id": cid}).status
        == 200
    )


def test_unique_items_is_linear(api):
    """jsonschema compares unsortable items pairwise: 8,000 objects were 32 million
    comparisons."""
    owner = api.account("pro")
    cid = collection_with(api, owner, {"type": "array", "uniqueItems": True})
    headers = {"X-Master-Key": owner.key, "X-Collection-Id": cid}
    items = [{"i": i} for i in range(8000)]
    started = time.monotonic()
    assert api.post("/v3/b", items, headers).status == 200
    refused = api.post("/v3/b", [*items, {"i": 7999.0}], headers)  # 7999.0 equals 7999
    assert time.monotonic() - started < QUICK
    assert refused.status == 400
    message = refused.json()["message"]
    assert message.startswith("Schema Doc Validation Mismatch: $: [{'i': 0}, {'i': 1}")
    # a reason over 512 characters keeps its start and its end
    assert message.endswith("{'i': 7999.0}] has non-unique elements")
    reason = message.removeprefix("Schema Doc Validation Mismatch: $: ")
    assert len(reason) <= 512 and "..." in reason
    assert api.post("/v3/b", [1, True, "1", [1], {"a": 1}, {"a": True}], headers).status == 200


def test_const_and_enum_compare_whole_values(api, owner):
    big = {f"k{i}": i for i in range(1500)}
    schema = {"items": {"anyOf": [{"const": big}, {"enum": [big, [big]]}]}}
    cid = collection_with(api, owner, schema)
    near = dict(big, k1499=-1)  # equal to the const but for its last key
    started = time.monotonic()
    reply = api.post("/v3/b", [near] * 3, {"X-Master-Key": owner.key, "X-Collection-Id": cid})
    assert time.monotonic() - started < QUICK
    assert reply.status == 400
    message = reply.json()["message"]
    assert message.startswith("Schema Doc Validation Mismatch: $[2]: {'k0': 0, 'k1': 1")
    assert message.endswith("'k1499': -1} is not valid under any of the given schemas")
    headers = {"X-Master-Key": owner.key, "X-Collection-Id": cid}
    assert api.post("/v3/b", [big, [big], dict(reversed(big.items()))], headers).status == 200
