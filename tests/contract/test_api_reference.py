"""docs/API.md is kept true by tests: every error message it quotes is asserted by a test."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = (ROOT / "docs" / "API.md").read_text()
TESTS = "\n".join(
    path.read_text() for path in (ROOT / "tests").rglob("*.py") if path.name != Path(__file__).name
)

# `400 Bin cannot be blank`, and table rows: | 401 | `Invalid X-Master-Key provided` |
QUOTED = re.compile(r"`([1-5]\d\d) ([^`{]+)`")
TABLE = re.compile(r"^\|[^|\n]*\| ([1-5]\d\d) \| `([^`]+)`", re.MULTILINE)
SCHEMA = re.compile(r"`(Invalid JSON Schema provided: [^`]+)`")


def literal_part(message: str) -> str:
    """What a test must contain: the message up to its first placeholder (``<...>``, ``…``)."""
    return re.split(r"<|…", message, maxsplit=1)[0]


MESSAGES = sorted(
    {
        literal_part(message).strip()
        for message in [
            *(m for _, m in QUOTED.findall(REFERENCE)),
            *(m for _, m in TABLE.findall(REFERENCE)),
            *SCHEMA.findall(REFERENCE),
        ]
    }
)


def test_the_reference_quotes_messages():
    assert len(MESSAGES) > 60
    assert "Bin cannot be blank" in MESSAGES
    assert "Account blocked. Contact the administrator" in MESSAGES


@pytest.mark.parametrize("message", MESSAGES)
def test_every_quoted_message_is_asserted_by_a_test(message):
    assert message in TESTS, f"docs/API.md quotes {message!r}, which no test asserts"
