"""Guards on the patches of third-party internals in the layer and the local runtime.

Each patch declares the version it was written against (``PATCHED_FOR``). These tests fail when
the installed version differs (an upgrade: check the patch against the new internals, then bump
the declaration) or when a patch is not in place (an import order or a refactor dropped it).
Two of them carry defences: jsonschema's against schemas that would run for ever, jsonpath-ng's
against expressions that would. The emulator's moto patches are guarded in
tests/storage/test_emulator_guards.py."""

from __future__ import annotations

import importlib.metadata
import re

from tests.support import ROOT


def pinned(requirement: str) -> str:
    """``name==version`` as the requirements files pin it."""
    name = requirement.split("==")[0]
    for path in (ROOT / "layers/common/requirements.txt", ROOT / "requirements-dev.txt"):
        for line in path.read_text().splitlines():
            found = re.match(rf"{re.escape(name)}(\[[^\]]*\])?==(\S+)", line.strip())
            if found:
                return f"{name}=={found.group(2)}"
    raise AssertionError(f"{name} is not pinned")


def check_version(patched_for: str) -> None:
    name = patched_for.split("==")[0]
    installed = f"{name}=={importlib.metadata.version(name)}"
    assert installed == patched_for, (
        f"{installed} is installed but the patch was checked against {patched_for}: read the "
        "patch against the new version's internals, then bump PATCHED_FOR"
    )
    assert pinned(patched_for) == patched_for, f"the pin moved away from {patched_for}"


def test_jsonschema_patches_are_for_this_version_and_installed():
    import jsonschema._keywords
    import jsonschema._legacy_keywords
    import jsonschema._utils
    from jsonschema import exceptions, validators

    from openbin.bounded import schema_bounds

    check_version(schema_bounds.PATCHED_FOR)
    # jsonschema's own drafts: the only classes in the layer's registry. Test-only libraries
    # (openapi-schema-validator, through schemathesis) register more later, in whatever order
    # pytest imports them; those never run in Lambda, so they are not asked about.
    classes = {
        cls
        for cls in (*validators._META_SCHEMAS.values(), *validators._VALIDATORS.values())
        if cls.__name__.startswith("Draft") and getattr(validators, cls.__name__, None) is cls
    }
    assert len(classes) >= 6, "jsonschema lists its drafts somewhere the patch does not look"
    for cls in classes:
        for keyword, function in cls.VALIDATORS.items():
            assert hasattr(function, "__wrapped__"), f"{cls.__name__}.{keyword} is not metered"
    assert exceptions._Error.__init__ is schema_bounds._charged_error_init
    assert hasattr(jsonschema._utils.equal, "__wrapped__")
    assert jsonschema._keywords.equal is jsonschema._utils.equal
    assert jsonschema._utils.uniq is jsonschema._keywords.uniq is schema_bounds._unique
    for module in (jsonschema._utils, jsonschema._legacy_keywords, jsonschema._keywords):
        assert module.re is schema_bounds._MeteredRegex, module.__name__


def test_jsonpath_ng_patches_are_for_this_version_and_installed():
    import jsonpath_ng.ext.arithmetic as arithmetic
    import jsonpath_ng.ext.filter as jsonpath_filter
    import jsonpath_ng.ext.string as string
    import jsonpath_ng.jsonpath as jsonpath_module

    from openbin.bounded import jsonpath, regex

    check_version(jsonpath.PATCHED_FOR)
    assert jsonpath_module.DatumInContext.__init__ is jsonpath._metered_init
    assert arithmetic.Operation.find is jsonpath._no_arithmetic
    assert jsonpath_filter.OPERATOR_MAP["=~"] is jsonpath._re2_search
    assert string.re is regex.re_module
    # The metered constructor repeats the original's body: the same state, whatever it is given.
    datum_class = jsonpath_module.DatumInContext
    fields = jsonpath_module.Fields
    for args in [
        (1,),
        ([2], fields("a")),
        (3, None, {"up": 1}),  # a context that is not a datum yet: wrapped
        (4, fields("b"), datum_class({"c": 5}, fields("c"))),
    ]:
        ours, theirs = object.__new__(datum_class), object.__new__(datum_class)
        jsonpath._metered_init(ours, *args)
        jsonpath._original_init(theirs, *args)
        assert _state(ours) == _state(theirs)


def _state(datum) -> dict:
    """What a DatumInContext holds, its context compared by value."""
    state = dict(vars(datum))
    if state.get("context") is not None:
        state["context"] = _state(state["context"])
    return state


def test_powertools_router_patch_is_for_this_version_and_installed():
    from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

    from openbin_local import runtime
    from openbin_local.template import Template

    check_version(runtime.PATCHED_FOR)
    runtime.FunctionRunner(Template())  # installs it (once per process)
    for name in ("current_event", "lambda_context", "context"):
        assert isinstance(BaseRouter.__dict__.get(name), runtime._PerThread), name
    assert isinstance(type(BaseRouter).__dict__.get("current_event"), runtime._PerThread)


def test_lazy_powertools_packages_serve_every_name_and_load_only_what_is_used():
    """openbin.lazy registers two Powertools packages without running their ``__init__``: in a
    fresh interpreter, every name the real package exports is served by the lazy one (read from
    the same ``__init__``), and importing a handler no longer loads the other resolvers (AppSync
    and its asyncio, Bedrock, VPC Lattice) or the other event classes."""
    import json
    import subprocess
    import sys

    from openbin.lazy import LAZY_PACKAGES

    code = f"""
import importlib, json, sys
sys.path[:0] = ['functions/create_bin', 'layers/common']
import create_bin_handler
loaded = sorted(sys.modules)
served = {{}}
for name in {list(LAZY_PACKAGES)!r}:
    lazy = sys.modules[name]
    served[name] = {{n: getattr(lazy, n).__module__ for n in lazy.__all__
                    if hasattr(getattr(lazy, n), '__module__')}}
print(json.dumps({{"loaded": loaded, "served": served}}))
"""
    real_code = f"""
import importlib, json
out = {{}}
for name in {list(LAZY_PACKAGES)!r}:
    module = importlib.import_module(name)
    out[name] = sorted(getattr(module, '__all__', []))
print(json.dumps(out))
"""
    run = lambda source: json.loads(  # noqa: E731
        subprocess.run(
            [sys.executable, "-c", source], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
    )
    lazy, real = run(code), run(real_code)
    for name, exported in real.items():
        assert exported, name
        assert set(exported) <= set(lazy["served"][name]), name  # every name, from its module
    loaded = set(lazy["loaded"])
    assert "aws_lambda_powertools.event_handler.api_gateway" in loaded
    for unused in (
        "asyncio",
        "aws_lambda_powertools.event_handler.appsync",
        "aws_lambda_powertools.event_handler.bedrock_agent",
        "aws_lambda_powertools.event_handler.vpc_lattice",
        "aws_lambda_powertools.utilities.data_classes.sqs_event",
        "aws_lambda_powertools.utilities.data_classes.appsync_resolver_event",
    ):
        assert unused not in loaded, unused
