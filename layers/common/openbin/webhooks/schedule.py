"""When a failed delivery is tried again: Standard Webhooks' schedule (again after about 5 s,
then 5 min, 30 min, 2 h, 5 h, 10 h and 10 h: 27.6 hours in all, more than the 24 the issue asks),
each pause jittered by up to a tenth either way so receivers coming back are not hit at once."""

from __future__ import annotations

import random

SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000)  # seconds after each failed attempt


def pause_after(failures: int, schedule: tuple[float, ...] = SCHEDULE) -> float | None:
    """Seconds to wait after the ``failures``-th failed attempt (1 after the first), or None:
    the schedule is spent, and the delivery is dead."""
    if failures < 1 or failures > len(schedule):
        return None
    base = schedule[failures - 1]
    return base * random.SystemRandom().uniform(0.9, 1.1)  # from the OS, as SnapStart needs


def attempts(schedule: tuple[float, ...] = SCHEDULE) -> int:
    """Every attempt a delivery gets: the first, then one after each pause."""
    return len(schedule) + 1
