"""The contract's order of checks, written once (docs/API.md §1, "Order of checks").

``Step`` is that order. A route declares its steps (``Pipeline``: a subsequence of ``Step``) and
gives a check for each; ``Pipeline.run`` calls them in the contract's order, then the route's
action. No route codes the order itself, and a test holds docs/API.md's sentence equal to
``contract_order()``.

Charging: the allowance step charges the request, or defers the charge to the write's own
transaction (``Checks.deferred``, one round trip fewer). From the allowance step on, any refusal
settles a deferred charge first, so what is charged and which error wins are as if the charge
had come first.

A write that applies a change to the bin as it is at each attempt (PATCH, restore) checks its
result on each attempt: those steps (``each_attempt``) come after the others, in order, and are
run by ``Pipeline.attempt``."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, Protocol

from openbin.errors import OpenBinError


class Step(enum.IntEnum):
    ID = 1
    KEY = 2
    RESOURCE = 3
    PERMISSION = 4
    ALLOWANCE = 5
    HEADERS = 6
    VERSIONS = 7
    LIMITS = 8
    SCHEMA = 9


# The contract's words for each step, as docs/API.md writes them.
CONTRACT = {
    Step.ID: "route and ID shape (400)",
    Step.KEY: "a key that matches nothing (401)",
    Step.RESOURCE: "the resource exists (404)",
    Step.PERMISSION: "the caller may act on it (401/403)",
    Step.ALLOWANCE: "request allowance (403)",
    Step.HEADERS: "headers and body (400)",
    Step.VERSIONS: "versions (400/404)",
    Step.LIMITS: "plan limits (403)",
    Step.SCHEMA: "schema (400)",
}


def contract_order() -> str:
    return " → ".join(CONTRACT[step] for step in Step)


class Settles(Protocol):
    def settle(self) -> object: ...


Check = Callable[[], Any]


class Checks:
    """One request's checks: the check a route gives for a step is a method named after it
    (``check_headers`` for ``Step.HEADERS``), or one given with ``add``. A check that returns
    something other than None ends the run with that answer (a create replayed by its
    Idempotency-Key)."""

    deferred: Settles | None = None  # a charge not made yet (set by the allowance step)
    value: object = None  # the parsed record, for the schema step

    def __init__(self) -> None:
        self._given: dict[Step, Check] = {}

    def _taken_value(self) -> object:
        """The parsed record, let go of once the schema step has it: a large record's
        thousands of objects must not live on through the write, where every collection
        the storage calls trigger would traverse them again."""
        value, self.value = self.value, None
        return value

    def add(self, step: Step, check: Check) -> None:
        self._given[step] = check

    def check_for(self, step: Step) -> Check | None:
        return self._given.get(step) or getattr(self, f"check_{step.name.lower()}", None)

    def refused(self) -> None:
        """A refusal after the allowance step: charge the request now if it is not yet."""
        if self.deferred is not None:
            self.deferred.settle()


# Every route's declared steps, by route ("PUT /v3/b/{binId}", as template.yaml names it):
# tests hold it to the template's routes.
ROUTES: dict[str, Pipeline] = {}


class Pipeline:
    """The steps of a route (or of routes that share them), in the contract's order (refused
    at import otherwise)."""

    def __init__(
        self, routes: str | tuple[str, ...], *steps: Step, each_attempt: tuple[Step, ...] = ()
    ) -> None:
        names = (routes,) if isinstance(routes, str) else routes
        self.route = ", ".join(names)
        order = (*steps, *each_attempt)
        if list(order) != sorted(set(order)):
            raise ValueError(f"{self.route}: steps out of the contract's order: {order}")
        if Step.ALLOWANCE not in steps:
            raise ValueError(f"{self.route}: every request is charged (Step.ALLOWANCE)")
        self.steps, self.each_attempt = steps, each_attempt
        for name in names:
            if name in ROUTES:
                raise ValueError(f"{name}: declared twice")
            ROUTES[name] = self

    def run(self, checks: Checks, act: Callable[[], Any]) -> Any:
        """Each declared step's check, in order, then ``act`` (the route's work); refusals after
        the allowance step settle a deferred charge first."""
        for step in Step:
            given = step in self.steps or step in self.each_attempt
            if given != (checks.check_for(step) is not None):
                raise TypeError(f"{self.route}: {step.name} declared and given must agree")
        past_allowance = False
        try:
            for step in self.steps:
                answer = self._call(checks, step)
                if answer is not None:
                    return answer
                past_allowance = past_allowance or step is Step.ALLOWANCE
            return act()
        except OpenBinError:
            if past_allowance:
                checks.refused()
            raise

    def attempt(self, checks: Checks) -> None:
        """The checks of one attempt's result (``each_attempt``), in order."""
        for step in self.each_attempt:
            self._call(checks, step)

    @staticmethod
    def _call(checks: Checks, step: Step) -> Any:
        check = checks.check_for(step)
        assert check is not None
        return check()
