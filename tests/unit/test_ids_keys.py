"""IDs and keys: their shape, their randomness, and that only hashes of keys are stored."""

from __future__ import annotations

import hashlib
import re
import time

from openbin import ids
from openbin.keys import (
    ALPHABET,
    PREFIX,
    account_hint,
    generate_key,
    hash_key,
    looks_like_key,
)

ID_SHAPE = re.compile(r"[0-9a-f]{24}")
KEY_SHAPE = re.compile(r"\$2a\$10\$[./A-Za-z0-9]{53}")


def test_new_id_is_24_lowercase_hex():
    value = ids.new_id()
    assert len(value) == 24
    assert ID_SHAPE.fullmatch(value) is not None
    assert value == value.lower()


def test_new_id_starts_with_creation_seconds():
    before = int(time.time())
    value = ids.new_id()
    after = int(time.time())
    assert before <= int(value[:8], 16) <= after


def test_new_id_encodes_the_given_time():
    assert ids.new_id(1_700_000_000.9)[:8] == "6553f100"
    assert ids.new_id(0)[:8] == "00000000"


def test_new_ids_are_unique_and_random_after_the_time():
    made = [ids.new_id(1_700_000_000) for _ in range(5000)]
    assert len(set(made)) == 5000
    assert {value[:8] for value in made} == {"6553f100"}
    assert len({value[8:] for value in made}) == 5000


def test_ids_sort_by_creation_time():
    earlier, later = ids.new_id(1_600_000_000), ids.new_id(1_700_000_000)
    assert earlier < later


def test_is_id():
    assert ids.is_id(ids.new_id()) is True
    assert ids.is_id("0123456789abcdef01234567") is True
    assert ids.is_id("0123456789ABCDEF01234567") is False
    assert ids.is_id("0123456789abcdef0123456") is False
    assert ids.is_id("0123456789abcdef012345678") is False
    assert ids.is_id("0123456789abcdef0123456g") is False
    assert ids.is_id("0123456789abcdef01234567\n") is False
    assert ids.is_id("") is False
    assert ids.is_id(None) is False


def test_generate_key_shape():
    key = generate_key()
    assert len(key) == 60
    assert key.startswith("$2a$10$")
    assert KEY_SHAPE.fullmatch(key) is not None
    assert PREFIX == "$2a$10$"
    assert len(ALPHABET) == 64
    assert set(ALPHABET) == set("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
    assert looks_like_key(key) is True


def test_generate_key_randomness():
    keys = [generate_key() for _ in range(1000)]
    assert len(set(keys)) == 1000
    assert all(KEY_SHAPE.fullmatch(key) for key in keys)
    # 53 000 characters drawn from 64 letters: every letter shows up.
    assert set("".join(key[7:] for key in keys)) == set(ALPHABET)


def test_a_key_carries_its_account_and_a_222_bit_secret():
    account_id = ids.new_id()
    keys = [generate_key(account_id) for _ in range(1000)]
    assert all(KEY_SHAPE.fullmatch(key) and looks_like_key(key) for key in keys)
    assert {account_hint(key) for key in keys} == {account_id}
    assert {key[: 7 + 16] for key in keys} == {keys[0][:23]}  # the account part, 16 characters
    secrets_part = [key[23:] for key in keys]
    assert len(set(secrets_part)) == 1000 and all(len(part) == 37 for part in secrets_part)
    assert set("".join(secrets_part)) == set(ALPHABET)
    for edge in ("0" * 24, "f" * 24, "0123456789abcdef01234567"):
        assert account_hint(generate_key(edge)) == edge


def test_account_hint_of_other_values():
    assert account_hint("") is None
    assert account_hint("$2a$10$short") is None
    assert account_hint(generate_key())  # any well-formed key decodes to some ID
    for bad in ("xyz", "0" * 23, "0" * 25, "g" * 24):
        try:
            generate_key(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} accepted as an account id")


def test_looks_like_key_refuses_other_shapes():
    key = generate_key()
    assert looks_like_key(key[:-1]) is False
    assert looks_like_key(key + "a") is False
    assert looks_like_key("$2b$10$" + key[7:]) is False
    assert looks_like_key(key[:-1] + "-") is False


def test_hash_key_is_deterministic_sha256():
    key = generate_key()
    assert hash_key(key) == hash_key(key)
    assert hash_key(key) == hashlib.sha256(key.encode("utf-8")).hexdigest()
    assert len(hash_key(key)) == 64
    assert hash_key("$2a$10$" + "a" * 53) != hash_key("$2a$10$" + "a" * 52 + "b")
    assert hash_key("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_an_ids_creation_second_as_a_created_at_time():
    bin_id = ids.new_id(now=1_796_000_000.75)
    assert ids.created_second(bin_id) == "2026-11-30T00:53:20.000Z"
    assert ids.created_second(bin_id, last_millisecond=True) == "2026-11-30T00:53:20.999Z"
