"""A long-lived ``openbin serve`` and its heap: how long something held every request up
(``Pauses``), the cyclic collector's passes timed, and what survives frozen out of its way."""

from __future__ import annotations

import collections
import gc
import time


class Pauses:
    """How long something held everyone up: how many times, the longest, and percentiles of
    the last 100,000 (``openbin serve`` reports them: the admin op ``server.stats``)."""

    def __init__(self) -> None:
        self.count = 0
        self.longest = 0.0
        self.recent: collections.deque[float] = collections.deque(maxlen=100_000)

    def add(self, seconds: float) -> None:
        self.count += 1
        self.longest = max(self.longest, seconds)
        self.recent.append(seconds)

    def summary(self) -> dict:
        ordered = sorted(self.recent)

        def ms(fraction: float) -> float:
            return round(ordered[int(fraction * (len(ordered) - 1))] * 1000, 2) if ordered else 0.0

        return {
            "count": self.count,
            "p50_ms": ms(0.5),
            "p99_ms": ms(0.99),
            "max_ms": round(self.longest * 1000, 2),
        }


# Every pass of the cyclic collector in openbin serve: each stops every thread while it runs.
COLLECTOR_PASSES = Pauses()


def watch_collector() -> None:
    """Time every pass of the cyclic collector into COLLECTOR_PASSES (openbin serve)."""
    started: list[float] = []

    def timed(phase: str, _info: dict) -> None:
        if phase == "start":
            started[:] = [time.perf_counter()]
        elif started:
            COLLECTOR_PASSES.add(time.perf_counter() - started.pop())

    gc.callbacks.append(timed)


def settle_heap(threshold: int | None = None) -> bool:
    """Move what survived into the cyclic collector's oldest generation out of its way
    (``gc.freeze``) once it holds ``threshold`` objects; True when it did.

    Every item the server holds is a few dozen tracked objects (moto's Item, its attribute
    dicts and values), so a full collection, which CPython runs whenever the oldest generation
    has grown by a quarter, walks all the data: at 20,000 bins each pass stopped every request
    for 100-290 ms. Frozen objects are skipped by every pass, so a pass costs at most what
    survived since the last freeze. A full collection first frees the garbage cycles already
    dead; a cycle that dies after it was frozen (one in flight at that instant) is kept for
    good (docs/PERFORMANCE.md measures how little that is)."""
    limit = FREEZE_AFTER_OBJECTS if threshold is None else threshold
    if len(gc.get_objects(generation=2)) < limit:
        return False
    gc.collect()
    gc.freeze()
    return True


# settle_heap's threshold: a full pass over this many objects takes ~15 ms on the 2-core machine.
FREEZE_AFTER_OBJECTS = 30_000
