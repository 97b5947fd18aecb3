"""Record bytes: compressed inline when small, in S3 when large; exact round trips."""

from __future__ import annotations

import json
import zlib

import pytest
import zstandard

from openbin import aws as clients
from openbin import ids
from openbin.models import RecordRef
from openbin.services.accounts import AccountService
from openbin.services.auth import Credentials
from openbin.services.bins import BinService, CreateRequest, ReadRequest
from openbin.storage.records import ZSTD_MAGIC, RecordStore
from tests.seed import realistic_record


@pytest.fixture
def store(storage):
    return storage.records


def s3_keys(storage, prefix: str = "records/") -> list[str]:
    pages = clients.s3().get_paginator("list_objects_v2")
    bucket = storage.settings.records_bucket
    return [
        o["Key"]
        for p in pages.paginate(Bucket=bucket, Prefix=prefix)
        for o in p.get("Contents", [])
    ]


def test_small_record_is_inline_and_compressed(storage, store):
    bin_id = ids.new_id()
    data = json.dumps({"hello": "world", "n": list(range(50))}).encode()
    ref = store.save(bin_id, data)
    assert ref.s3_key is None
    assert ref.size == len(data)
    assert ref.inline.startswith(ZSTD_MAGIC)
    assert zstandard.ZstdDecompressor().decompress(ref.inline) == data
    assert len(ref.inline) < len(data)
    assert store.load(ref) == data
    assert s3_keys(storage, f"records/{bin_id}/") == []


def test_large_record_goes_to_s3(storage, store):
    bin_id = ids.new_id()
    data = json.dumps(realistic_record(300_000)).encode()
    assert len(zlib.compress(data, 6)) > storage.settings.inline_record_limit
    ref = store.save(bin_id, data)
    assert ref.inline is None
    assert ref.size == len(data)
    assert ref.s3_key.startswith(f"records/{bin_id}/") and ref.s3_key.endswith(".json.zst")
    assert s3_keys(storage, f"records/{bin_id}/") == [ref.s3_key]
    assert store.keys_of_bin(bin_id) == [ref.s3_key]
    stored = clients.s3().get_object(Bucket=storage.settings.records_bucket, Key=ref.s3_key)
    assert zstandard.ZstdDecompressor().decompress(stored["Body"].read()) == data
    assert store.load(ref) == data


def test_an_xl_record_is_an_object_however_small(storage, store):
    bin_id = ids.new_id()
    ref = store.save(bin_id, b'{"a": 1}', as_object=True)
    assert ref.inline is None and ref.size == 8
    assert s3_keys(storage, f"records/{bin_id}/") == [ref.s3_key]
    assert store.load(ref) == b'{"a": 1}'


def test_an_xl_upload_through_the_service_lands_in_s3(storage):
    _, master = AccountService(storage).create_account("free")
    boundary = "b0undary"
    form = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.json"\r\n\r\n'
        '{"small": true}\r\n'
        f"--{boundary}--\r\n"
    ).encode()
    request = CreateRequest(
        Credentials(master_key=master),
        content_type=f"multipart/form-data; boundary={boundary}",
        body=form,
        xl=True,
    )
    written = BinService(storage).create(request)
    assert written.bin.record.s3_key is not None and written.bin.record.size == 15
    assert storage.records.load(written.bin.record) == b'{"small": true}'


def test_records_stored_as_zlib_before_zstandard_still_read(storage, store):
    data = json.dumps(realistic_record(300_000)).encode()
    assert store.load(RecordRef(size=len(data), inline=zlib.compress(data, 3))) == data
    key = f"records/{ids.new_id()}/old.json.z"
    clients.s3().put_object(
        Bucket=storage.settings.records_bucket, Key=key, Body=zlib.compress(data, 3)
    )
    assert store.load(RecordRef(size=len(data), s3_key=key)) == data


