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

    from openbin import schema_bounds

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

    from openbin import jsonpath, regex

    check_version(jsonpath.PATCHED_FOR)
    assert jsonpath_module.DatumInContext.__init__ is jsonpath._metered_init
    assert arithmetic.Operation.find is jsonpath._no_arithmetic
    assert jsonpath_filter.OPERATOR_MAP["=~"] is jsonpath._re2_search
    assert string.re is regex.re_module


def test_powertools_router_patch_is_for_this_version_and_installed():
    from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

    from openbin_cli import runtime
    from openbin_cli.template import Template

    check_version(runtime.PATCHED_FOR)
    runtime.FunctionRunner(Template())  # installs it (once per process)
    for name in ("current_event", "lambda_context", "context"):
        assert isinstance(BaseRouter.__dict__.get(name), runtime._PerThread), name
    assert isinstance(type(BaseRouter).__dict__.get("current_event"), runtime._PerThread)
