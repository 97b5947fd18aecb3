"""openbin.bounded.schema_bounds and the budgets of openbin.bounded.schemas, without storage: what a schema
expands to, the meter, and that no schema of the allowed size runs long on the largest record."""

from __future__ import annotations

import json
import sys
import threading
import time

import pytest
from jsonschema.validators import Draft7Validator

from openbin.bounded import budget, schemas
from openbin.bounded import schema_bounds as bounds
from openbin.errors import InvalidRequest, SchemaMismatch
from openbin.models import SchemaDoc

pytestmark = pytest.mark.timeout(120)


expansion = schemas.expansion


def fan_out(levels: int, leaf: object) -> dict:
    definitions = {
        f"d{i}": {"anyOf": [{"$ref": f"#/definitions/d{i + 1}"}] * 2} for i in range(levels)
    }
    definitions[f"d{levels}"] = leaf
    return {"definitions": definitions, "$ref": "#/definitions/d0"}


def doc_for(schema: object) -> SchemaDoc:
    text = schemas.check_schema(json.dumps(schema).encode())[1]
    return SchemaDoc("a" * 24, "b" * 24, "hostile", text, "2026-01-01T00:00:00.000Z")


# -- expansion --------------------------------------------------------------------------------
def test_expansion_counts_every_subschema_a_pass_applies():
    assert expansion({"type": "object"}) == 1
    assert expansion({"properties": {"a": {}, "b": {"items": {}}}}) == 4
    # definitions apply nothing by themselves; each reference counts its target every time
    assert expansion({"definitions": {"x": {"type": "string"}, "unused": {}}}) == 1
    pair = {"definitions": {"x": {"not": {}}}, "allOf": [{"$ref": "#/definitions/x"}] * 2}
    assert expansion(pair) == 1 + 2 * (1 + 2)


def test_expansion_doubles_with_each_fanning_level():
    # level i costs itself plus twice (its reference plus level i+1): 1, 5, 13, 29; plus the root
    assert expansion(fan_out(3, True)) == 30
    assert expansion(fan_out(4, True)) == 62
    with pytest.raises(bounds.TooLarge):
        expansion(fan_out(30, True))


def test_a_loop_through_the_data_counts_once_and_a_loop_in_place_is_endless():
    tree = {"properties": {"children": {"items": {"$ref": "#"}}}}
    assert expansion(tree) == 4
    with pytest.raises(bounds.Endless):
        expansion({"anyOf": [{"type": "string"}, {"$ref": "#"}]})
    with pytest.raises(bounds.Endless):
        expansion(
            {
                "definitions": {"a": {"$ref": "#/definitions/b"}, "b": {"$ref": "#/definitions/a"}},
                "$ref": "#/definitions/a",
            }
        )


def test_a_chain_longer_than_the_recursion_limit_is_walked():
    length = sys.getrecursionlimit() * 2
    chain = {f"d{i}": {"$ref": f"#/definitions/d{i + 1}"} for i in range(length)}
    chain[f"d{length}"] = {"type": "string"}
    assert expansion({"definitions": chain, "$ref": "#/definitions/d0"}) == length + 2


def test_a_chain_too_deep_to_evaluate_is_refused_with_its_reason():
    chain = {f"d{i}": {"$ref": f"#/definitions/d{i + 1}"} for i in range(1500)}
    chain["d1500"] = {"type": "string"}
    with pytest.raises(InvalidRequest) as refused:
        schemas.check_schema(
            json.dumps({"definitions": chain, "$ref": "#/definitions/d0"}).encode()
        )
    assert (
        refused.value.message
        == "Invalid JSON Schema provided: its references nest too deeply to follow"
    )


# -- the meter --------------------------------------------------------------------------------
def test_the_meter_is_off_outside_a_metered_block():
    validator = Draft7Validator(fan_out(10, {"type": "object"}))
    assert budget.left() is None
    assert not validator.is_valid("x")  # unmetered: no budget, no error
    with budget.metered(100), pytest.raises(budget.OverBudget):
        validator.is_valid("x")
    assert budget.left() is None


def test_metered_blocks_take_turns_only_where_invocations_share_a_process(monkeypatch):
    """On Lambda (the default) metered blocks of different threads run together. openbin serve
    calls one_at_a_time(): a thread waits for the block before it (so 32 hostile queries in
    parallel cannot starve other requests of the interpreter lock; tests/e2e/test_durability.py
    measures that)."""
    monkeypatch.setattr(budget, "_turns", None)
    order: list[str] = []
    started = time.monotonic()
    assert _overlapping(order) and order == ["a in", "b in", "b out", "a out"]
    budget.one_at_a_time()
    order.clear()
    assert not _overlapping(order) and order == ["a in", "a out", "b in", "b out"]
    assert time.monotonic() - started < 5


