"""Linear-time regular expressions (RE2) for everything a client supplies: JSONPath filters and
JSON Schema patterns. A pattern RE2 cannot compile raises ``re2.error``; nothing is logged."""

from __future__ import annotations

from functools import lru_cache
from types import SimpleNamespace

import re2

error = re2.error
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False


@lru_cache(maxsize=1024)
def compile(pattern: str):  # noqa: A001 (the `re` module's name, on purpose)
    try:
        return re2.compile(pattern, options=_OPTIONS)
    except UnicodeEncodeError:  # a lone surrogate ("\\ud800" in JSON) is no pattern RE2 takes
        raise re2.error("pattern is not valid Unicode") from None


def search(pattern: str, string: str, flags: int = 0):
    return compile(pattern).search(string)


# A stand-in for the `re` module where a library only calls these functions.
re_module = SimpleNamespace(
    search=search,
    match=lambda pattern, string, flags=0: compile(pattern).match(string),
    fullmatch=lambda pattern, string, flags=0: compile(pattern).fullmatch(string),
    compile=lambda pattern, flags=0: compile(pattern),
    sub=lambda pattern, repl, string, count=0, flags=0: compile(pattern).sub(repl, string, count),
    error=re2.error,
)
