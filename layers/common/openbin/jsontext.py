"""JSON text written and read exactly: numbers kept as they were written (``BigNumber``,
``NumberLog``), ``NaN`` and ``Infinity`` refused (they are not JSON), compact JSON that is always
valid UTF-8 (``to_json``), and what a text takes in a Lambda answer (``answer_size``)."""

from __future__ import annotations

import json

# Python converts at most 4,300 digits to an int by default; JSON sets no limit.
INT_DIGITS = 4000


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
