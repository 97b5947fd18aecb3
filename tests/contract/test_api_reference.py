"""docs/API.md is kept true by tests: every error message it quotes is asserted by a test, and
it describes every route template.yaml serves, and no other."""

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


def documented_routes() -> set[tuple[str, str]]:
    """(method, path) for every route the reference names: ``GET /v3/b/<id>``, and a path that
    follows it on the same line (`` `GET /v3/b/<id>`, `/v3/b/<id>/latest` ``) takes its method.
    Placeholders are compared by position, whatever their names."""
    routes = set()
    for line in REFERENCE.splitlines():
        method = None
        for span in re.findall(r"`([^`]+)`", line):
            named = re.fullmatch(r"(GET|POST|PUT|DELETE|PATCH) (/v3\S*|/console/\S*|/)", span)
            if named:
                method, path = named.groups()
            elif method and re.fullmatch(r"/v3\S*", span):
                path = span
            else:
                continue
            routes.add((method, re.sub(r"<[^>]+>", "<>", path)))
    return routes


def test_every_route_of_the_template_is_in_the_reference(template):
    documented = documented_routes()
    missing = [
        f"{route.method} {route.path}"
        for route in template.routes
        if route.path.startswith("/")
        and (route.method, re.sub(r"\{[^}]+\}", "<>", route.path)) not in documented
    ]
    assert not missing, f"docs/API.md does not describe {missing}"
    served = {(r.method, re.sub(r"\{[^}]+\}", "<>", r.path)) for r in template.routes}
    # /latest is the read route with "latest" as its version
    extra = {r for r in documented - served if not r[1].endswith("/latest")}
    assert not extra, f"docs/API.md describes routes the template does not serve: {extra}"


def cited_sections() -> list[tuple[str, str]]:
    """(file, section) of every ``§N`` / ``§N.M`` the project cites: docs/API.md's (an RFC's
    section, ``RFC 9112 §6.3``, aside)."""
    import subprocess

    files = subprocess.run(
        ["git", "ls-files"], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout.split()
    cited = []
    for name in files:
        if not name.endswith((".py", ".md", ".yaml", ".js", ".html")):
            continue
        text = (ROOT / name).read_text(errors="replace")
        for section in re.findall(r"(?<!RFC \d\d\d\d )§(\d+(?:\.\d+)?)", text):  # not an RFC's
            cited.append((name, section))
    return cited


def test_sections_are_numbered_in_order_and_every_cited_one_exists():
    numbers = re.findall(r"^#{2,3} (\d+(?:\.\d+)?)[. ]", REFERENCE, flags=re.MULTILINE)
    tops = [int(n) for n in numbers if "." not in n]
    assert tops == list(range(1, len(tops) + 1))  # 1, 2, 3 ... with nothing in between
    cited = cited_sections()
    assert len(cited) > 30
    missing = sorted({f"{name}: §{section}" for name, section in cited if section not in numbers})
    assert missing == []
