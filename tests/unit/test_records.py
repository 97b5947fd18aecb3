"""Record bytes: compressed inline when small, in S3 when large; exact round trips."""

from __future__ import annotations

import json
import random
import zlib

import pytest
import zstandard

from openbin import aws as clients
from openbin import ids
from openbin.models import RecordRef
from openbin.services.accounts import AccountService
from openbin.services.auth import Credentials
from openbin.services.bins import BinService, CreateRequest, ReadRequest
from openbin.storage.records import ZSTD_MAGIC, RecordStore, compress, decompress


def realistic_record(target_bytes: int, seed: int = 7) -> dict:
    """Nested, varied JSON (users with orders), about ``target_bytes`` long."""
    rng = random.Random(seed)
    words = [
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
        "juliet", "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo",
    ]  # fmt: skip
    users, size = [], 20
    while size < target_bytes:
        user = {
            "id": f"{rng.randint(1_500_000_000, 1_800_000_000):08x}{rng.getrandbits(64):016x}",
            "name": " ".join(rng.choice(words).title() for _ in range(2)),
            "email": f"{rng.getrandbits(40):x}@example.org",
            "score": round(rng.uniform(-1000, 1000), 4),
            "active": rng.random() < 0.5,
            "tags": rng.sample(words, rng.randint(0, 5)),
            "address": {
                "street": f"{rng.randint(1, 9999)} {rng.choice(words).title()} Street",
                "geo": {"lat": rng.uniform(-90, 90), "lng": rng.uniform(-180, 180)},
            },
            "orders": [
                {
                    "sku": f"{rng.getrandbits(48):012x}",
                    "qty": rng.randint(1, 40),
                    "price": round(rng.uniform(0.5, 500), 2),
                    "note": None if rng.random() < 0.7 else "ünïcødé ✓ " + rng.choice(words),
                }
                for _ in range(rng.randint(0, 6))
            ],
        }
        users.append(user)
        size += len(json.dumps(user, ensure_ascii=False).encode()) + 2
    return {"generatedBy": "openbin-tests", "users": users}


@pytest.fixture
def store(storage):
    return storage.records


def s3_keys(storage, prefix: str = "records/") -> list[str]:
    listed = clients.s3().list_objects_v2(Bucket=storage.settings.records_bucket, Prefix=prefix)
    return [obj["Key"] for obj in listed.get("Contents", [])]


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
    assert s3_keys(storage) == []


def test_large_record_goes_to_s3(storage, store):
    bin_id = ids.new_id()
    data = json.dumps(realistic_record(300_000)).encode()
    assert len(zlib.compress(data, 6)) > storage.settings.inline_record_limit
    ref = store.save(bin_id, data)
    assert ref.inline is None
    assert ref.size == len(data)
    assert ref.s3_key.startswith(f"records/{bin_id}/") and ref.s3_key.endswith(".json.zst")
    assert s3_keys(storage) == [ref.s3_key]
    assert store.keys_of_bin(bin_id) == [ref.s3_key]
    stored = clients.s3().get_object(Bucket=storage.settings.records_bucket, Key=ref.s3_key)
    assert zstandard.ZstdDecompressor().decompress(stored["Body"].read()) == data
    assert store.load(ref) == data


def test_records_stored_as_zlib_before_zstandard_still_read(storage, store):
    data = json.dumps(realistic_record(300_000)).encode()
    assert store.load(RecordRef(size=len(data), inline=zlib.compress(data, 3))) == data
    key = f"records/{ids.new_id()}/old.json.z"
    clients.s3().put_object(
        Bucket=storage.settings.records_bucket, Key=key, Body=zlib.compress(data, 3)
    )
    assert store.load(RecordRef(size=len(data), s3_key=key)) == data


def test_compression_is_safe_across_threads():
    from concurrent.futures import ThreadPoolExecutor

    payloads = [json.dumps(realistic_record(20_000 + i)).encode() for i in range(16)]

    def round_trip(data):
        return decompress(compress(data)) == data

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(round_trip, payloads * 4))


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
    assert s3_keys(storage) == [kept.s3_key]
    inline = store.save(ids.new_id(), b'{"a": 1}')
    assert inline.s3_key is None
    store.discard(inline)  # an inline record has no object: nothing else is touched
    assert s3_keys(storage) == [kept.s3_key]
    assert store.load(kept) == json.dumps(realistic_record(200_000, seed=1)).encode()


def test_pro_record_of_900kb_through_the_service(storage):
    account, master = AccountService(storage).create_account("pro")
    record = realistic_record(900_000)
    body = json.dumps(record, ensure_ascii=False).encode("utf-8")
    assert 880_000 < len(body) < storage.settings.pro_record_limit
    service = BinService(storage)
    creds = Credentials(master_key=master)
    made = service.create(
        CreateRequest(creds, content_type="application/json", private="false", body=body)
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


def test_pro_record_through_the_handlers(handler_api, storage):
    account = handler_api.account(plan="pro")
    record = realistic_record(900_000, seed=11)
    made = handler_api.post("/v3/b", record, {"X-Master-Key": account.key})
    assert made.status == 200
    bin_id = made.json()["metadata"]["id"]
    assert storage.bins.get(bin_id).record.s3_key is not None
    read = handler_api.get(f"/v3/b/{bin_id}?meta=false", {"X-Master-Key": account.key})
    assert read.status == 200
    assert read.json() == record
    assert read.body == json.dumps(record).encode()
