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

import re
from collections.abc import Callable
from typing import Any

from openbin.bounded import budget
from openbin.bounded.patch_meter import Applier, Bounds, TooDeep, TooLarge, chars

__all__ = ["Bounds", "TooLarge", "json_patch", "json_patcher", "merge", "parse"]
from openbin.errors import Conflict, InvalidRequest
from openbin.validation import (
    NumberLog,
    depth_within,
    loads_exact,
    to_json,
)

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
MAX_OPERATIONS = 10_000
TOO_COSTLY = "JSON Patch takes too much work to apply (more than {steps} steps on this record)"
TOO_MANY = f"Invalid JSON Patch document: more than {MAX_OPERATIONS} operations"


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
        size = chars(record, exact)
        steps = bounds.steps(max(size, stored_size), patch_chars)
        applier = Applier(operations, bounds, size, exact)
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
