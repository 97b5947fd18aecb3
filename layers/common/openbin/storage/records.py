"""Record bytes: Zstandard-compressed, inline in the DynamoDB item when small, in S3 when large.

Records written before Zstandard are zlib streams; both are read (a Zstandard frame starts with
its magic number, a zlib stream never does).
"""

from __future__ import annotations

import threading
import uuid
import zlib
from datetime import datetime

from botocore.exceptions import BotoCoreError, ClientError

from openbin.models import RecordRef
from openbin.observability import logger
from openbin.storage.objects import ObjectStore

# Level 1: 0.21 of raw JSON on the benchmark corpus, where zlib's level 3 stored 0.24 in three
# times the time, and decompresses twice as fast; see docs/PERFORMANCE.md.
COMPRESSION_LEVEL = 1
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_contexts = threading.local()  # a zstd context is not for concurrent use: one per thread


def compress(data: bytes) -> bytes:
    compressor = getattr(_contexts, "compressor", None)
    if compressor is None:
        import zstandard  # only where records are written or read

        compressor = _contexts.compressor = zstandard.ZstdCompressor(level=COMPRESSION_LEVEL)
    return compressor.compress(data)


def decompress(packed: bytes) -> bytes:
    if not packed.startswith(ZSTD_MAGIC):
        return zlib.decompress(packed)
    decompressor = getattr(_contexts, "decompressor", None)
    if decompressor is None:
        import zstandard

        decompressor = _contexts.decompressor = zstandard.ZstdDecompressor()
    return decompressor.decompress(packed)


MISSING = ("NoSuchKey", "404")  # a GetObject of a key that is not there (no longer)


class RecordStore(ObjectStore):
    def __init__(self, s3_client, bucket: str, inline_limit: int) -> None:
        super().__init__(s3_client, bucket)  # a read of an inline record never loads S3
        self._inline_limit = inline_limit

    def save(self, bin_id: str, data: bytes, as_object: bool = False) -> RecordRef:
        """Compressed, inline when small enough (never ``as_object``), else an S3 object."""
        packed = compress(data)
        if len(packed) <= self._inline_limit and not as_object:
            return RecordRef(size=len(data), inline=packed)
        key = f"records/{bin_id}/{uuid.uuid4().hex}.json.zst"
        self._s3.put_object(
            Bucket=self._bucket, Key=key, Body=packed, ContentType="application/octet-stream"
        )
        return RecordRef(size=len(data), s3_key=key)

    def load(self, ref: RecordRef) -> bytes:
        if ref.inline is not None:
            return decompress(ref.inline)
        body = self._s3.get_object(Bucket=self._bucket, Key=ref.s3_key)["Body"]
        return decompress(body.read())

    def load_kept(self, ref: RecordRef) -> bytes:
        """The record, even if a later write has removed its object since: the bucket is
        versioned, so a removed object is kept as a noncurrent version (for 35 days). For a
        reader behind the writes (the webhooks' stream); only a missing key is looked for so
        (to a reader that may not list the bucket, S3 says AccessDenied for one)."""
        try:
            return self.load(ref)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if ref.s3_key is None or code not in (*MISSING, "AccessDenied"):
                raise
        listed = self._s3.list_object_versions(Bucket=self._bucket, Prefix=ref.s3_key)
        kept = [v for v in listed.get("Versions", []) if v["Key"] == ref.s3_key]
        if not kept:
            raise KeyError(ref.s3_key)
        newest = max(kept, key=lambda v: v["LastModified"])
        body = self._s3.get_object(
            Bucket=self._bucket, Key=ref.s3_key, VersionId=newest["VersionId"]
        )["Body"]
        return decompress(body.read())

    def discard(self, ref: RecordRef) -> None:
        """Remove a record's S3 object, if it has one (best effort, see discard_all)."""
        self.discard_all([ref])

    def discard_all(self, refs) -> None:
        """Remove the S3 objects of records nothing points at any more (1000 per request).

        Called after the write that stopped pointing at them has committed, so a failure here
        must not fail the request: the object is left behind (unreachable, never a dangling
        reference) and the failure is logged."""
        keys = [ref.s3_key for ref in refs if ref.s3_key is not None]
        try:
            for start in range(0, len(keys), 1000):
                self._s3.delete_objects(
                    Bucket=self._bucket,
                    Delete={
                        "Objects": [{"Key": k} for k in keys[start : start + 1000]],
                        "Quiet": True,
                    },
                )
        except (ClientError, BotoCoreError) as error:
            logger.warning(
                "orphaned record objects left in S3",
                extra={
                    "objects": len(keys),
                    "error": type(error).__name__,
                },
            )

    def objects_older_than(self, cutoff: datetime) -> list[str]:
        """Keys of the record objects written before ``cutoff``."""
        keys: list[str] = []
        for page in self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=self._bucket, Prefix="records/"
        ):
            keys += [o["Key"] for o in page.get("Contents", []) if o["LastModified"] < cutoff]
        return keys

    def keys_of_bin(self, bin_id: str) -> list[str]:
        keys: list[str] = []
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self._bucket, Prefix=f"records/{bin_id}/"):
            keys.extend(obj["Key"] for obj in page.get("Contents", []))
        return keys

    def undelete_since(self, since: datetime) -> list[str]:
        """Bring back every record deleted at or after ``since`` (a table restore's time): the
        bucket is versioned, so a delete only laid a delete marker over the object, and
        removing the marker makes the object current again. Every record has a key of its own
        (never overwritten), so this is all a restore of the records needs. Returns the keys."""
        restored: list[str] = []
        paginator = self._s3.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=self._bucket, Prefix="records/"):
            for marker in page.get("DeleteMarkers", []):
                if marker.get("IsLatest") and marker["LastModified"] >= since:
                    self._s3.delete_object(
                        Bucket=self._bucket, Key=marker["Key"], VersionId=marker["VersionId"]
                    )
                    restored.append(marker["Key"])
        return restored
