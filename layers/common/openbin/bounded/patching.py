"""PATCH bodies (docs/API.md §3.9): JSON Merge Patch (RFC 7396) and JSON Patch (RFC 6902),
applied within bounds, so that a hostile patch gets a clear 4xx quickly instead of exhausting
the function:

- a JSON Patch's work is metered (``budget``): every operation costs a few steps plus
  one step for every ``CHARS_PER_STEP`` characters of the values it copies, adds, replaces,
  removes or tests (measured as compact JSON, by the C encoder). The budget is ``base_steps``
  plus ``STEPS_PER_CHAR`` steps for each character of the record and of the patch, so a patch
  whose operations each touch a small part of the record always fits, and ``copy`` doubling
  (``{"op": "copy", "from": "", "path": "/a"}`` twenty times) is refused after a few
  milliseconds;
- the record is never let grow past the plan's limit: an operation that would take it there
  is refused before it is done (``TooLarge``), and one that would nest it deeper than the
  depth limit too;
- at most ``MAX_OPERATIONS`` operations (each costs some microseconds whatever it touches);
- inserting into or removing from an array costs the elements it shifts;
- ``test`` compares numbers exactly (``3.14159265358979323846264`` is not the nearest double);
- no answer quotes the record: an error names the operation and the path that was sent.

A merge patch needs no meter: its work follows the patch's own structure.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from openbin.bounded import budget
from openbin.errors import Conflict, InvalidRequest
from openbin.validation import (
    COMPACT,
    BigNumber,
    NumberLog,
    depth_within,
    loads_exact,
    to_json,
)

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
CHARS_PER_STEP = 8
STEPS_PER_CHAR = 0.5  # four whole-record copies and more, on top of the base
STEPS_PER_OPERATION = 8
SHIFTS_PER_STEP = 64  # array elements moved by an insert or a removal (a memmove)
MAX_OPERATIONS = 10_000
TOO_COSTLY = "JSON Patch takes too much work to apply (more than {steps} steps on this record)"
TOO_MANY = f"Invalid JSON Patch document: more than {MAX_OPERATIONS} operations"


class TooLarge(Exception):
    """An operation would make the record larger than ``limit`` bytes."""


class TooDeep(Exception):
    """An operation would nest the record deeper than the depth limit."""


# (the record, its size in bytes as stored) -> the patched record
Patch = Callable[[Any, int], Any]


def depth_message(max_depth: int) -> str:
    return f"JSON nesting is too deep (at most {max_depth} levels)"


def parse(body: bytes, max_depth: int, numbers: NumberLog | None = None) -> object:
    """A PATCH body: JSON within the depth limit (numbers kept as sent, ``numbers`` told when
    one is not what a double writes back)."""
    try:
        document = loads_exact(body, numbers)
    except RecursionError:
        raise InvalidRequest(depth_message(max_depth)) from None
    except ValueError:
        raise InvalidRequest("Invalid JSON provided") from None
    if isinstance(document, (dict, list)) and not depth_within(document, max_depth):
        raise InvalidRequest(depth_message(max_depth))
    return document


def merge(patch) -> Patch:
    """The function a JSON Merge Patch stands for."""
    return lambda record, size: merge_patch(record, patch)


def merge_patch(target, patch):
    """RFC 7396: a patch that is an object merges into the target member by member (null
    removes one); anything else replaces the target."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def json_patch(document: object):
    """The checked operations of a JSON Patch document (``InvalidRequest`` when it is not one)."""
    import jsonpatch

    if not isinstance(document, list):
        raise InvalidRequest("Invalid JSON Patch document: it must be an array of operations")
    if len(document) > MAX_OPERATIONS:
        raise InvalidRequest(TOO_MANY)
    try:
        # one operation object each, its shape checked (jsonpatch's own list, not public API:
        # the contract tests of every operation hold it)
        operations = jsonpatch.JsonPatch(document)._ops  # type: ignore[attr-defined]
    except (
        jsonpatch.JsonPatchException,
        jsonpatch.JsonPointerException,
        TypeError,
        AttributeError,
        KeyError,
    ) as error:
        raise InvalidRequest(f"Invalid JSON Patch document: {error}") from None
    return operations


