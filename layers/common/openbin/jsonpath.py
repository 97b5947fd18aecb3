"""Bounded JSONPath queries (jsonpath-ng's extended parser).

Bounds, so that a hostile expression gets a 400 quickly instead of a hung function:
- the expression's length is capped;
- evaluation is metered: every node jsonpath-ng visits creates a ``DatumInContext``, so counting
  those creations (per thread) bounds the work; past the budget the query is refused;
- regular expressions in filters (``=~``) and ``sub()`` run on RE2, which is linear-time.
Imported only by the read function, and only when a request carries ``X-JSON-Path``.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import jsonpath_ng.ext.filter as _filter
import jsonpath_ng.ext.string as _string
import jsonpath_ng.jsonpath as _jsonpath
from jsonpath_ng.ext.parser import ExtendedJsonPathParser

from openbin import regex
from openbin.errors import InvalidRequest

INVALID = "Invalid X-JSON-Path expression passed"
_meter = threading.local()


class BudgetExceeded(Exception):
    pass


_original_init = _jsonpath.DatumInContext.__init__


def _metered_init(self, *args, **kwargs):
    remaining = getattr(_meter, "remaining", None)
    if remaining is not None:
        if remaining <= 0:
            raise BudgetExceeded()
        _meter.remaining = remaining - 1
    _original_init(self, *args, **kwargs)


def _re2_search(value, pattern) -> bool:
    return isinstance(value, str) and regex.search(pattern, value) is not None


_jsonpath.DatumInContext.__init__ = _metered_init
_filter.OPERATOR_MAP["=~"] = _re2_search
_string.re = regex.re_module


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


def query(value: object, expression: str, max_length: int, max_steps: int) -> list:
    """Every value the expression matches in ``value`` (``[]`` when nothing matches)."""
    if not expression.strip() or len(expression) > max_length:
        raise InvalidRequest(INVALID)
    try:
        compiled = _compile(normalise(expression))
    except Exception:  # jsonpath-ng raises several kinds (lexer, parser, ValueError)
        raise InvalidRequest(INVALID) from None
    _meter.remaining = max_steps
    try:
        return [match.value for match in compiled.find(value)]
    except Exception:  # over budget, or a filter that cannot be evaluated on this data
        raise InvalidRequest(INVALID) from None
    finally:
        _meter.remaining = None
