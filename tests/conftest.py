from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

# DynamoDB's transaction conflicts, emulated in every test (openbin_local.conflicts), at both
# levels (the local server a test starts inherits this environment).
os.environ.setdefault("OPENBIN_TRANSACTION_WINDOW_MS", "4")

from openbin import storage as storage_module  # noqa: E402
from openbin.observability import logger
from openbin.settings import Settings
from openbin_local.emulator import FAKE_CREDENTIALS, LocalAWS
from openbin_local.template import Template
from tests.support import HandlerApi, HttpApi, ServerProcess


@pytest.fixture(scope="session")
def template() -> Template:
    return Template()


@pytest.fixture(scope="session")
def world(template):
    """The emulated AWS account of this worker: moto DynamoDB and S3 with the tables and bucket
    of template.yaml, made once and shared by every test that needs AWS. Tests are isolated by
    their data (each makes its own accounts and bins), not by a fresh account per test."""
    saved = dict(os.environ)
    local = LocalAWS(template).start()
    environment = {**FAKE_CREDENTIALS, **local.function_environment(), **FUNCTION_OPTIONS}
    os.environ.clear()
    os.environ.update(saved)
    logger.setLevel(FUNCTION_OPTIONS["POWERTOOLS_LOG_LEVEL"])  # imported before it was set
    try:
        yield World(local, environment)
    finally:
        local.stop()


@dataclass
class World:
    local: LocalAWS
    environment: dict[str, str]  # what the functions see, besides the process's own
    worlds_made: int = 0


FUNCTION_OPTIONS = {"POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_LOG_LEVEL": "WARNING"}


@pytest.fixture
def aws(request, world, template):
    """The emulated account for one test, with the functions' environment. It is the worker's
    shared one unless the test is marked ``fresh_world`` (it needs empty tables and bucket: it
    counts every item or object). A test may change settings (environment variables), clients or
    faults; everything is put back afterwards, and the clients are rebuilt only then."""
    saved = dict(os.environ)
    local = world.local
    environment = world.environment
    fresh = request.node.get_closest_marker("fresh_world") is not None
    if fresh:
        world.worlds_made += 1
        local = LocalAWS(template, prefix=f"w{world.worlds_made}-").start()
        environment = {**FAKE_CREDENTIALS, **local.function_environment(), **FUNCTION_OPTIONS}
    os.environ.pop("AWS_PROFILE", None)
    os.environ.update(environment)
    if fresh or storage_module.get_settings() != Settings.from_env():
        storage_module.reset()
    settings = storage_module.get_settings()
    storage = storage_module.get_storage()
    try:
        yield local
    finally:
        # Invocations set the functions' own variables (AWS_LAMBDA_*); only settings count.
        changed = fresh or Settings.from_env() != settings
        changed = changed or storage_module.get_storage() is not storage
        if fresh:
            local.drop()
            local.stop()
        os.environ.clear()
        os.environ.update(saved)
        if changed:
            storage_module.reset()


@pytest.fixture
def storage(aws):
    return storage_module.get_storage()


@pytest.fixture
def handler_api(aws, template) -> HandlerApi:
    return HandlerApi(template, storage_module.get_storage)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """One ``openbin serve`` for the whole session (end-to-end tests)."""
    process = ServerProcess(tmp_path_factory.mktemp("serve")).start()
    yield process
    process.stop()


@pytest.fixture
def http_api(request, server) -> HttpApi:
    """HTTP against ``openbin serve``; a call its functions' policies refused fails the test
    (the server reports each IAM refusal on its output)."""
    before = len(server.denied)
    yield HttpApi(server)
    new = server.denied[before:]
    if request.node.get_closest_marker("access_denied") is None:
        assert not new, f"IAM refused a function's call: {new}"


@pytest.fixture(autouse=True)
def access_denied_fails_the_test(request):
    """Every AWS call of a function's code is checked against its policy (openbin_local.iam); a
    refusal fails the test, even one the code swallowed (least privilege, proved by every
    test, not by one recorded path)."""
    from openbin_local import iam

    enforced = iam.policies()
    before = len(enforced.denials) if enforced else 0
    yield
    enforced = iam.policies()
    if enforced is None or request.node.get_closest_marker("access_denied") is not None:
        return
    new = enforced.denials[before:]
    assert not new, f"IAM refused a function's call: {new}"


@pytest.fixture(params=["handler", "http"])
def api(request):
    """The contract, at both levels: through the handlers, and over HTTP."""
    return request.getfixturevalue(f"{request.param}_api")
