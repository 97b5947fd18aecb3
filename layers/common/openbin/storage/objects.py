"""What every repository of S3 objects shares: the bucket, and a client made on first use."""

from __future__ import annotations


class ObjectStore:
    def __init__(self, s3_client, bucket: str) -> None:
        """``s3_client``: a client, or a function making one on first use (a request that
        touches no object then never loads S3 at all)."""
        self._s3_client = s3_client
        self._bucket = bucket

    @property
    def _s3(self):
        if callable(self._s3_client) and not hasattr(self._s3_client, "meta"):
            self._s3_client = self._s3_client()
        return self._s3_client
