"""One application of a JSON Patch within bounds (``patching`` reads the patch and words the
refusals): every operation's work counted on the step budget (``budget``) before it is done, the
record's size and depth kept below the limits, array shifts counted, and ``test`` comparing JSON
values exactly (numbers by their value as written, not as doubles)."""

from __future__ import annotations

import json

from openbin.bounded import budget
from openbin.errors import InvalidRequest
from openbin.validation import COMPACT, BigNumber, depth_within, to_json

CHARS_PER_STEP = 8
STEPS_PER_CHAR = 0.5  # four whole-record copies and more, on top of the base
STEPS_PER_OPERATION = 8
SHIFTS_PER_STEP = 64  # array elements moved by an insert or a removal (a memmove)


class TooLarge(Exception):
    """An operation would make the record larger than ``limit`` bytes."""


class TooDeep(Exception):
    """An operation would nest the record deeper than the depth limit."""


# (the record, its size in bytes as stored) -> the patched record


class Bounds:
    """What one application of a JSON Patch may spend: steps, the record's size, its depth."""

    def __init__(self, size_limit: int, max_depth: int, base_steps: int) -> None:
        self.size_limit = size_limit
        self.max_depth = max_depth
        self.base_steps = base_steps

    def steps(self, record_chars: int, patch_chars: int) -> int:
        return self.base_steps + int(STEPS_PER_CHAR * (record_chars + patch_chars))


def chars(value: object, exact: bool = False) -> int:
    """Characters of ``value`` as compact JSON (a container's by the C encoder; ``exact``: it
    may hold ``BigNumber``s, which only ``to_json`` counts as written)."""
    if type(value) is str:
        return len(value) + 2
    if type(value) in (dict, list):
        if exact:
            return len(to_json(value, exact=True))
        return len(json.dumps(value, ensure_ascii=False, separators=COMPACT, allow_nan=True))
    return len(repr(value))


def _exactly_equal(a: object, b: object) -> bool:
    """JSON equality, numbers by their exact value (``Decimal`` of the text as written)."""
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if isinstance(a, bool) or isinstance(b, bool):
            return type(a) is type(b) and a == b
        return _decimal(a) == _decimal(b)
    if type(a) is dict and type(b) is dict:
        return a.keys() == b.keys() and all(_exactly_equal(a[k], b[k]) for k in a)
    if type(a) is list and type(b) is list:
        return len(a) == len(b) and all(_exactly_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _decimal(number: float | int):
    from decimal import Decimal  # 4 ms at import: only when a test compares numbers

    return Decimal(number.text if isinstance(number, BigNumber) else repr(number))


def _value_at(pointer, record: object) -> object:
    """The value a pointer names in ``record`` (jsonpointer's own errors when there is none)."""
    return pointer.resolve(record)


class Applier:
    """One application of a JSON Patch's operations to one record, in place."""

    def __init__(self, operations, bounds: Bounds, size: int, exact: bool) -> None:
        self.operations = operations
        self.bounds = bounds
        self.size = size  # the record's size as compact JSON, kept current
        self.exact = exact  # values may hold BigNumbers (counted as written)

    def spend_on(self, value: object) -> int:
        size = chars(value, self.exact)
        budget.spend(1 + size // CHARS_PER_STEP)
        return size

    def grow(self, by: int) -> None:
        self.size += by
        if self.size > self.bounds.size_limit:
            raise TooLarge()

    def nest(self, parts: int, value: object) -> None:
        """``value`` is about to be placed ``parts`` levels down."""
        if type(value) not in (dict, list):
            return
        room = self.bounds.max_depth - parts
        if room < 1 or not depth_within(value, room):
            raise TooDeep()

    def before(self, operation, record: object) -> None:
        """Count the operation's work, and refuse it before it is done if it would make the
        record too large or too deep."""
        kind = operation.operation.get("op")
        parts = operation.pointer.parts
        budget.spend(STEPS_PER_OPERATION + len(parts))
        if kind in ("add", "copy", "remove", "move"):
            _spend_on_shift(operation.pointer, record)
        if kind in ("add", "replace", "test"):
            value = operation.operation.get("value")
            chars = self.spend_on(value)
            if kind == "test":
                self.spend_on(_value_or_none(operation.pointer, record))
                return
            self.nest(len(parts), value)
            old = 0
            if kind == "replace" or (parts and _is_member(operation, record)):
                old = self.replacedchars(operation, record)
            self.grow(chars - old)
        elif kind == "remove":
            self.grow(-self.replacedchars(operation, record))
        elif kind in ("copy", "move"):
            source = operation._from_pointer()
            budget.spend(len(source.parts))
            value = _value_at(source, record)
            if kind == "move":
                _spend_on_shift(source, record)
            if kind == "copy":
                self.nest(len(parts), value)
                old = self.replacedchars(operation, record) if _is_member(operation, record) else 0
                self.grow(self.spend_on(value) - old)
            elif len(parts) > len(source.parts):  # moved deeper
                self.spend_on(value)
                self.nest(len(parts), value)

    def replacedchars(self, operation, record: object) -> int:
        """Characters of the value an operation removes or replaces (0 when there is none:
        the operation then fails with jsonpatch's own error)."""
        try:
            value = _value_at(operation.pointer, record)
        except Exception:
            return 0
        return self.spend_on(value)

    def apply(self, record: object) -> object:
        import jsonpatch

        for operation in self.operations:
            self.before(operation, record)
            if operation.operation.get("op") == "test":  # exactly, not as doubles
                _test(operation, record, jsonpatch.JsonPatchTestFailed)
                continue
            record = operation.apply(record)
        return record


def _test(operation, record: object, failed: type[Exception]) -> None:
    if "value" not in operation.operation:
        raise InvalidRequest("JSON Patch cannot be applied: a test needs a 'value' member")
    try:
        found = _value_at(operation.pointer, record)
    except Exception:
        raise failed("no value at that path", op=operation) from None  # type: ignore[call-arg]
    if not _exactly_equal(found, operation.operation["value"]):
        raise failed("not equal", op=operation)  # type: ignore[call-arg]


def _value_or_none(pointer, record: object) -> object:
    try:
        return _value_at(pointer, record)
    except Exception:
        return None


def _spend_on_shift(pointer, record: object) -> None:
    """An insert into or a removal from an array moves the elements after it."""
    try:
        parent, part = pointer.to_last(record)
    except Exception:
        return  # jsonpatch refuses it when it is applied
    if type(parent) is list:
        index = len(parent) if part == "-" or not isinstance(part, int) else part
        budget.spend(max(0, len(parent) - index) // SHIFTS_PER_STEP)


def _is_member(operation, record: object) -> bool:
    """Whether an ``add`` or ``copy`` replaces an existing object member."""
    try:
        parent, part = operation.pointer.to_last(record)
    except Exception:
        return False  # jsonpatch refuses it when it is applied
    return isinstance(parent, dict) and part in parent
