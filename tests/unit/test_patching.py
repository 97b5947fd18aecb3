"""openbin.bounded.patching's rules, case by case (the contract tests drive them over HTTP)."""

from __future__ import annotations

import pytest

from openbin.bounded import patching
from openbin.errors import Conflict, InvalidRequest
from openbin.validation import NumberLog, loads_exact

BOUNDS = patching.Bounds(size_limit=102_400, max_depth=100, base_steps=12_500)


def apply(record: bytes, patch: bytes, bounds: patching.Bounds = BOUNDS):
    numbers, stored = NumberLog(), NumberLog()
    operations = patching.json_patch(patching.parse(patch, bounds.max_depth, numbers))
    value = loads_exact(record, stored)
    patcher = patching.json_patcher(operations, bounds, len(patch), numbers.kept or stored.kept)
    return patcher(value, len(record))


@pytest.mark.parametrize(
    ("stored", "tested", "equal"),
    [
        (b"true", b"1", False),  # a boolean is no number
        (b"1", b"true", False),
        (b"true", b"true", True),
        (b'{"a": [1, 2.50]}', b'{"a": [1, 2.5]}', True),
        (b'{"a": 1}', b'{"b": 1}', False),
        (b"[1, 2]", b"[1, 2, 3]", False),
        (b'"x"', b'"x"', True),
        (b"null", b"null", True),
        (b"1E5", b"100000", True),
    ],
)
def test_a_test_compares_json_values_exactly(stored, tested, equal):
    record = b'{"x": ' + stored + b"}"
    patch = b'[{"op": "test", "path": "/x", "value": ' + tested + b"}]"
    if equal:
        assert apply(record, patch) is not None
    else:
        with pytest.raises(Conflict):
            apply(record, patch)


def test_a_test_of_a_path_that_is_not_there_fails_as_a_test():
    with pytest.raises(Conflict, match="the value at /nowhere is not 1"):
        apply(b'{"x": 1}', b'[{"op": "test", "path": "/nowhere", "value": 1}]')


def test_a_test_without_a_value_is_400():
    with pytest.raises(InvalidRequest):
        apply(b'{"x": 1}', b'[{"op": "test", "path": "/x"}]')


def test_moving_a_value_deeper_is_held_to_the_depth_limit():
    deep = b"[" * 98 + b"1" + b"]" * 98
    record = b'{"a": {"b": {}}, "v": ' + deep + b"}"
    with pytest.raises(InvalidRequest, match="nesting is too deep"):
        apply(record, b'[{"op": "move", "from": "/v", "path": "/a/b/v"}]')
    assert apply(record, b'[{"op": "move", "from": "/v", "path": "/w"}]')["w"] is not None


def test_a_path_through_a_scalar_names_no_part_of_the_record():
    with pytest.raises(InvalidRequest) as refused:
        apply(b'{"secret": "s3cr3t"}', b'[{"op": "add", "path": "/secret/x/y", "value": 1}]')
    assert "s3cr3t" not in str(refused.value)


def test_a_patch_too_deep_to_parse_says_so():
    with pytest.raises(InvalidRequest, match="nesting is too deep"):
        patching.parse(b"[" * 100_000 + b"]" * 100_000, 100)


def test_a_merge_patch_follows_rfc_7396():
    merge = patching.merge({"a": None, "b": {"c": 1}, "d": [1]})
    assert merge({"a": 1, "b": {"x": 2}, "d": {"e": 1}}, 0) == {"b": {"x": 2, "c": 1}, "d": [1]}
    assert patching.merge([1])({"a": 1}, 0) == [1]
