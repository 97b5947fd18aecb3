"""The order of checks is written once (openbin.services.pipeline): docs/API.md says the same
thing, every route of template.yaml declares its steps, and the pipeline runs them in order,
charging a deferred charge before any refusal past the allowance."""

from __future__ import annotations

import re

import pytest

from openbin.errors import InvalidRequest, NotAllowed
from openbin.services.pipeline import CONTRACT, Checks, Pipeline, Step, contract_order
from tests.support import ROOT
from tools import pipelines_table


def test_docs_api_order_of_checks_is_the_pipelines():
    text = " ".join((ROOT / "docs" / "API.md").read_text().split())
    found = re.search(r"Order of checks: (.*?)\. Creating", text)
    assert found is not None
    assert found.group(1) == contract_order()
    assert [CONTRACT[step] for step in Step] == found.group(1).split(" → ")


def test_every_api_route_of_the_template_declares_its_steps(template):
    declared = set(pipelines_table.routes())
    api_routes = {r.key for r in template.routes if r.path.startswith("/v3")}
    assert declared == api_routes


def test_architecture_table_is_current():
    doc = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    assert pipelines_table.rendered(doc) == doc, "run make template"


def test_steps_out_of_order_are_refused_at_import():
    with pytest.raises(ValueError, match="order"):
        Pipeline("TEST /headers-first", Step.HEADERS, Step.ALLOWANCE)
    with pytest.raises(ValueError, match="order"):
        Pipeline("TEST /twice", Step.KEY, Step.ALLOWANCE, each_attempt=(Step.ALLOWANCE,))
    with pytest.raises(ValueError, match="charged"):
        Pipeline("TEST /free", Step.KEY, Step.HEADERS)


class Deferred:
    def __init__(self) -> None:
        self.settled = 0

    def settle(self) -> None:
        self.settled += 1


class Recorder(Checks):
    """Checks that record the order they run in; ``refuse_at`` raises there."""

    def __init__(self, refuse_at: Step | None = None, defer: bool = True) -> None:
        super().__init__()
        self.ran: list[Step] = []
        self.refuse_at, self.defer = refuse_at, defer
        for step in Step:
            self.add(step, lambda step=step: self._run(step))

    def _run(self, step: Step) -> None:
        self.ran.append(step)
        if step is Step.ALLOWANCE and self.defer:
            self.deferred = Deferred()
        if step is self.refuse_at:
            raise InvalidRequest(step.name)


PIPELINE = Pipeline("TEST /all", *Step)


def test_steps_run_in_the_contracts_order_then_the_work():
    partial = Pipeline("TEST /some", Step.ID, Step.ALLOWANCE, Step.SCHEMA)
    checks = Recorder()
    for step in Step:  # only the declared steps may be given
        if step not in partial.steps:
            checks._given.pop(step)
    assert partial.run(checks, lambda: "done") == "done"
    assert checks.ran == [Step.ID, Step.ALLOWANCE, Step.SCHEMA]
    checks = Recorder()
    assert PIPELINE.run(checks, lambda: checks.ran[:]) == list(Step)


@pytest.mark.parametrize("step", list(Step))
def test_a_refusal_after_the_allowance_settles_the_deferred_charge_first(step):
    checks = Recorder(refuse_at=step)
    with pytest.raises(InvalidRequest, match=step.name):
        PIPELINE.run(checks, lambda: None)
    assert checks.ran == [s for s in Step if s <= step]
    settled = checks.deferred.settled if isinstance(checks.deferred, Deferred) else 0
    assert settled == (1 if step > Step.ALLOWANCE else 0)


def test_a_refusal_by_the_work_settles_it_too():
    checks = Recorder()

    def work():
        raise NotAllowed("too large")

    with pytest.raises(NotAllowed):
        PIPELINE.run(checks, work)
    assert isinstance(checks.deferred, Deferred) and checks.deferred.settled == 1


def test_a_step_that_answers_ends_the_run():
    checks = Recorder()
    checks.add(Step.ALLOWANCE, lambda: "replayed")
    assert PIPELINE.run(checks, lambda: "written") == "replayed"
    assert checks.ran == [Step.ID, Step.KEY, Step.RESOURCE, Step.PERMISSION]


def test_declared_and_given_must_agree():
    checks = Recorder()
    checks._given.pop(Step.SCHEMA)
    with pytest.raises(TypeError, match="SCHEMA"):
        PIPELINE.run(checks, lambda: None)
    extra = Pipeline("TEST /no-schema", *[s for s in Step if s is not Step.SCHEMA])
    with pytest.raises(TypeError, match="SCHEMA"):
        extra.run(Recorder(), lambda: None)


def test_each_attempt_runs_its_steps_in_order():
    pipeline = Pipeline(
        "TEST /attempts", Step.KEY, Step.ALLOWANCE, each_attempt=(Step.LIMITS, Step.SCHEMA)
    )
    checks = Recorder()
    for step in Step:
        if step not in (Step.KEY, Step.ALLOWANCE, Step.LIMITS, Step.SCHEMA):
            checks._given.pop(step)
    pipeline.run(checks, lambda: [pipeline.attempt(checks) for _ in range(2)])
    assert checks.ran == [Step.KEY, Step.ALLOWANCE, *[Step.LIMITS, Step.SCHEMA] * 2]
