import pytest
from botocore.client import BaseClient


@pytest.fixture
def calls(monkeypatch):
    """Every storage call of every client, as "service:Operation", in the order made."""
    seen: list[str] = []
    make_api_call = BaseClient._make_api_call

    def count(client, operation, params):
        seen.append(f"{client.meta.service_model.endpoint_prefix}:{operation}")
        return make_api_call(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", count)
    return seen
