"""Import only what a route needs from Powertools' "import everything" packages.

``aws_lambda_powertools.event_handler``'s ``__init__`` imports every resolver Powertools has
(AppSync, which pulls in asyncio, Bedrock, VPC Lattice, ...), and
``aws_lambda_powertools.utilities.data_classes``' imports every event class: about 40 ms of a cold
start for an HTTP API that uses one resolver and one event class (docs/PERFORMANCE.md). Each is
registered here as a *lazy package* (PEP 562): the package module exists, its submodules import
from their files as usual, and a name its ``__init__`` re-exports is imported from its submodule
the first time it is asked for. The map of names to submodules is read from the ``__init__``
itself, so an upgrade that moves a name keeps working; ``tests/unit/test_third_party_guards.py``
checks that every name the real package exports is served, and that a handler's import no
longer loads the packages' other resolvers.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from types import ModuleType

# ``from aws_lambda_powertools.x.y import A, B``, ``from .y import (\n A,\n B as C,\n)``
_REEXPORT = re.compile(
    r"^from ((?:aws_lambda_powertools|\.)[\w.]*) import (?:\(([^)]*)\)|([\w ,]+)$)", re.M
)

LAZY_PACKAGES = (
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.utilities.data_classes",
)


def reexports(source: str, package: str) -> dict[str, tuple[str, str]]:
    """Name → (submodule, name there), for each ``from <submodule> import`` of ``source``, the
    ``__init__`` of ``package``."""
    found: dict[str, tuple[str, str]] = {}
    for relative, listed, inline in _REEXPORT.findall(source):
        module = package + relative if relative.startswith(".") else relative
        names = listed or inline
        for entry in names.split(","):
            original, _, alias = entry.strip().partition(" as ")
            if original:
                found[(alias or original).strip()] = (module, original.strip())
    return found


def lazy_package(name: str) -> ModuleType | None:
    """Register package ``name`` without running its ``__init__`` (None: it is imported
    already, or cannot be found, and is left to the import system)."""
    if name in sys.modules:
        return None
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None or spec.submodule_search_locations is None:
        return None
    with open(spec.origin, encoding="utf-8") as handle:
        names = reexports(handle.read(), name)
    module = importlib.util.module_from_spec(spec)

    def __getattr__(attribute: str):
        try:
            source, original = names[attribute]
        except KeyError:
            raise AttributeError(f"module {name!r} has no attribute {attribute!r}") from None
        value = getattr(importlib.import_module(source), original)
        setattr(module, attribute, value)
        return value

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    module.__all__ = list(names)  # type: ignore[attr-defined]
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    setattr(sys.modules[parent], child, module)
    return module


def install() -> None:
    for name in LAZY_PACKAGES:
        lazy_package(name)
