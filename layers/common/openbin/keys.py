"""Master and access keys: the JSONBin shape, from a CSPRNG, stored only as a hash.

A key carries 53 characters of a 64-letter alphabet (318 bits), so a fast keyed-free SHA-256 is
the right hash: nothing can be brute-forced, and lookups by hash stay a single GetItem.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import string

PREFIX = "$2a$10$"
ALPHABET = "./" + string.ascii_uppercase + string.ascii_lowercase + string.digits
_KEY_RE = re.compile(r"\$2a\$10\$[./A-Za-z0-9]{53}")


def generate_key() -> str:
    return PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(53))


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def looks_like_key(value: str) -> bool:
    return _KEY_RE.fullmatch(value) is not None