def _overlapping(order: list[str]) -> bool:
    """Thread A holds a metered block until thread B has entered one, or for 0.5 s."""
    a_inside, b_inside = threading.Event(), threading.Event()

    def first():
        with budget.metered(10):
            order.append("a in")
            a_inside.set()
            b_inside.wait(0.5)
            order.append("a out")

    def second():
        a_inside.wait(5)
        with budget.metered(10):
            order.append("b in")
            b_inside.set()
            order.append("b out")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return order.index("b in") < order.index("a out")


def test_steps_are_charged_for_schema_values_instances_and_messages():
    def cost(schema, instance) -> int:
        with budget.metered(10**9):
            list(Draft7Validator(schema).iter_errors(instance))
            return 10**9 - budget.left()

    assert cost({"type": "string"}, "x") == 1
    assert cost({"required": ["a"] * 100}, {}) > 100  # one per name, and the 100 errors
    assert cost({"additionalProperties": False}, dict.fromkeys(map(str, range(50)))) > 50
    assert cost({"pattern": "a"}, "b" * 6400) > 100  # one step per 64 characters scanned
    assert cost({"type": "string"}, ["x" * 6400]) > 100  # the message quotes the instance


def test_unique_items_follows_json_equality():
    validator = Draft7Validator({"uniqueItems": True})
    assert not validator.is_valid([1, 1.0])
    assert not validator.is_valid([{"a": [1, {"b": 2}]}, {"a": [1.0, {"b": 2}]}])
    assert not validator.is_valid([{"a": 1, "b": 2}, {"b": 2, "a": 1}])
    assert validator.is_valid([1, True, "1", [1], {"1": 1}, None, 0, False, [], {}])
    assert validator.is_valid([[1, 2], [2, 1]])


def test_multiple_of_on_a_number_beyond_a_double_is_a_mismatch():
    doc = doc_for({"properties": {"n": {"multipleOf": 0.5}}})
    with pytest.raises(SchemaMismatch) as refused:
        schemas.validate(doc, {"n": float("inf")}, 12)
    assert refused.value.message == (
        "Schema Doc Validation Mismatch: $.n: inf cannot be checked against multipleOf"
    )


def test_the_budget_grows_with_the_record_up_to_a_ceiling():
    assert schemas.validation_budget(0) == 20_000
    assert schemas.validation_budget(100_000) == 220_000
    assert schemas.validation_budget(1_048_576) == schemas.VALIDATION_MAX_STEPS == 750_000


# -- no schema of the allowed size runs long ------------------------------------------------------
MB = 1_048_576


def big_array(item: object, size: int = MB - 1024) -> list:
    one = len(json.dumps(item)) + 2
    return [item] * (size // one)


HOSTILE = {
    # fans out within the save-time limit, and fails at every item
    "fan-out on every item": (
        {
            "definitions": fan_out(10, {"type": "string"})["definitions"],
            "items": {"$ref": "#/definitions/d0"},
        },
        big_array({"a": 1}),
    ),
    # doubles the work at every level of the data
    "fan-out through the data": (
        {"anyOf": [{"required": ["y"], "properties": {"x": {"$ref": "#"}}}] * 2},
        json.loads('{"x":' * 99 + "{}" + "}" * 99),
    ),
    # every failing branch quotes the whole 1 MB instance in its message
    "messages quoting the instance": (
        {"anyOf": [{"type": "string"}] * 2000},
        big_array("abcdefgh"),
    ),
    # 2,000 patterns against 40,000 keys
    "patterns against many keys": (
        {"patternProperties": {f"^k{i}x": {} for i in range(2000)}},
        {f"k{i}": 0 for i in range(40_000)},
    ),
    # a 4,000-name required list at each of 100,000 items
    "large required on every item": (
        {"items": {"required": [f"p{i}" for i in range(4000)]}},
        big_array({}),
    ),
    # an enum of 1,000 near-identical objects at every item
    "large enum on every item": (
        {"items": {"enum": [{"a": i, "b": [1, 2, 3]} for i in range(1000)]}},
        big_array({"a": -1, "b": [1, 2, 3]}),
    ),
    # items that are all one object: uniqueItems, pairwise in jsonschema
    "unique items of 50,000 objects": (
        {"uniqueItems": True, "items": {"type": "object"}},
        [{"i": i} for i in range(50_000)],
    ),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_no_schema_runs_long_on_the_largest_record(name):
    schema, record = HOSTILE[name]
    doc = doc_for(schema)
    size = len(json.dumps(record, separators=(",", ":")))
    assert size <= MB
    started = time.perf_counter()
    try:
        schemas.validate(doc, record, size)
    except SchemaMismatch as mismatch:
        assert len(mismatch.message) < 600
    elapsed = time.perf_counter() - started
    # ~2 s of one core at most here; 10 s leaves room for a loaded CI machine
    assert elapsed < 10, f"{name}: {elapsed:.2f} s"
