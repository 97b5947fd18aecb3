"""Checks of client-supplied values, shared by every route. Pure functions, no I/O."""

from __future__ import annotations

import io
import json
import re
from typing import Any, overload

from openbin.errors import InvalidRequest

VERSION_BEYOND_ANY = 10**18
JSON_WHITESPACE = " \t\n\r"
_JSON_WHITESPACE_BYTES = JSON_WHITESPACE.encode()
_NOT_PARSED = object()
CONTENT_TYPE_MESSAGE = "You need to pass Content-Type set to application/json"
# Python converts at most 4,300 digits to an int by default; JSON sets no limit.
INT_DIGITS = 4000


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


class _NotJSON(ValueError):
    pass


def _reject_constant(name: str) -> None:
    raise _NotJSON(f"{name} is not valid JSON")


class BigNumber(float):
    """A JSON number that a double does not write back as it was sent, read from a stored
    record or a patch: beyond a double's range (``1e400``, an integer of thousands of digits;
    it compares as ±infinity, as JavaScript reads it), with more digits than a double holds
    (``3.14159265358979323846264``), or written otherwise (``1E5``, ``1.50``; it compares as
    the nearest double). ``to_json(..., exact=True)`` writes it back exactly as it was sent.
    Immutable: a copy is itself."""

    __slots__ = ("text",)
    text: str

    def __new__(cls, text: str) -> BigNumber:
        number = super().__new__(cls, float(text))
        number.text = text
        return number

    def __repr__(self) -> str:
        return self.text

    def __reduce__(self):
        return (BigNumber, (self.text,))

    def __copy__(self) -> BigNumber:
        return self

    def __deepcopy__(self, memo: dict) -> BigNumber:
        return self


class NumberLog:
    """Told by ``loads_exact`` when a parse kept a number as ``BigNumber``: only then must the
    value be written back by the exact (slower) path of ``to_json``."""

    __slots__ = ("kept",)

    def __init__(self) -> None:
        self.kept = False


def _exact_float(text: str, log: NumberLog | None = None) -> float:
    number = float(text)
    if repr(number) == text:
        return number
    if log is not None:
        log.kept = True
    return BigNumber(text)


def _exact_int(text: str, log: NumberLog | None = None) -> int | float:
    if len(text) <= INT_DIGITS and text != "-0":  # -0 is JSON, and no Python int
        return int(text)
    if log is not None:
        log.kept = True
    return BigNumber(text)


def _float_beyond_int_digits(text: str) -> int | float:
    return int(text) if len(text) <= INT_DIGITS else float(text)


def loads(text: str | bytes) -> object:
    """JSON by its grammar, not by Python's number types: ``NaN`` and ``Infinity`` (not JSON)
    are refused; ``1e400`` and integers of any length (JSON) are accepted, as ±infinity. For
    checking a value (depth, schema); the record itself is stored as sent. ValueError when
    the text is not JSON."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (json.JSONDecodeError, _NotJSON):
        raise
    except ValueError:  # an integer longer than Python converts by default
        return json.loads(text, parse_constant=_reject_constant, parse_int=_float_beyond_int_digits)


def loads_exact(data: bytes, numbers: NumberLog | None = None) -> object:
    """JSON (a stored record, a patch) parsed so that writing it back keeps every number as it
    was written: those a double does not write back so become ``BigNumber`` (and ``numbers``,
    when given, is told). For JSONPath answers and patches."""
    if numbers is None:
        return json.loads(data, parse_float=_exact_float, parse_int=_exact_int)
    return json.loads(
        data,
        parse_float=lambda text: _exact_float(text, numbers),
        parse_int=lambda text: _exact_int(text, numbers),
    )


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


COMPACT = (",", ":")

# Lambda's limit on a synchronous response: the handler's answer as JSON, whose body is one
# string, so every '"' and '\\' of a record counts twice (the python3.12+ runtimes write other
# characters as UTF-8, unescaped: é 2 bytes, an emoji 4). Room is left for the status, the
# headers and the metadata around the record.
LAMBDA_RESPONSE_LIMIT = 6_291_556
ANSWER_ROOM = 8_192
# Below this many characters no text can reach the limit, however it is written (4 bytes each).
_ALWAYS_FITS = (LAMBDA_RESPONSE_LIMIT - ANSWER_ROOM) // 4


def answer_size(text: str) -> int | None:
    """The bytes ``text`` takes once escaped into a Lambda response, when that is past the
    limit; None when it fits (checked exactly only for large texts)."""
    if len(text) <= _ALWAYS_FITS:
        return None
    written = json.dumps(text, ensure_ascii=False).encode("utf-8", "surrogatepass")
    size = len(written) + ANSWER_ROOM
    return size if size > LAMBDA_RESPONSE_LIMIT else None


def check_answerable(text: str) -> None:
    """A record is only accepted if it can be read back (API.md §1, "Limits of the wire")."""
    size = answer_size(text)
    if size is not None:
        from openbin.errors import NotAllowed

        raise NotAllowed(
            f"Record too large to be read back: as a JSON answer it would take {size} bytes, "
            f"over Lambda's {LAMBDA_RESPONSE_LIMIT}"
        )


def to_json(value: object, exact: bool = False) -> str:
    """Compact JSON that is always valid UTF-8 and valid JSON: a lone surrogate (which JSON may
    carry in a record, as ``\\ud800``) is escaped instead of breaking the answer, and a number
    beyond a double's range (``BigNumber``) is written as it was sent, never as ``Infinity``.
    ``exact``: the value holds ``BigNumber``s within a double's range too (``NumberLog``), and
    every one is written as it was sent."""
    try:
        if exact:
            raise ValueError("numbers to write as sent")
        text = json.dumps(value, ensure_ascii=False, separators=COMPACT, allow_nan=False)
    except ValueError:
        text = _exact(value, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = _exact(value, ensure_ascii=True)
    return text


def _exact(value: object, ensure_ascii: bool) -> str:
    """The slow path of ``to_json``: numbers as read (``BigNumber.text``)."""
    if isinstance(value, BigNumber):
        return value.text
    if type(value) is dict:
        items = (
            json.dumps(k, ensure_ascii=ensure_ascii) + ":" + _exact(v, ensure_ascii)
            for k, v in value.items()
        )
        return "{" + ",".join(items) + "}"
    if type(value) is list:
        return "[" + ",".join(_exact(v, ensure_ascii) for v in value) + "]"
    return json.dumps(value, ensure_ascii=ensure_ascii)
