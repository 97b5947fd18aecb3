"""Trying a conditional write again after it lost to a concurrent writer.

Every write of a bin is conditioned on the revision it read, so N writers of one bin race: each
round, one wins and the others must try again on the new revision. Trying again at once makes
the losers collide again (work grows with the square of the writers); pausing a random time
that grows fourfold after each loss, up to a cap ("full jitter"), spreads them out. Attempts
stop when the invocation's deadline would be passed, so a request never runs into Lambda's
timeout.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

from openbin import aws

FIRST_PAUSE = 0.01  # seconds, before the third attempt (at most; the pause is random)
GROWTH = 4  # each later pause may be four times the one before ...
MAX_PAUSE = 2.0  # ... up to this
MAX_ATTEMPTS = 200
# Drawn from the OS on every call, never from state captured at import: with SnapStart, every
# execution environment restored from one snapshot would otherwise pause the same.
JITTER = random.SystemRandom()


def attempts(max_attempts: int = MAX_ATTEMPTS) -> Iterator[int]:
    """Attempt numbers 0, 1, 2 ...: the first two at once (the second on the state the first
    refusal returned, which is fresh), each later one after a random pause of up to FIRST_PAUSE
    times GROWTH per attempt, capped at MAX_PAUSE (the caller reads the state again after it);
    none that would start after the invocation's deadline."""
    for attempt in range(max_attempts):
        if attempt >= 2:
            pause = JITTER.uniform(0, min(MAX_PAUSE, FIRST_PAUSE * GROWTH ** (attempt - 2)))
            limit = aws.deadline.get()
            if limit is not None and time.monotonic() + pause > limit:
                return
            time.sleep(pause)
        yield attempt
