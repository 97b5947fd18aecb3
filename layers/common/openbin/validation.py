"""Checks of client-supplied values, shared by every route. Pure functions, no I/O."""

from __future__ import annotations

import io
import re
from typing import Any, overload

from openbin.errors import InvalidRequest

# JSON text read and written exactly lives in openbin.jsontext; these names stay importable here.
from openbin.jsontext import (  # noqa: F401
    ANSWER_ROOM,
    COMPACT,
    INT_DIGITS,
    LAMBDA_RESPONSE_LIMIT,
    BigNumber,
    NumberLog,
    answer_size,
    check_answerable,
    loads,
    loads_exact,
    to_json,
)

VERSION_BEYOND_ANY = 10**18
JSON_WHITESPACE = " \t\n\r"
_JSON_WHITESPACE_BYTES = JSON_WHITESPACE.encode()
_NOT_PARSED = object()
CONTENT_TYPE_MESSAGE = "You need to pass Content-Type set to application/json"


@overload
def parse_bool(header_name: str, value: str | None, default: bool) -> bool: ...
@overload
def parse_bool(header_name: str, value: str | None, default: None) -> bool | None: ...
def parse_bool(header_name: str, value: str | None, default: bool | None) -> bool | None:
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise InvalidRequest(f"{header_name} must be true or false")


def check_name(value: str | None, header: str, thing: str, limit: int = 32) -> str:
    """A collection's, schema doc's or access key's name: present, not blank, short."""
    if value is None or not value.strip():
        raise InvalidRequest(f"You need to pass {header} header to set a name for the {thing}")
    if len(value) > limit:
        raise InvalidRequest(f"Name of the {thing} cannot be above {limit} characters")
    return value


def check_bin_name(name: str) -> None:
    if not name.strip() or len(name) > 128:
        raise InvalidRequest("X-Bin-Name cannot be blank or over 128 characters")


IDEMPOTENCY_KEY_MESSAGE = "Idempotency-Key must be 1 to 255 printable ASCII characters"
_IDEMPOTENCY_KEY = re.compile(r"[\x20-\x7e]{1,255}")


def is_idempotency_key(value: str) -> bool:
    """1 to 255 printable ASCII characters (what any HTTP client sends unchanged)."""
    return _IDEMPOTENCY_KEY.fullmatch(value) is not None


def require_json_content_type(value: str | None) -> None:
    media_type = (value or "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise InvalidRequest(CONTENT_TYPE_MESSAGE)


VERSION_INVALID = "Bin version is invalid"


def parse_version(value: str | None) -> int | None:
    """``None`` or ``latest`` → None (the latest record); digits → that version number."""
    if value is None or value == "latest":
        return None
    return parse_version_number(value)


def parse_version_number(value: str) -> int:
    """A version number in a path (a read, a restore, a history cursor): ASCII digits only
    (``¹``, ``٣`` or ``３`` are digits to Python, not to a client), else 400."""
    if not value.isascii() or not value.isdigit():
        raise InvalidRequest(VERSION_INVALID)
    digits = value.lstrip("0") or "0"
    # Anything longer than 18 digits is beyond any history: answer 404, never parse a huge int.
    return int(digits) if len(digits) <= 18 else VERSION_BEYOND_ANY


_CONTAINERS = frozenset({dict, list})


def depth_within(value: object, max_depth: int) -> bool:
    """Whether no array or object of ``value`` is nested deeper than ``max_depth`` levels (the
    value itself is level 1). Recursion goes only into containers, at most ``max_depth`` calls
    deep; about 20% faster than an explicit stack of (node, depth) pairs."""
    if max_depth < 1:
        return False
    children: Any = value.values() if type(value) is dict else value
    for child in children:
        if type(child) in _CONTAINERS and not depth_within(child, max_depth - 1):
            return False
    return True


def parse_record(raw: bytes, max_depth: int, exact: bool = False) -> tuple[object, str]:
    """Validate a bin body. Returns the parsed value and the JSON text as sent (without the
    surrounding whitespace); ``record_bytes`` gives the same text as bytes, uncopied.

    The value is only checked (the record is stored as sent), so it is parsed by orjson (C,
    about twice as fast as ``json`` on a large record: docs/PERFORMANCE.md), which refuses a
    few valid JSON texts (numbers beyond a double, lone surrogate escapes, nesting past 1,024)
    and reads integers beyond 64 bits as floats: whatever it refuses is parsed again by
    ``loads``, which decides. ``exact``: the value will be validated against a schema, so
    integers must stay exact: ``loads`` alone."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequest("Invalid JSON provided") from None
    stripped = text.strip(JSON_WHITESPACE)  # only what JSON calls whitespace (RFC 8259)
    if not stripped:
        raise InvalidRequest("Bin cannot be blank")
    value: object = _NOT_PARSED
    if not exact:
        import orjson

        try:
            value = orjson.loads(raw.strip(_JSON_WHITESPACE_BYTES))
        except orjson.JSONDecodeError:
            pass  # not JSON, or JSON that orjson does not take: loads decides
    if value is _NOT_PARSED:
        try:
            value = loads(stripped)
        except RecursionError:
            raise InvalidRequest(f"JSON nesting is too deep (at most {max_depth} levels)") from None
        except ValueError:
            raise InvalidRequest("Invalid JSON provided") from None
    if type(value) is dict:
        if not value:
            raise InvalidRequest("Bin cannot be blank")
    elif type(value) is not list:
        raise InvalidRequest("Bin must be a JSON object or array")
    if not depth_within(value, max_depth):
        raise InvalidRequest(f"JSON nesting is too deep (at most {max_depth} levels)")
    return value, stripped


def record_bytes(raw: bytes) -> bytes:
    """The body as stored: the bytes as sent, without surrounding JSON whitespace (they were
    validated as UTF-8 by parse_record, so no decode and re-encode is needed)."""
    return raw.strip(JSON_WHITESPACE.encode())


FORM_CONTENT_TYPE_MESSAGE = (
    "You need to pass Content-Type set to multipart/form-data, with the JSON as a file"
)
NO_FILE_MESSAGE = "You need to upload the JSON as a file (a form part with a filename)"
BAD_FORM_MESSAGE = "Invalid multipart/form-data body"


def uploaded_file(content_type: str | None, body: bytes) -> bytes:
    """The first file part of a ``multipart/form-data`` body (an XL bin's upload), as sent."""
    from multipart import MultipartError, MultipartParser, parse_options_header

    media_type, options = parse_options_header(content_type or "")
    boundary = options.get("boundary")
    if media_type.lower() != "multipart/form-data" or not boundary:
        raise InvalidRequest(FORM_CONTENT_TYPE_MESSAGE)
    limit = len(body) + 1  # the whole body in memory: it was size-checked before
    parser = MultipartParser(
        io.BytesIO(body),
        boundary,
        len(body),
        strict=True,
        memory_limit=limit,
        spool_limit=limit,
        part_limit=100,
    )
    try:
        for part in parser:
            if part.filename is not None:
                return part.raw
    except MultipartError:
        raise InvalidRequest(BAD_FORM_MESSAGE) from None
    raise InvalidRequest(NO_FILE_MESSAGE)
