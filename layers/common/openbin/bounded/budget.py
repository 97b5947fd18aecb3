"""A per-thread step budget for work whose cost a client controls: evaluating a JSONPath
expression (``openbin.bounded.jsonpath``) or a JSON Schema (``openbin.bounded.schema_bounds``).

Work is counted in steps, each a small bounded amount of CPU, so a budget bounds the time and
the same request is refused the same way on every machine. The invocation's deadline is checked
every few thousand steps too, as a last resort on a slow host: a request answers before Lambda
would time out. Outside ``metered`` nothing is counted.

On Lambda every invocation has a process of its own. ``openbin serve`` runs them all as threads
of one process, where CPU-bound threads starve the others of the interpreter lock: it calls
``one_at_a_time()`` so that metered blocks take turns, and a burst of expensive queries delays
other requests no more than legitimate ones do.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from openbin import aws

CHECK_DEADLINE_EVERY = 4096  # steps
_local = threading.local()
_turns: threading.RLock | None = None  # set by one_at_a_time(): local server only


class OverBudget(Exception):
    """The work needed more steps than it was given."""


class DeadlineReached(OverBudget):
    """The invocation is about to time out (the budget was not spent)."""


def one_at_a_time() -> None:
    """Let one thread at a time run a metered block (the others wait without holding the
    interpreter lock). For a server running many invocations in one process."""
    global _turns
    _turns = threading.RLock()


@contextmanager
def metered(steps: int) -> Iterator[None]:
    """Count the steps this thread spends inside the block; past ``steps``, OverBudget."""
    with _turns or nullcontext():
        _local.remaining = steps
        _local.next_check = steps - CHECK_DEADLINE_EVERY
        _local.deadline = aws.deadline.get()
        try:
            yield
        finally:
            _local.remaining = None


def spend(steps: int) -> None:
    remaining = getattr(_local, "remaining", None)
    if remaining is None:
        return
    remaining -= steps
    _local.remaining = remaining
    if remaining < 0:
        raise OverBudget()
    if remaining < _local.next_check:
        _local.next_check = remaining - CHECK_DEADLINE_EVERY
        if _local.deadline is not None and time.monotonic() > _local.deadline:
            raise DeadlineReached()


def active() -> bool:
    return getattr(_local, "remaining", None) is not None


def left() -> int | None:
    """Steps left in the current block (None outside one)."""
    return getattr(_local, "remaining", None)
