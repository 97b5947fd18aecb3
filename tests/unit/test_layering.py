"""The layering rule of docs/CONVENTIONS.md, read from the source: function modules wire routes
to ``openbin.api``; ``api`` shapes HTTP; ``services`` know no HTTP and no DynamoDB shapes;
``storage`` knows nothing above it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.support import ROOT

PACKAGE = ROOT / "layers" / "common" / "openbin"
ATTRIBUTE_TYPES = {"S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"}
DYNAMODB_WORDS = {"TableName", "Key", "Item", "Items", "UpdateExpression", "ConditionExpression"}


def modules(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*.py") if path.name != "__init__.py")


def imports(path: Path) -> set[str]:
    """The modules a module imports (``from a.b import c`` counts as ``a.b``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def shapes(path: Path) -> list[str]:
    """DynamoDB shapes written in a module: attribute-typed values (``{"S": ...}``,
    ``item["owner"]["S"]``, ``.get("S")``) and request keys (``TableName=``, ``"Key":``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Dict):
            keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
            found += sorted(keys & (ATTRIBUTE_TYPES | DYNAMODB_WORDS))
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            if node.slice.value in ATTRIBUTE_TYPES:
                found.append(f"[{node.slice.value!r}]")
        elif isinstance(node, ast.Call):
            found += [k.arg for k in node.keywords if k.arg in DYNAMODB_WORDS]
            if (
                isinstance(node.func, ast.Attribute)
                and node.func.attr == "get"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and node.args[0].value in ATTRIBUTE_TYPES
            ):
                found.append(f".get({node.args[0].value!r})")
    return found


def name(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", modules(PACKAGE / "services"), ids=name)
def test_services_know_no_http_and_no_dynamodb(path):
    forbidden = [
        module
        for module in imports(path)
        if module.split(".")[0] in {"boto3", "botocore", "aws_lambda_powertools"}
        or module.startswith(("openbin.api", "openbin.storage.dynamo", "openbin.aws"))
    ]
    assert not forbidden, f"{name(path)} imports {forbidden}"
    assert not shapes(path), f"{name(path)} writes DynamoDB shapes: {shapes(path)}"


@pytest.mark.parametrize("path", modules(PACKAGE / "storage"), ids=name)
def test_storage_knows_nothing_above_it(path):
    above = [m for m in imports(path) if m.startswith(("openbin.services", "openbin.api"))]
    assert not above, f"{name(path)} imports {above}"


@pytest.mark.parametrize("path", modules(PACKAGE / "api"), ids=name)
def test_the_http_edge_reaches_storage_only_through_services(path):
    """``from openbin.storage import get_storage`` wires a service to the storage (the api
    modules are where services are built); no repository or table is touched here."""
    direct = [
        module
        for module in imports(path)
        if module.startswith("openbin.storage.") or module.split(".")[0] == "boto3"
    ]
    assert not direct, f"{name(path)} imports {direct}"
    assert not shapes(path), f"{name(path)} writes DynamoDB shapes: {shapes(path)}"


@pytest.mark.parametrize("path", sorted((ROOT / "functions").glob("*/*.py")), ids=name)
def test_function_modules_only_wire_routes(path):
    assert path.name == f"{path.parent.name}_handler.py", "one naming scheme: <group>_handler.py"
    outside = [m for m in imports(path) if not m.startswith(("openbin.api", "__future__"))]
    assert not outside, f"{name(path)} imports {outside}"
    tree = ast.parse(path.read_text())
    assigned = {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets}
    assert "lambda_handler" in assigned, "the entry point AWS calls"
    routes = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.decorator_list]
    if routes:  # an HTTP function: its routes on one resolver (not: a log subscriber)
        assert "app" in assigned, "a resolver"


def test_the_checks_see_what_they_look_for(tmp_path):
    """The detectors themselves, on code that breaks the rule."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import boto3\n"
        "from openbin.storage.dynamo import batch_get\n"
        "x = {'S': 'a'}\n"
        "y = item['owner']['S']\n"
        "z = item.get('N')\n"
        "db.put_item(TableName='t', Item={})\n"
    )
    assert imports(sample) == {"boto3", "openbin.storage.dynamo"}
    assert sorted(shapes(sample)) == sorted(["S", "['S']", ".get('N')", "TableName", "Item"])


def test_services_read_no_header():
    """Headers are read and parsed in api/ (api/headers.py) into typed values, or the refusal
    an invalid one stands for (raised by the service at its step: errors.given). A service
    never parses a header nor names one on its own: the only header names left in services/
    are the two keys' in auth.py, which its refusals quote (the contract's wording)."""
    services = Path(__file__).resolve().parents[2] / "layers/common/openbin/services"
    found = []
    for path in sorted(services.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in (
                "parse_bool",
                "check_name",
            ):
                found.append(f"{path.name}:{node.lineno} parses a header")
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and re.fullmatch(r"X-[A-Za-z-]+|Content-Type|If-Match|Idempotency-Key", node.value)
                and path.name != "auth.py"
            ):
                found.append(f"{path.name}:{node.lineno} names {node.value}")
    assert found == []