def test_inline_limit_is_on_compressed_bytes(storage):
    small = RecordStore(clients.s3(), storage.settings.records_bucket, inline_limit=100)
    data = b"[" + b"1," * 5000 + b"1]"  # 10 KB that compresses far below 100 bytes
    assert len(zlib.compress(data, 6)) <= 100
    assert small.save(ids.new_id(), data).inline is not None
    varied = json.dumps(realistic_record(2_000)).encode()
    ref = small.save(ids.new_id(), varied)
    assert ref.inline is None
    assert small.load(ref) == varied
    nothing_inline = RecordStore(clients.s3(), storage.settings.records_bucket, inline_limit=0)
    ref = nothing_inline.save(ids.new_id(), b"[]")
    assert ref.inline is None
    assert nothing_inline.load(ref) == b"[]"


ROUND_TRIPS = [
    b"[]",
    '{"é": "ünïcødé ✓ 🎉", "esc": "\\u00e9\\ud83c\\udf89"}'.encode(),
    b'{"n": 1.0, "big": 12345678901234567890123, "e": 1E2, "neg": -0.0}',
    b'{\n  "spaced" :  [ 1 ,2 ]\n}',
    bytes(range(32, 127)),
]


def test_load_round_trips_bytes_exactly(storage, store):
    everything_s3 = RecordStore(clients.s3(), storage.settings.records_bucket, inline_limit=0)
    for data in ROUND_TRIPS:
        assert store.load(store.save(ids.new_id(), data)) == data
        assert everything_s3.load(everything_s3.save(ids.new_id(), data)) == data


def test_each_save_is_its_own_object(storage):
    store = RecordStore(clients.s3(), storage.settings.records_bucket, inline_limit=0)
    bin_id = ids.new_id()
    first, second = store.save(bin_id, b"[1]"), store.save(bin_id, b"[2]")
    assert first.s3_key != second.s3_key
    assert sorted(store.keys_of_bin(bin_id)) == sorted([first.s3_key, second.s3_key])
    assert store.load(first) == b"[1]"
    assert store.load(second) == b"[2]"


def test_discard_removes_the_s3_object(storage, store):
    bin_id = ids.new_id()
    kept = store.save(bin_id, json.dumps(realistic_record(200_000, seed=1)).encode())
    dropped = store.save(bin_id, json.dumps(realistic_record(200_000, seed=2)).encode())
    assert sorted(store.keys_of_bin(bin_id)) == sorted([kept.s3_key, dropped.s3_key])
    store.discard(dropped)
    assert store.keys_of_bin(bin_id) == [kept.s3_key]
    assert dropped.s3_key not in s3_keys(storage)
    before = s3_keys(storage)
    inline = store.save(ids.new_id(), b'{"a": 1}')
    assert inline.s3_key is None
    store.discard(inline)  # an inline record has no object: nothing else is touched
    assert s3_keys(storage) == before
    assert store.load(kept) == json.dumps(realistic_record(200_000, seed=1)).encode()


def test_pro_record_of_900kb_through_the_service(storage):
    account, master = AccountService(storage).create_account("pro")
    record = realistic_record(900_000)
    body = json.dumps(record, ensure_ascii=False).encode("utf-8")
    assert 880_000 < len(body) < storage.settings.pro_record_limit
    service = BinService(storage)
    creds = Credentials(master_key=master)
    made = service.create(
        CreateRequest(creds, content_type="application/json", private=False, body=body)
    )
    bin_id = made.bin.bin_id
    assert made.bin.private is False
    assert json.loads(made.record_json) == record

    stored = storage.bins.get(bin_id)
    assert stored.record.inline is None
    assert stored.record.size == len(body)
    assert s3_keys(storage, f"records/{bin_id}/") == [stored.record.s3_key]

    read = service.read(ReadRequest(creds, bin_id))
    assert read.record_json.encode("utf-8") == body
    assert json.loads(read.record_json) == record
    assert (read.bin.bin_id, read.bin.private, read.version) == (bin_id, False, None)
    assert read.bin.created_at == made.bin.created_at
    assert storage.accounts.get(account.account_id).requests_remaining == (
        storage.settings.pro_requests - 2
    )
