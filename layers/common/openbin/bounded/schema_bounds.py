"""Bounds on the work a JSON Schema can cause, so that no schema of the allowed size can make a
request run for long (an exponential schema is 1 KB: ``$ref``s that fan out two ways at each
of 30 levels).

Two defences, used by ``openbin.bounded.schemas``:

- **When a schema is saved**, ``expansion`` walks the subschemas one validation pass may apply,
  following every reference, and refuses the schema when that is more than ``limit`` (the fan
  out above: 2^30), or when a reference loops back to itself without descending into the data
  (validation would never end). Recursion *through* the data (a tree's ``children`` items
  referring back to the tree) is allowed: it ends with the data.
- **Whenever a schema is evaluated**, the work is metered (``budget``): every keyword call
  costs one step, plus one per element of its schema value (``required`` with 10,000 names,
  ``enum``) and, for keywords that scan the instance (``items``, ``additionalProperties`` ...),
  one per element scanned; every comparison of ``const``/``enum``/``uniqueItems`` values costs
  a step per node compared; regular expressions and error messages one per 64 characters they
  scan or hold. Past the budget, ``openbin.bounded.budget.OverBudget`` is raised and the caller
  answers with a 400.
  The per-step work is bounded by a constant, so the budget bounds the time.

The meter is per thread and off outside ``budget.metered``, so other users of jsonschema in
the same process (tests, the local server's own tooling) are unaffected. ``uniqueItems`` is
checked in linear time (hashing canonical forms) instead of jsonschema's quadratic fallback.
"""

from __future__ import annotations

import functools
from typing import Any

import jsonschema._keywords
import jsonschema._legacy_keywords
import jsonschema._utils
from jsonschema import exceptions as _exceptions
from jsonschema import validators as _validators

from openbin.bounded import regex
from openbin.bounded.budget import active, spend


class Endless(Exception):
    """A reference loops back to itself without descending into the data."""


class TooLarge(Exception):
    """One validation pass over the schema would apply more subschemas than allowed."""


# -- metered keywords --------------------------------------------------------------------------
# Keywords whose work grows with the instance they look at, beyond the subschemas they apply.
INSTANCE_SCANS = frozenset(
    {
        "items",
        "prefixItems",
        "additionalItems",
        "contains",
        "propertyNames",
        "patternProperties",
        "additionalProperties",
        "unevaluatedProperties",
        "unevaluatedItems",
        "uniqueItems",
    }
)
_CONTAINERS = (dict, list)


# Resolving a reference and evolving a validator for its target costs about eight keywords.
REFERENCE_COST = 8
_REFERENCES = frozenset({"$ref", "$dynamicRef", "$recursiveRef"})


def _metered_keyword(keyword: str, function):
    scans = keyword in INSTANCE_SCANS
    base = REFERENCE_COST if keyword in _REFERENCES else 1

    @functools.wraps(function)
    def run(validator, value, instance, schema):
        if active():
            cost = base
            if type(value) in _CONTAINERS:
                cost += len(value)
            if scans and type(instance) in _CONTAINERS:
                cost += len(instance)
            spend(cost)
        return function(validator, value, instance, schema)

    return run


def _never_crashes(keyword: str, function):
    """Arithmetic on a number beyond a double's range (``multipleOf`` on ``1e400``) is a
    mismatch, never an exception."""

    @functools.wraps(function)
    def run(validator, value, instance, schema):
        try:
            yield from function(validator, value, instance, schema) or ()
        except (ArithmeticError, ValueError, TypeError):
            yield _exceptions.ValidationError(f"{instance!r} cannot be checked against {keyword}")

    return run


_error_init = _exceptions._Error.__init__


