"""Checks of client-supplied values: booleans, content types, versions and record bodies."""

from __future__ import annotations

import json

import pytest

from openbin.errors import InvalidRequest
from openbin.validation import (
    CONTENT_TYPE_MESSAGE,
    VERSION_BEYOND_ANY,
    parse_bool,
    parse_record,
    parse_version,
    require_json_content_type,
)

DEPTH = 100
NESTING = "JSON nesting is too deep (at most 100 levels)"


def refused(call, *args) -> str:
    with pytest.raises(InvalidRequest) as caught:
        call(*args)
    return caught.value.message


# -- booleans ----------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["true", "TRUE", "True", "tRuE"])
def test_parse_bool_true_any_case(value):
    assert parse_bool("X-Bin-Private", value, False) is True


@pytest.mark.parametrize("value", ["false", "FALSE", "False", "fAlSe"])
def test_parse_bool_false_any_case(value):
    assert parse_bool("X-Bin-Private", value, True) is False


def test_parse_bool_missing_is_the_default():
    assert parse_bool("X-Bin-Private", None, True) is True
    assert parse_bool("X-Bin-Private", None, False) is False


@pytest.mark.parametrize("value", ["", "yes", "1", "0", "no", "t", "truee", "null"])
def test_parse_bool_anything_else_is_refused(value):
    message = refused(parse_bool, "X-Bin-Private", value, True)
    assert message == "X-Bin-Private must be true or false"


def test_parse_bool_names_the_header():
    assert refused(parse_bool, "X-Bin-Meta", "maybe", True) == "X-Bin-Meta must be true or false"


# -- content type ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value",
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/json;charset=UTF-8",
        "Application/JSON",
        " application/json ",
    ],
)
def test_json_content_types_accepted(value):
    assert require_json_content_type(value) is None


@pytest.mark.parametrize(
    "value",
    [None, "", "text/plain", "application/jsonx", "application/x-www-form-urlencoded", "json"],
)
def test_other_content_types_refused(value):
    message = refused(require_json_content_type, value)
    assert message == "You need to pass Content-Type set to application/json"
    assert message == CONTENT_TYPE_MESSAGE


# -- versions ----------------------------------------------------------------------------------
def test_parse_version_latest():
    assert parse_version(None) is None
    assert parse_version("latest") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0", 0), ("1", 1), ("42", 42), ("007", 7), ("0000", 0), ("999999999999999999", 10**18 - 1)],
)
def test_parse_version_digits(value, expected):
    assert parse_version(value) == expected


@pytest.mark.parametrize("value", ["1" * 19, "9" * 400, "0" * 50 + "1" * 30])
def test_parse_version_huge_is_beyond_any_history(value):
    assert parse_version(value) == VERSION_BEYOND_ANY
    assert VERSION_BEYOND_ANY == 10**18


def test_parse_version_many_leading_zeros_is_small():
    assert parse_version("0" * 500 + "3") == 3


@pytest.mark.parametrize(
    "value",
    ["-1", "+1", "1.0", "1e3", "", " 1", "abc", "LATEST", "0x10", "١", "１", "²", "1_000"],
)
def test_parse_version_garbage_is_invalid(value):
    assert refused(parse_version, value) == "Bin version is invalid"


# -- records -----------------------------------------------------------------------------------
@pytest.mark.parametrize("raw", [b"", b" ", b"\n\t\r  ", b"{}", b"  {  }  ", b"\n{}\n"])
def test_blank_records(raw):
    assert refused(parse_record, raw, DEPTH) == "Bin cannot be blank"


def test_empty_array_is_accepted():
    assert parse_record(b"[]", DEPTH) == ([], "[]")


def test_object_is_returned_with_its_text():
    raw = b' {"a": [1, 2, {"b": null}], "c": "\xc3\xa9"} '
    value, text = parse_record(raw, DEPTH)
    assert value == {"a": [1, 2, {"b": None}], "c": "é"}
    assert text == '{"a": [1, 2, {"b": null}], "c": "é"}'


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b"[1,]",
        b"{'a': 1}",
        b'{"a": 1} x',
        b"[1] [2]",
        b'{"a"}',
        b"undefined",
        b"\xef\xbb\xbf[]",
    ],
)
def test_invalid_json(raw):
    assert refused(parse_record, raw, DEPTH) == "Invalid JSON provided"


@pytest.mark.parametrize(
    "raw",
    [
        b"NaN",
        b"[NaN]",
        b"[Infinity]",
        b"[-Infinity]",
        b'{"a": NaN}',
        b'{"a": [1, Infinity]}',
    ],
)
def test_nan_and_infinity_are_invalid_json(raw):
    assert refused(parse_record, raw, DEPTH) == "Invalid JSON provided"


@pytest.mark.parametrize(
    "raw",
    [b"[1e400]", b'{"a": -1.5E+999}', b"[1" + b"0" * 5000 + b"]", b'{"a": 1e-400}'],
    ids=["1e400", "-1.5E+999", "5001 digits", "1e-400"],
)
def test_json_numbers_beyond_pythons_types_are_valid_json(raw):
    """The JSON grammar sets no range; the record is stored as sent."""
    value, text = parse_record(raw, DEPTH)
    assert text.encode() == raw
    assert isinstance(value, list | dict)