class Bounds:
    """What one application of a JSON Patch may spend: steps, the record's size, its depth."""

    def __init__(self, size_limit: int, max_depth: int, base_steps: int) -> None:
        self.size_limit = size_limit
        self.max_depth = max_depth
        self.base_steps = base_steps

    def steps(self, record_chars: int, patch_chars: int) -> int:
        return self.base_steps + int(STEPS_PER_CHAR * (record_chars + patch_chars))


def _chars(value: object, exact: bool = False) -> int:
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


class _Applier:
    """One application of a JSON Patch's operations to one record, in place."""

    def __init__(self, operations, bounds: Bounds, size: int, exact: bool) -> None:
        self.operations = operations
        self.bounds = bounds
        self.size = size  # the record's size as compact JSON, kept current
        self.exact = exact  # values may hold BigNumbers (counted as written)

    def spend_on(self, value: object) -> int:
        chars = _chars(value, self.exact)
        budget.spend(1 + chars // CHARS_PER_STEP)
        return chars

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
                old = self.replaced_chars(operation, record)
            self.grow(chars - old)
        elif kind == "remove":
            self.grow(-self.replaced_chars(operation, record))
        elif kind in ("copy", "move"):
            source = operation._from_pointer()
            budget.spend(len(source.parts))
            value = _value_at(source, record)
            if kind == "move":
                _spend_on_shift(source, record)
            if kind == "copy":
                self.nest(len(parts), value)
                old = self.replaced_chars(operation, record) if _is_member(operation, record) else 0
                self.grow(self.spend_on(value) - old)
            elif len(parts) > len(source.parts):  # moved deeper
                self.spend_on(value)
                self.nest(len(parts), value)

    def replaced_chars(self, operation, record: object) -> int:
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


def _safe(error: Exception) -> str:
    """jsonpatch's and jsonpointer's reason without the part of the record some of them quote
    (``member 'x' not found in {...}``, ``Document '...' does not support indexing``)."""
    reason = str(error)
    reason = re.sub(r"^(member '.*' not found) in .*$", r"\1", reason, flags=re.S)
    if reason.startswith("Document '"):
        return "a value on the path is neither an object nor an array"
    return re.sub(r" to non-container type <class '[^']*'>", " to a scalar", reason)


def json_patcher(operations, bounds: Bounds, patch_chars: int, exact: bool) -> Patch:
    """(record, its stored size) -> patched record, for operations checked by ``json_patch``;
    ``exact``: the record or the patch holds ``BigNumber``s. Refusals: ``Conflict`` (a
    ``test`` failed), ``InvalidRequest`` (a path that does not exist, too much work, too
    deep), ``TooLarge``."""
    import jsonpatch

    def apply(record, stored_size: int):
        size = _chars(record, exact)
        steps = bounds.steps(max(size, stored_size), patch_chars)
        applier = _Applier(operations, bounds, size, exact)
        try:
            with budget.metered(steps):
                return applier.apply(record)
        except jsonpatch.JsonPatchTestFailed as failed:
            raise Conflict(f"JSON Patch test failed: {_test_reason(failed)}") from None
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as error:
            raise InvalidRequest(f"JSON Patch cannot be applied: {_safe(error)}") from None
        except budget.OverBudget:
            raise InvalidRequest(TOO_COSTLY.format(steps=steps)) from None
        except (TooDeep, RecursionError):
            raise InvalidRequest(depth_message(bounds.max_depth)) from None

    return apply


def _test_reason(failed: Exception) -> str:
    """The path and the value the ``test`` operation sent; never the record's value."""
    operation = getattr(failed, "op", None)
    sent = getattr(operation, "operation", {}) if operation is not None else {}
    path = sent.get("path", "")
    value = to_json(sent.get("value"), exact=True)
    if len(value) > 200:
        value = value[:97] + "..." + value[-100:]
    return f"the value at {path} is not {value}"