def _charged_error_init(self, message, *args, **kwargs):
    if active():
        spend(2 + len(message) // 64)  # a message may quote the whole instance
    _error_init(self, message, *args, **kwargs)


def _metered_function(function, cost):
    @functools.wraps(function)
    def run(*args):
        if active():
            spend(cost(*args))
        return function(*args)

    return run


def _canonical(value: Any, counter: list[int]) -> object:
    """A hashable form in which two values are equal exactly when JSON Schema calls them equal
    (1 == 1.0, true != 1, key order ignored)."""
    counter[0] += 1
    kind = type(value)
    if kind is dict:
        return ("o", frozenset((k, _canonical(v, counter)) for k, v in value.items()))
    if kind is list:
        return ("a", tuple(_canonical(v, counter) for v in value))
    if kind is bool:
        return ("b", value)
    if kind is str:
        return ("s", value)
    if value is None:
        return ("z",)
    return ("n", value)


def _unique(container) -> bool:
    counter = [0]
    seen = set()
    try:
        for item in container:
            form = _canonical(item, counter)
            if form in seen:
                return False
            seen.add(form)
        return True
    finally:
        spend(counter[0])


def _instance_size(validator, instance, schema) -> int:
    return 1 + (len(instance) if type(instance) in _CONTAINERS else 0)


class _MeteredRegex:
    """The ``re`` functions jsonschema calls, on RE2, metered by the length scanned."""

    error = regex.error

    @staticmethod
    def search(pattern: str, string: str, flags: int = 0):
        spend(1 + len(string) // 64)
        return regex.compile(pattern).search(string)

    @staticmethod
    def match(pattern: str, string: str, flags: int = 0):
        spend(1 + len(string) // 64)
        return regex.compile(pattern).match(string)

    @staticmethod
    def fullmatch(pattern: str, string: str, flags: int = 0):
        spend(1 + len(string) // 64)
        return regex.compile(pattern).fullmatch(string)

    @staticmethod
    def compile(pattern: str, flags: int = 0):
        return regex.compile(pattern)


# The version these patches were written against and checked with: an upgrade fails
# tests/unit/test_third_party_guards.py until the patches are checked again and this is bumped.
PATCHED_FOR = "jsonschema==4.26.0"


def _install() -> None:
    # Private names (not in jsonschema's stubs): the guard test fails if they move.
    meta = _validators._META_SCHEMAS  # type: ignore[attr-defined]
    classes = {*meta.values(), *_validators._VALIDATORS.values()}  # type: ignore[attr-defined]
    for cls in classes:
        for keyword, function in list(cls.VALIDATORS.items()):
            if not hasattr(function, "__wrapped__"):
                if keyword == "multipleOf":
                    function = _never_crashes(keyword, function)
                cls.VALIDATORS[keyword] = _metered_keyword(keyword, function)
    _exceptions._Error.__init__ = _charged_error_init  # type: ignore[method-assign]
    utils, keywords = jsonschema._utils, jsonschema._keywords
    metered_equal = _metered_function(utils.equal, lambda one, two: 1)
    utils.equal = metered_equal  # its own recursion goes through this name
    keywords.equal = metered_equal  # type: ignore[attr-defined]
    utils.uniq = keywords.uniq = _unique  # type: ignore[attr-defined]
    for module in (jsonschema._utils, jsonschema._legacy_keywords, jsonschema._keywords):
        for name in (
            "find_evaluated_item_indexes_by_schema",
            "find_evaluated_property_keys_by_schema",
        ):
            function = getattr(module, name, None)
            if function is not None and not hasattr(function, "__wrapped__"):
                setattr(module, name, _metered_function(function, _instance_size))
        module.re = _MeteredRegex  # type: ignore[attr-defined]


_install()


# -- what one validation pass can expand to --------------------------------------------------------
# Keywords that apply subschemas to the same instance, and to parts of it. ``definitions`` and
# ``$defs`` apply nothing by themselves: they are reached through references.
IN_PLACE = (
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "if",
    "then",
    "else",
    "dependentSchemas",
    "dependencies",
    "extends",
)
INTO_THE_DATA = (
    "properties",
    "patternProperties",
    "additionalProperties",
    "propertyNames",
    "items",
    "prefixItems",
    "additionalItems",
    "contains",
    "unevaluatedProperties",
    "unevaluatedItems",
)
REFERENCES = ("$ref", "$dynamicRef", "$recursiveRef")
_NAMED = frozenset({"properties", "patternProperties", "dependentSchemas", "dependencies"})


def _subschemas(keyword: str, value: object) -> list:
    if keyword in _NAMED:
        return (
            [v for v in value.values() if isinstance(v, dict | bool)]
            if isinstance(value, dict)
            else []
        )
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict | bool)]
    return [value] if isinstance(value, dict | bool) else []


def _edges(node: object, resolver, specification):
    """(subschema, its resolver, whether it applies to a part of the instance) for each
    subschema ``node`` applies directly; references are followed."""
    if not isinstance(node, dict):
        return
    for keyword in REFERENCES:
        target = node.get(keyword)
        if isinstance(target, str):
            resolved = resolver.lookup(target)  # Unresolvable: the caller refuses the schema
            yield resolved.contents, resolved.resolver, False
    for into_data, keywords in ((False, IN_PLACE), (True, INTO_THE_DATA)):
        for keyword in keywords:
            if keyword in node:
                for sub in _subschemas(keyword, node[keyword]):
                    yield (
                        sub,
                        resolver.in_subresource(specification.create_resource(sub)),
                        into_data,
                    )


def expansion(root: object, resolver, specification, limit: int) -> int:
    """How many subschemas one validation pass over ``root`` applies, each reference counted
    every time it is reached (a recursion through the data counts once). Raises ``TooLarge``
    past ``limit`` and ``Endless`` for a reference cycle that never descends into the data.

    Iterative (a chain of references may be longer than Python's recursion limit) and linear
    in the schema's size: each subschema's count is computed once."""
    done: dict[int, int] = {}
    depth_of: dict[int, int] = {}  # subschemas on the current path, by position
    # each frame: [node, edges iterator, running total, reached through a data keyword]
    path: list[list] = []

    def enter(node, node_resolver, into_data: bool) -> None:
        depth_of[id(node)] = len(path)
        path.append([node, _edges(node, node_resolver, specification), 1, into_data])

    enter(root, resolver, False)
    while True:
        frame = path[-1]
        step = next(frame[1], None)
        if step is None:
            path.pop()
            del depth_of[id(frame[0])]
            done[id(frame[0])] = frame[2]
            if not path:
                return frame[2]
            path[-1][2] += frame[2]
            if path[-1][2] > limit:
                raise TooLarge()
            continue
        sub, sub_resolver, into_data = step
        key = id(sub)
        if key in done:
            frame[2] += done[key]
        elif key in depth_of:  # a cycle back to a subschema on the current path
            start = depth_of[key]
            if not into_data and not any(f[3] for f in path[start + 1 :]):
                raise Endless()
            frame[2] += 1
        else:
            enter(sub, sub_resolver, into_data)
            continue
        if frame[2] > limit:
            raise TooLarge()
