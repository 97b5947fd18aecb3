"""Record bytes: zlib-compressed, inline in the DynamoDB item when small, in S3 when large."""

from __future__ import annotations

import uuid
import zlib

from openbin.models import RecordRef

COMPRESSION_LEVEL = 6


class RecordStore:
    def __init__(self, s3_client, bucket: str, inline_limit: int) -> None:
        self._s3 = s3_client
        self._bucket = bucket
        self._inline_limit = inline_limit

    def save(self, bin_id: str, data: bytes) -> RecordRef:
        packed = zlib.compress(data, COMPRESSION_LEVEL)
        if len(packed) <= self._inline_limit:
            return RecordRef(size=len(data), inline=packed)
        key = f"records/{bin_id}/{uuid.uuid4().hex}.json.z"
        self._s3.put_object(
            Bucket=self._bucket, Key=key, Body=packed, ContentType="application/octet-stream"
        )
        return RecordRef(size=len(data), s3_key=key)

    def load(self, ref: RecordRef) -> bytes:
        if ref.inline is not None:
            return zlib.decompress(ref.inline)
        body = self._s3.get_object(Bucket=self._bucket, Key=ref.s3_key)["Body"]
        return zlib.decompress(body.read())

    def discard(self, ref: RecordRef) -> None:
        """Remove a record's S3 object, if it has one."""
        if ref.s3_key is not None:
            self._s3.delete_object(Bucket=self._bucket, Key=ref.s3_key)

    def discard_all(self, refs) -> None:
        """Remove the S3 objects of many records (1000 per request)."""
        keys = [ref.s3_key for ref in refs if ref.s3_key is not None]
        for start in range(0, len(keys), 1000):
            self._s3.delete_objects(
                Bucket=self._bucket,
                Delete={"Objects": [{"Key": k} for k in keys[start : start + 1000]], "Quiet": True},
            )

    def keys_of_bin(self, bin_id: str) -> list[str]:
        keys: list[str] = []
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self._bucket, Prefix=f"records/{bin_id}/"):
            keys.extend(obj["Key"] for obj in page.get("Contents", []))
        return keys