def test_stored_numbers_read_back_exactly():
    from openbin.api.http import to_json
    from openbin.validation import BigNumber, loads_exact

    value = loads_exact(b'{"a": 1e400, "b": [-1E+999, 1.5], "c": 1' + b"0" * 5000 + b"}")
    assert isinstance(value["a"], BigNumber) and value["a"] == float("inf")
    assert value["b"][0] < -1e308 and value["b"][1] == 1.5
    assert to_json(value) == '{"a":1e400,"b":[-1E+999,1.5],"c":1' + "0" * 5000 + "}"
    assert to_json(["\ud800", value["a"]]) == '["\\ud800",1e400]'


@pytest.mark.parametrize("raw", [b"\xff\xfe[]", b'["\xc3\x28"]', b'{"a": "\x80"}', b"\xc0\xaf"])
def test_invalid_utf8(raw):
    assert refused(parse_record, raw, DEPTH) == "Invalid JSON provided"


@pytest.mark.parametrize("raw", [b"1", b"-2.5", b'"text"', b"true", b"false", b"null", b' "{}" '])
def test_scalars(raw):
    assert refused(parse_record, raw, DEPTH) == "Bin must be a JSON object or array"


def nested_arrays(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def nested_objects(depth: int) -> bytes:
    return b'{"a":' * (depth - 1) + b'{"a":1}' + b"}" * (depth - 1)


def test_nesting_up_to_the_limit_is_accepted():
    value, _ = parse_record(nested_arrays(DEPTH), DEPTH)
    assert json.dumps(value) == "[" * DEPTH + "]" * DEPTH
    value, _ = parse_record(nested_objects(DEPTH), DEPTH)
    assert isinstance(value, dict)


@pytest.mark.parametrize("depth", [DEPTH + 1, 500, 990])
def test_nesting_beyond_the_limit(depth):
    assert refused(parse_record, nested_arrays(depth), DEPTH) == NESTING
    assert refused(parse_record, nested_objects(depth), DEPTH) == NESTING


def test_nesting_limit_is_the_given_one():
    assert parse_record(nested_arrays(5), 5)[0] == [[[[[]]]]]
    message = refused(parse_record, nested_arrays(6), 5)
    assert message == "JSON nesting is too deep (at most 5 levels)"
    assert "nesting" in message


def test_very_deep_nesting_does_not_crash():
    assert refused(parse_record, nested_arrays(100_000), DEPTH) == NESTING
    assert refused(parse_record, nested_objects(100_000), DEPTH) == NESTING
    mixed = b'[{"a":' * 50_000 + b"1" + b"}]" * 50_000
    assert refused(parse_record, mixed, DEPTH) == NESTING


@pytest.mark.parametrize("raw", [b" \t\r\n[] \t\r\n", b'\n{"a": 1}\r\n'])
def test_json_whitespace_around_a_record_is_accepted(raw):
    value, text = parse_record(raw, DEPTH)
    assert text == raw.decode().strip(" \t\r\n")
    assert value == json.loads(raw)


@pytest.mark.parametrize(
    "raw", [b'\xc2\xa0{"a": 1}', b"\xc2\xa0", b"\x0c[]", b"[1]\x0b", b"\xe2\x80\xa8[1]", b"\x1c[]"]
)
def test_only_json_whitespace_is_stripped(raw):
    # RFC 8259 whitespace is space, tab, LF and CR; str.strip() would also drop NBSP, form
    # feed, vertical tab, U+2028 and the separators, accepting (and storing) invalid JSON.
    try:
        accepted = parse_record(raw, DEPTH)
    except InvalidRequest as error:
        assert error.message == "Invalid JSON provided"
    else:
        raise AssertionError(f"{raw!r} was accepted as {accepted!r}")


PARITY = [
    b'\xef\xbb\xbf{"a":1}',
    b'{"a":1}\x00',
    b'{"a":1,"a":2}',
    b"[NaN]",
    b"[1]x",
    b"[" + b"1" * 5000 + b"]",
    b"[-0]",
    b"[1E5]",
    b"[.5]",
    b"[01]",
    b'["a\tb"]',
    b'["\\u0000"]',
    b'["\\ud800"]',
    b"[1.0e+]",
    b"[\x0c1]",
    b'["\xed\xa0\x80"]',
    b"[tru]",
    b"[1e309]",
    b"[123456789012345678901234567890]",
    b"[-9223372036854775809]",
    b"[" * 600 + b"]" * 600,
    b"[" * 1100 + b"]" * 1100,
]


@pytest.mark.parametrize("raw", PARITY, ids=range(len(PARITY)))
def test_the_fast_parse_decides_exactly_as_the_standard_one(raw):
    """parse_record's orjson fast path accepts and refuses what the json path does: whatever
    orjson refuses is parsed again by ``loads``."""

    def outcome(exact: bool):
        try:
            parse_record(raw, 500, exact=exact)
        except InvalidRequest as refused:
            return refused.message
        return "ok"

    assert outcome(False) == outcome(True)


def test_exact_parsing_keeps_big_integers_for_schemas():
    raw = b'{"id": 123456789012345678901234567890}'
    assert parse_record(raw, 100, exact=True)[0] == {"id": 123456789012345678901234567890}
    fast, text = parse_record(raw, 100)
    assert text == raw.decode() and isinstance(fast, dict)  # checked, stored as sent


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("curl/8.5", "curl/8.5"),
        ("/v3/b/x", "/v3/b/x"),
        ("", ""),
        (200, 200),
    ],
)
def test_usage_log_cells_a_spreadsheet_would_run_get_a_quote(cell, shown):
    from openbin.api.usage import spreadsheet_safe

    assert spreadsheet_safe(cell) == shown
