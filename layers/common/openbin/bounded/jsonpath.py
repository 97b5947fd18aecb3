"""Bounded JSONPath queries (jsonpath-ng's extended parser).

Bounds, so that a hostile expression gets a 400 quickly instead of a hung function:
- the expression's length is capped;
- evaluation is metered (``openbin.bounded.budget``): every node jsonpath-ng visits creates a
  ``DatumInContext``, so counting those creations bounds the work. The budget grows with the
  record: ``base_steps`` (12,500 by default: 30-60 ms of CPU) plus ``STEPS_PER_VALUE`` for each
  value in it.
  Any expression whose work is linear in the record succeeds (one that visits every value,
  ``$..*``, takes 2 steps a value; filters at every level 3); work that grows faster (``..``
  within ``..`` on deep data) is refused once it has spent that;
- regular expressions in filters (``=~``) and ``sub()`` run on RE2, which is linear-time, and
  each search is metered by the length of the string it scans;
- arithmetic (a jsonpath-ng extension, not Goessner JSONPath) is refused: ``$.list * N``
  would build N copies without visiting a node;
- the matches are bounded in total size (a response must fit Lambda's 6 MB), measured
  without serialising them.
Imported only by the read function, and only when a request carries ``X-JSON-Path``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jsonpath_ng.ext.arithmetic as _arithmetic
import jsonpath_ng.ext.filter as _filter
import jsonpath_ng.ext.string as _string
import jsonpath_ng.jsonpath as _jsonpath
from jsonpath_ng.ext.parser import ExtendedJsonPathParser

from openbin.bounded import budget, regex
from openbin.errors import InvalidRequest
from openbin.validation import BigNumber

INVALID = "Invalid X-JSON-Path expression passed"
STEPS_PER_VALUE = 4


class NotSupported(Exception):
    pass


# The version these patches were written against and checked with: an upgrade fails
# tests/unit/test_third_party_guards.py until the patches are checked again and this is bumped.
PATCHED_FOR = "jsonpath-ng==1.16.0"
_original_init = _jsonpath.DatumInContext.__init__


_This, _Datum, _spend = _jsonpath.This, _jsonpath.DatumInContext, budget.spend


def _metered_init(self, value, path=None, context=None):
    """DatumInContext.__init__ with a step counted: its body, not a call to it (this runs for
    every node a query visits, and the extra call made metering cost 75% more than the query,
    now 25%). tests/unit/test_third_party_guards.py holds it equal to the original."""
    _spend(1)
    self.__value__ = value
    self.path = path or _This()
    if context is not None and not isinstance(context, _Datum):
        context = _Datum(context)
    self.context = context


def _re2_search(value, pattern) -> bool:
    if not isinstance(value, str):
        return False
    budget.spend(1 + len(value) // 64)  # RE2 is linear: the work is the length scanned
    return regex.search(pattern, value) is not None


def _no_arithmetic(self, datum):
    raise NotSupported()


_jsonpath.DatumInContext.__init__ = _metered_init  # type: ignore[method-assign]
_arithmetic.Operation.find = _no_arithmetic  # type: ignore[method-assign]
_filter.OPERATOR_MAP["=~"] = _re2_search
_string.re = regex.re_module  # type: ignore[assignment]


def normalise(expression: str) -> str:
    expression = expression.strip()
    if expression.startswith("$"):
        return expression
    if expression.startswith(("[", ".")):
        return "$" + expression
    return "$." + expression


@lru_cache(maxsize=512)
def _compile(expression: str):
    return ExtendedJsonPathParser().parse(expression)


def count_values(value: Any) -> int:
    """Every value in ``value``, containers and scalars, itself included."""
    if type(value) not in (dict, list):
        return 1
    count, stack = 1, [value]  # JSON containers: dicts and lists
    while stack:
        node = stack.pop()
        children = node.values() if type(node) is dict else node
        count += len(children)
        stack.extend(child for child in children if type(child) in (dict, list))
    return count


def _sizes(value: object) -> dict[int, int]:
    """Approximate JSON size of every container in ``value``, by ``id`` (one pass)."""
    sizes: dict[int, int] = {}
    order: list[Any] = []
    stack: list[Any] = [value]
    while stack:
        node = stack.pop()
        order.append(node)
        children = node.values() if type(node) is dict else node if type(node) is list else ()
        stack.extend(c for c in children if type(c) in (dict, list))
    for node in reversed(order):  # children before their parents
        if type(node) is dict:
            total = 2 + sum(len(k) + 4 + _size(v, sizes) for k, v in node.items())
        else:
            total = 2 + sum(1 + _size(v, sizes) for v in node)
        sizes[id(node)] = total
    return sizes


def _size(value: object, sizes: dict[int, int]) -> int:
    if type(value) in (dict, list):
        return sizes[id(value)]
    if type(value) is str:
        return len(value) + 2
    if isinstance(value, BigNumber):  # a million digits is a million bytes, not 8
        return len(value.text)
    if type(value) is int:
        return value.bit_length() * 30103 // 100_000 + 2  # its decimal digits, and a sign
    return 24


def query(
    value: object, expression: str, max_length: int, base_steps: int, max_bytes: int = 5_000_000
) -> list:
    """Every value the expression matches in ``value`` (``[]`` when nothing matches), within
    ``base_steps`` plus STEPS_PER_VALUE for each value in the record."""
    if not expression.strip() or len(expression) > max_length:
        raise InvalidRequest(INVALID)
    try:
        compiled = _compile(normalise(expression))
    except Exception:  # jsonpath-ng raises several kinds (lexer, parser, ValueError)
        raise InvalidRequest(INVALID) from None
    steps = base_steps + STEPS_PER_VALUE * count_values(value)
    try:
        with budget.metered(steps):
            matches = [match.value for match in compiled.find(value)]
    except Exception:  # over budget, or a filter that cannot be evaluated on this data
        raise InvalidRequest(INVALID) from None
    if len(matches) * 8 > max_bytes:
        raise InvalidRequest(INVALID)
    sizes = _sizes(value) if any(type(m) in (dict, list) for m in matches) else {}
    if sum(_size(m, sizes) for m in matches) > max_bytes:  # before any of it is written out
        raise InvalidRequest(INVALID)
    return matches
