"""Unit tests: the code alone, in milliseconds. No sockets (blocked here, so nothing reaches a
server or an endpoint by accident) and no moto: a test that needs storage uses the in-memory
fakes (``tests.fakes``), or belongs in ``tests/storage`` or ``tests/handler``."""

from __future__ import annotations

import pytest
from pytest_socket import disable_socket, enable_socket

NO_MOTO = "tests/unit runs without moto: use tests.fakes, or move the test to tests/storage"


@pytest.fixture(autouse=True)
def _no_sockets():
    disable_socket()
    try:
        yield
    finally:
        enable_socket()


@pytest.fixture
def world():
    pytest.fail(NO_MOTO)


@pytest.fixture
def aws(world):
    pass


@pytest.fixture
def storage(world):
    pass


@pytest.fixture
def handler_api(world):
    pass


@pytest.fixture
def server():
    pytest.fail("tests/unit starts no server: move the test to tests/e2e")
