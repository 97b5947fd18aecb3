"""Record compression (zstandard) is safe when invocations share a process."""

from __future__ import annotations

import json

from openbin.storage.records import compress, decompress
from tests.seed import realistic_record


def test_compression_is_safe_across_threads():
    from concurrent.futures import ThreadPoolExecutor

    payloads = [json.dumps(realistic_record(20_000 + i)).encode() for i in range(16)]

    def round_trip(data):
        return decompress(compress(data)) == data

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(round_trip, payloads * 4))
