from __future__ import annotations

import os

import pytest

from openbin import storage as storage_module
from openbin_cli.emulator import LocalAWS
from openbin_cli.template import Template
from tests.support import HandlerApi, HttpApi, ServerProcess


@pytest.fixture(scope="session")
def template() -> Template:
    return Template()


@pytest.fixture
def aws(template):
    """moto DynamoDB and S3, tables and bucket created from template.yaml, and the functions'
    environment from the template; everything is put back afterwards."""
    saved = dict(os.environ)
    local = LocalAWS(template).start()
    os.environ.update(local.function_environment())
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    storage_module.reset()
    try:
        yield local
    finally:
        local.stop()
        storage_module.reset()
        os.environ.clear()
        os.environ.update(saved)


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
def http_api(server) -> HttpApi:
    return HttpApi(server)


@pytest.fixture(params=["handler", "http"])
def api(request):
    """The contract, at both levels: through the handlers, and over HTTP."""
    return request.getfixturevalue(f"{request.param}_api")
