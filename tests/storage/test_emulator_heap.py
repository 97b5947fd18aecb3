"""heap.settle_heap: what survives in a long-lived ``openbin serve`` is frozen out of the
cyclic collector in small steps, so no full collection walks all the data a server holds."""

from __future__ import annotations

import gc
import weakref

from openbin_local import heap


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_settle_heap_freezes_survivors_once_there_are_enough_and_frees_dead_cycles_first():
    frozen_before = gc.get_freeze_count()
    try:
        gc.collect()
        assert not heap.settle_heap(threshold=10**9)  # not enough survivors: nothing done
        assert gc.get_freeze_count() == frozen_before

        kept = [Node() for _ in range(2_000)]
        gc.collect()  # the kept nodes are old survivors now
        dead = Node()
        gone = weakref.ref(dead)
        del dead
        assert gone() is not None  # a dead cycle waits for the collector

        assert heap.settle_heap(threshold=1_000)
        assert gone() is None  # collected before anything is frozen
        assert gc.get_freeze_count() >= frozen_before + len(kept)
        assert len(gc.get_objects(generation=2)) < 1_000  # the next pass walks only what is new
    finally:
        gc.unfreeze()


def test_pauses_keep_the_count_the_longest_and_percentiles():
    pauses = heap.Pauses()
    assert pauses.summary() == {"count": 0, "p50_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0}
    for ms in range(1, 101):
        pauses.add(ms / 1000)
    assert pauses.summary() == {"count": 100, "p50_ms": 50.0, "p99_ms": 99.0, "max_ms": 100.0}
