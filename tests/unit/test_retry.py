"""openbin.retry: when a writer that lost a race tries again."""

from __future__ import annotations

import time

import pytest

from openbin import aws, retry


@pytest.fixture
def pauses(monkeypatch):
    taken: list[float] = []
    monkeypatch.setattr(retry.time, "sleep", taken.append)
    monkeypatch.setattr(retry.JITTER, "uniform", lambda low, high: high)  # the longest pause
    return taken


def test_the_first_two_attempts_are_immediate_then_pauses_grow_to_a_cap(pauses):
    assert list(retry.attempts(9)) == list(range(9))
    assert pauses == [0.01, 0.04, 0.16, 0.64, 2.0, 2.0, 2.0]


def test_no_attempt_starts_after_the_invocations_deadline(pauses):
    token = aws.deadline.set(time.monotonic() + 0.5)
    try:
        made = list(retry.attempts())
    finally:
        aws.deadline.reset(token)
    assert made == [0, 1, 2, 3, 4]  # the next pause (0.64 s) would end past the deadline
    assert sum(pauses) < 0.5


def test_pauses_are_random_below_their_bound(monkeypatch):
    taken: list[float] = []
    monkeypatch.setattr(retry.time, "sleep", taken.append)
    list(retry.attempts(40))
    assert all(0 <= pause <= retry.MAX_PAUSE for pause in taken)
    assert len(set(taken)) > 30
