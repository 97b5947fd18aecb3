"""Master and access keys: the JSONBin shape, from a CSPRNG, stored only as a hash.

A key carries 53 characters of a 64-letter alphabet. Keys made by OpenBin spend the first 16 of
them on the id of the account they belong to (96 bits) and the other 37 on the secret (222
random bits), so a fast keyless SHA-256 is the right hash: nothing can be brute-forced, and
lookups by hash stay a single GetItem.

The account id in a key is only a hint, never trusted alone: it lets a request read the account
in the same round trip as the key, and is used only when the key's own item names the same
account. Keys without one (imported, or made before) work the same, one round trip slower.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import string

PREFIX = "$2a$10$"
ALPHABET = "./" + string.ascii_uppercase + string.ascii_lowercase + string.digits
_KEY_RE = re.compile(r"\$2a\$10\$[./A-Za-z0-9]{53}")


_ID_CHARS = 16  # an account id's 12 bytes, 6 bits a character
_VALUE = {char: index for index, char in enumerate(ALPHABET)}


def _random(count: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(count))


def generate_key(account_id: str | None = None) -> str:
    """A new key; given the account's id (24 hex digits), the key carries it (see above)."""
    if account_id is None:
        return PREFIX + _random(53)
    value = int(account_id, 16)
    if len(account_id) != 24 or value >> 96:
        raise ValueError("an account id is 24 hex digits")
    chars = [ALPHABET[(value >> shift) & 63] for shift in range(90, -1, -6)]
    return PREFIX + "".join(chars) + _random(53 - _ID_CHARS)


def account_hint(key: str) -> str | None:
    """The account id a key of this shape would carry (None for anything else). Every
    well-formed key decodes to some id: only the key's stored item says whether it is right."""
    if not looks_like_key(key):
        return None
    value = 0
    for char in key[len(PREFIX) : len(PREFIX) + _ID_CHARS]:
        value = (value << 6) | _VALUE[char]
    return f"{value:024x}"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def looks_like_key(value: str) -> bool:
    return _KEY_RE.fullmatch(value) is not None
