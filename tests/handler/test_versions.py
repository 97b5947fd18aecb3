"""Bin history: versioned writes append, unversioned writes replace the latest in place, and
reading the latest costs the same whatever the history length."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.client import BaseClient

from openbin import storage as storage_module
from openbin.services.bins import BinService

VERSION_NOT_FOUND = "Bin version not found"


def body(n: int, **extra) -> bytes:
    return json.dumps({"n": n, **extra}).encode()


@pytest.fixture
def owner(handler_api):
    return handler_api.account(plan="pro")


@pytest.fixture
def bin_id(handler_api, owner):
    return handler_api.create_bin(owner, {"n": 0}, X_Bin_Name="history")


def read(handler_api, owner, bin_id, suffix=""):
    reply = handler_api.get(f"/v3/b/{bin_id}{suffix}", {"X-Master-Key": owner.key})
    return reply.status, reply.json()


def test_versioned_writes_append_versions(handler_api, storage, owner, bin_id):
    service = BinService(storage)
    assert [service.write_version(bin_id, body(k), versioned=True) for k in range(1, 6)] == [
        1,
        2,
        3,
        4,
        5,
    ]
    assert storage.bins.get(bin_id).latest_version == 5
    for k in range(6):
        status, answer = read(handler_api, owner, bin_id, f"/{k}")
        assert status == 200
        assert answer["record"] == {"n": k}
        assert answer["metadata"]["version"] == k
        assert answer["metadata"]["id"] == bin_id
        assert answer["metadata"]["name"] == "history"
    for suffix in ("", "/latest"):
        status, answer = read(handler_api, owner, bin_id, suffix)
        assert status == 200
        assert answer["record"] == {"n": 5}
        assert "version" not in answer["metadata"]
        assert set(answer["metadata"]) == {"id", "private", "createdAt", "name"}


def test_unversioned_write_replaces_the_latest_in_place(handler_api, storage, owner, bin_id):
    service = BinService(storage)
    assert service.write_version(bin_id, body(1), versioned=True) == 1
    assert service.write_version(bin_id, body(2), versioned=True) == 2
    assert service.write_version(bin_id, body(22, replaced=True), versioned=False) is None
    assert storage.bins.get(bin_id).latest_version == 2
    assert read(handler_api, owner, bin_id, "/latest")[1]["record"] == {"n": 22, "replaced": True}
    assert read(handler_api, owner, bin_id, "/2")[1]["record"] == {"n": 22, "replaced": True}
    assert read(handler_api, owner, bin_id, "/1")[1]["record"] == {"n": 1}
    assert read(handler_api, owner, bin_id, "/0")[1]["record"] == {"n": 0}
    assert read(handler_api, owner, bin_id, "/3") == (404, {"message": VERSION_NOT_FOUND})
    # The next versioned write keeps the replaced record as version 2.
    assert service.write_version(bin_id, body(3), versioned=True) == 3
    assert read(handler_api, owner, bin_id, "/2")[1]["record"] == {"n": 22, "replaced": True}
    assert read(handler_api, owner, bin_id, "/3")[1]["record"] == {"n": 3}


def test_unversioned_write_of_a_large_record_discards_the_old_object(
    handler_api, storage, owner, bin_id
):
    service = BinService(storage)
    large = [{"i": i, "hex": f"{i * 2654435761 % 2**32:08x}"} for i in range(20_000)]
    assert service.write_version(bin_id, json.dumps(large).encode(), versioned=True) == 1
    first = storage.bins.get(bin_id).record.s3_key
    assert storage.records.keys_of_bin(bin_id) == [first]
    large[0]["i"] = -1
    assert service.write_version(bin_id, json.dumps(large).encode(), versioned=False) is None
    second = storage.bins.get(bin_id).record.s3_key
    assert second != first
    assert storage.records.keys_of_bin(bin_id) == [second]
    assert read(handler_api, owner, bin_id, "/1")[1]["record"] == large
    assert read(handler_api, owner, bin_id, "/0")[1]["record"] == {"n": 0}


def test_concurrent_versioned_writes_get_their_own_numbers(handler_api, storage, owner, bin_id):
    service = BinService(storage)

    def write(writer: int) -> tuple[int, int]:
        return service.write_version(bin_id, body(100 + writer, writer=writer), True), writer

    with ThreadPoolExecutor(max_workers=20) as pool:
        numbered = dict(pool.map(write, range(20)))
    assert sorted(numbered) == list(range(1, 21))
    assert storage.bins.get(bin_id).latest_version == 20
    for version, writer in numbered.items():
        status, answer = read(handler_api, owner, bin_id, f"/{version}")
        assert status == 200
        assert answer["record"] == {"n": 100 + writer, "writer": writer}
        assert answer["metadata"]["version"] == version
    assert read(handler_api, owner, bin_id)[1]["record"] == {
        "n": 100 + numbered[20],
        "writer": numbered[20],
    }
    assert read(handler_api, owner, bin_id, "/0")[1]["record"] == {"n": 0}


def test_version_beyond_history(handler_api, storage, owner, bin_id):
    assert BinService(storage).write_version(bin_id, body(1), versioned=True) == 1
    for version in ["2", "3", "999", "0002", "1000000000000000000", "9" * 40]:
        assert read(handler_api, owner, bin_id, f"/{version}") == (
            404,
            {"message": VERSION_NOT_FOUND},
        )
    assert read(handler_api, owner, bin_id, "/0001")[1]["record"] == {"n": 1}


def test_past_the_version_limit_updates_are_unversioned(handler_api, owner, bin_id, monkeypatch):
    monkeypatch.setenv("OPENBIN_MAX_VERSIONS", "2")
    storage_module.reset()
    storage = storage_module.get_storage()
    service = BinService(storage)
    assert [service.write_version(bin_id, body(k), versioned=True) for k in (1, 2, 3, 4)] == [
        1,
        2,
        None,
        None,
    ]
    assert storage.bins.get(bin_id).latest_version == 2
    assert read(handler_api, owner, bin_id, "/2")[1]["record"] == {"n": 4}
    assert read(handler_api, owner, bin_id, "/1")[1]["record"] == {"n": 1}
    assert read(handler_api, owner, bin_id, "/3") == (404, {"message": VERSION_NOT_FOUND})


def test_write_to_a_missing_bin(storage):
    from openbin import ids
    from openbin.errors import NotFound

    with pytest.raises(NotFound) as caught:
        BinService(storage).write_version(ids.new_id(), b"[]", versioned=True)
    assert caught.value.message == "Bin not found or it doesn't belong to your account"


def test_reading_the_latest_costs_the_same_for_any_history(
    handler_api, storage, owner, monkeypatch
):
    calls: list[str] = []
    make_api_call = BaseClient._make_api_call

    def count(client, operation, params):  # every call of every client
        calls.append(f"{client.meta.service_model.endpoint_prefix}:{operation}")
        return make_api_call(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", count)

    short = handler_api.create_bin(owner, {"n": 0})
    long = handler_api.create_bin(owner, {"n": 0})
    service = BinService(storage)
    for k in range(1, 200):
        service.write_version(long, body(k), versioned=True)
    assert storage.bins.get(long).latest_version == 199  # 200 versions: 0..199

    def cost(bin_id, suffix=""):
        calls.clear()
        status, answer = read(handler_api, owner, bin_id, suffix)
        assert status == 200
        return list(calls), answer["record"]

    expected = ["dynamodb:BatchGetItem", "dynamodb:UpdateItem"]
    assert cost(short) == (expected, {"n": 0})
    assert cost(long) == (expected, {"n": 199})
    assert cost(short, "/latest") == (expected, {"n": 0})
    assert cost(long, "/latest") == (expected, {"n": 199})
    # A numbered version is fetched in the same round trip, whichever it is.
    assert cost(long, "/0") == (expected, {"n": 0})
    assert cost(long, "/150") == (expected, {"n": 150})
