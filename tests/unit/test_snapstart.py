"""Safe for SnapStart: restoring many execution environments from one snapshot of the
initialised functions must not make them share anything that should differ (random state, a
time, a connection). Importing a function creates no client, and the layer draws its
randomness from the OS on every call."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "common" / "openbin"


def test_the_layer_draws_randomness_only_from_the_os():
    """``random``'s module functions share state seeded at import (captured by a snapshot);
    the layer uses ``secrets``, ``uuid4`` and ``random.SystemRandom`` only."""
    for path in LAYER.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if node.value.id == "random":
                    assert node.attr == "SystemRandom", f"{path}: random.{node.attr}"
            if isinstance(node, ast.ImportFrom) and node.module == "random":
                raise AssertionError(f"{path}: from random import ...")


def test_importing_every_function_creates_no_client_and_reads_no_settings():
    """What Lambda snapshots is the state after the imports: no AWS client (its connections
    would be restored stale), no settings or storage wired (read on the first request)."""
    functions = sorted((ROOT / "functions").glob("*/*.py"))
    script = f"""
import importlib.util, sys
sys.path[:0] = [{str(ROOT / "layers" / "common")!r}]
for path in {[str(p) for p in functions]!r}:
    spec = importlib.util.spec_from_file_location("f" + str(abs(hash(path))), path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(__import__("pathlib").Path(path).parent))
    spec.loader.exec_module(module)
from openbin import aws, settings, storage
assert aws.dynamodb.cache_info().currsize == 0, "a DynamoDB client at import"
assert aws.s3.cache_info().currsize == 0, "an S3 client at import"
assert settings.get_settings.cache_info().currsize == 0, "settings read at import"
assert storage.get_storage.cache_info().currsize == 0, "storage wired at import"
print("ok", {len(functions)})
"""
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.startswith("ok")


WITHOUT_STORAGE = {"RouteNotFoundFunction", "ConsoleFunction"}
CLIENT_MACHINERY = ("botocore.session", "botocore.config", "openbin.storage")


def test_functions_load_the_client_machinery_at_init_exactly_when_they_have_storage():
    """botocore's client machinery (about 150 ms of imports) is loaded at init by every
    function with storage, so Lambda's init phase and SnapStart's snapshot hold it rather than
    the first request; the two functions without storage never load it: the ``$default`` route
    (every unknown route, and the preflights API Gateway hands it) and the web console."""
    from openbin_local.template import Template

    functions = Template().functions
    assert WITHOUT_STORAGE < functions.keys()
    layer = str(ROOT / "layers" / "common")
    runs = {
        name: subprocess.Popen(
            [
                sys.executable,
                "-c",
                f"import sys; sys.path[:0] = [{layer!r}, {str(function.code_uri)!r}]; "
                f"import {function.module_name}; "
                f"print(','.join(m for m in {CLIENT_MACHINERY!r} if m in sys.modules))",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, function in functions.items()
    }
    for name, run in runs.items():
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err[-2000:]
        loaded = set(filter(None, out.strip().split(",")))
        expected = set() if name in WITHOUT_STORAGE else set(CLIENT_MACHINERY)
        assert loaded == expected, name
