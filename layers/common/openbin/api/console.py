"""The web console's files (issue 18): static pages served from the console function's own
directory, same origin as the API, under a strict Content-Security-Policy.

Served by a route of the HTTP API (``GET /`` and ``GET /console/{file}``), not S3 and CloudFront:
the console and the API then share an origin, so the page's CSP allows ``connect-src 'self'``
and nothing else, no CORS is involved, and the stack needs no distribution (slow to deploy, a
second URL, a bucket policy). The files are a few kilobytes; a page load is a few invocations.
"""

from __future__ import annotations

import re
from pathlib import Path

from aws_lambda_powertools.event_handler import Response

from openbin.errors import NotFound

# No inline script or style, no eval, no outside host: the page talks to this API only.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
BINARY = {".png"}
# A file name of the console's directory: no path, no dot files.
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*\.[a-z]+")
FILE_NOT_FOUND = "Console file not found"


class ConsoleFiles:
    """The files of one directory, read once (a warm function serves them from memory)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._cache: dict[str, bytes] = {}

    @classmethod
    def beside(cls, module_file: str) -> ConsoleFiles:
        """The ``static`` directory next to a function's module (its ``__file__``)."""
        return cls(Path(module_file).with_name("static"))

    def answer(self, name: str) -> Response:
        suffix = Path(name).suffix
        if _NAME.fullmatch(name) is None or suffix not in TYPES:
            raise NotFound(FILE_NOT_FOUND)
        data = self._cache.get(name)
        if data is None:
            path = self.directory / name
            if not path.is_file():
                raise NotFound(FILE_NOT_FOUND)
            data = self._cache[name] = path.read_bytes()
        headers = {
            **SECURITY_HEADERS,
            # No build step, so no content hashes in names: pages are checked every time,
            # scripts and styles kept five minutes.
            "Cache-Control": "no-cache" if suffix == ".html" else "public, max-age=300",
        }
        # Bytes are sent base64-encoded by Powertools (isBase64Encoded), text as text.
        body: bytes | str = data if suffix in BINARY else data.decode("utf-8")
        return Response(200, TYPES[suffix], body, headers)
