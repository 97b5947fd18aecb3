"""PATCH bodies (docs/API.md §3.9): JSON Merge Patch (RFC 7396) and JSON Patch (RFC 6902),
applied within bounds, so that a hostile patch gets a clear 4xx quickly instead of exhausting
the function:

- a JSON Patch's work is metered (``openbin.budget``): every operation costs a few steps plus
  one step for every ``CHARS_PER_STEP`` characters of the values it copies, adds, replaces,
  removes or tests (measured as compact JSON, by the C encoder). The budget is ``base_steps``
  plus ``STEPS_PER_CHAR`` steps for each character of the record and of the patch, so a patch
  whose operations each touch a small part of the record always fits, and ``copy`` doubling
  (``{"op": "copy", "from": "", "path": "/a"}`` twenty times) is refused after a few
  milliseconds;
- the record is never let grow past the plan's limit: an operation that would take it there
  is refused before it is done (``TooLarge``), and one that would nest it deeper than the
  depth limit too;
- no answer quotes the record: an error names the operation and the path that was sent.

A merge patch needs no meter: its work follows the patch's own structure.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from openbin import budget
from openbin.errors import Conflict, InvalidRequest, NotAllowed
from openbin.validation import COMPACT, NumberLog, depth_within, loads_exact

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
CHARS_PER_STEP = 8
STEPS_PER_CHAR = 0.5  # four whole-record copies and more, on top of the base
STEPS_PER_OPERATION = 8
TOO_COSTLY = "JSON Patch takes too much work to apply (more than {steps} steps on this record)"
TEST_NEEDS_READ = "X-Access-Key passed does not have permission to read the bin."


class TooLarge(Exception):
    """An operation would make the record larger than ``limit`` bytes."""


class TooDeep(Exception):
    """An operation would nest the record deeper than the depth limit."""


Patch = Callable[[Any], Any]


def depth_message(max_depth: int) -> str:
    return f"JSON nesting is too deep (at most {max_depth} levels)"


def parse(body: bytes, max_depth: int, numbers: NumberLog | None = None) -> object:
    """A PATCH body: JSON within the depth limit (numbers kept as sent, ``numbers`` told when
    one is not what a double writes back)."""
    try:
        document = loads_exact(body, numbers)
    except (ValueError, RecursionError):
        raise InvalidRequest("Invalid JSON provided") from None
    if isinstance(document, (dict, list)) and not depth_within(document, max_depth):
        raise InvalidRequest(depth_message(max_depth))
    return document


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


def json_patch(document: object, may_read: bool):
    """The checked operations of a JSON Patch document (``InvalidRequest`` when it is not one).
    A ``test`` reads the record (it answers whether a guess is right): it needs ``may_read``."""
    import jsonpatch

    if not isinstance(document, list):
        raise InvalidRequest("Invalid JSON Patch document: it must be an array of operations")
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
    if not may_read and any(op.operation.get("op") == "test" for op in operations):
        raise NotAllowed(TEST_NEEDS_READ)
    return operations


class Bounds:
    """What one application of a JSON Patch may spend: steps, the record's size, its depth."""

    def __init__(self, size_limit: int, max_depth: int, base_steps: int) -> None:
        self.size_limit = size_limit
        self.max_depth = max_depth
        self.base_steps = base_steps

    def steps(self, record_chars: int, patch_chars: int) -> int:
        return self.base_steps + int(STEPS_PER_CHAR * (record_chars + patch_chars))


def _chars(value: object) -> int:
    """Characters of ``value`` as compact JSON (a container's, by the C encoder)."""
    if type(value) is str:
        return len(value) + 2
    if type(value) in (dict, list):
        return len(json.dumps(value, ensure_ascii=False, separators=COMPACT, allow_nan=True))
    return len(repr(value))


def _spend_on(value: object) -> int:
    chars = _chars(value)
    budget.spend(1 + chars // CHARS_PER_STEP)
    return chars


def _value_at(pointer, record: object) -> object:
    """The value a pointer names in ``record`` (jsonpointer's own errors when there is none)."""
    return pointer.resolve(record)


class _Applier:
    """One application of a JSON Patch's operations to one record, in place."""

    def __init__(self, operations, bounds: Bounds, size: int) -> None:
        self.operations = operations
        self.bounds = bounds
        self.size = size  # the record's size as compact JSON, kept current

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
        if kind in ("add", "replace", "test"):
            value = operation.operation.get("value")
            chars = _spend_on(value)
            if kind == "test":
                return
            self.nest(len(parts), value)
            old = 0
            if kind == "replace" or (parts and _is_member(operation, record)):
                old = _replaced_chars(operation, record)
            self.grow(chars - old)
        elif kind == "remove":
            self.grow(-_replaced_chars(operation, record))
        elif kind in ("copy", "move"):
            source = operation._from_pointer()
            budget.spend(len(source.parts))
            value = _value_at(source, record)
            if kind == "copy":
                self.nest(len(parts), value)
                old = _replaced_chars(operation, record) if _is_member(operation, record) else 0
                self.grow(_spend_on(value) - old)
            elif len(parts) > len(source.parts):  # moved deeper
                budget.spend(1 + _chars(value) // CHARS_PER_STEP)
                self.nest(len(parts), value)

    def apply(self, record: object) -> object:
        for operation in self.operations:
            self.before(operation, record)
            record = operation.apply(record)
        return record


def _is_member(operation, record: object) -> bool:
    """Whether an ``add`` or ``copy`` replaces an existing object member."""
    try:
        parent, part = operation.pointer.to_last(record)
    except Exception:
        return False  # jsonpatch refuses it when it is applied
    return isinstance(parent, dict) and part in parent


def _replaced_chars(operation, record: object) -> int:
    """Characters of the value an operation removes or replaces (0 when there is none: the
    operation then fails with jsonpatch's own error)."""
    try:
        value = _value_at(operation.pointer, record)
    except Exception:
        return 0
    return _spend_on(value)


def _safe(error: Exception) -> str:
    """jsonpatch's and jsonpointer's reason without the part of the record some of them quote
    (``member 'x' not found in {...}``, ``Document '...' does not support indexing``)."""
    reason = str(error)
    reason = re.sub(r"^(member '.*' not found) in .*$", r"\1", reason, flags=re.S)
    if reason.startswith("Document '"):
        return "a value on the path is neither an object nor an array"
    return re.sub(r" to non-container type <class '[^']*'>", " to a scalar", reason)


def json_patcher(operations, bounds: Bounds, patch_chars: int) -> Patch:
    """record -> patched record, for operations checked by ``json_patch``; refusals:
    ``Conflict`` (a ``test`` failed), ``InvalidRequest`` (a path that does not exist, too much
    work, too deep), ``TooLarge``."""
    import jsonpatch

    def apply(record):
        size = _chars(record)
        steps = bounds.steps(size, patch_chars)
        applier = _Applier(operations, bounds, size)
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
    value = json.dumps(sent.get("value"), ensure_ascii=False, separators=COMPACT, allow_nan=True)
    if len(value) > 200:
        value = value[:97] + "..." + value[-100:]
    return f"the value at {path} is not {value}"
