"""docs/ARCHITECTURE.md's table of each route's steps, from the code (``services.pipeline``)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "ARCHITECTURE.md"
START, END = "<!-- pipelines:start -->", "<!-- pipelines:end -->"
SERVICES = ("bins", "bin_meta", "collections", "schema_docs", "access_keys", "usage", "webhooks")


def routes() -> dict:
    """Every route's pipeline, once each service module is imported (each declares its own)."""
    sys.path.insert(0, str(ROOT / "layers" / "common"))
    import importlib

    for name in SERVICES:
        importlib.import_module(f"openbin.services.{name}")
    from openbin.services.pipeline import ROUTES

    return {name: p for name, p in ROUTES.items() if name.split()[1].startswith("/v3/")}


def table() -> str:
    found = routes()
    lines = [
        "  | route | steps (each attempt's, after ;) |",
        "  |---|---|",
    ]
    for name in sorted(found, key=lambda r: (r.split()[1], r.split()[0])):
        pipeline = found[name]
        steps = " → ".join(step.name.lower() for step in pipeline.steps)
        if pipeline.each_attempt:
            steps += " ; " + " → ".join(step.name.lower() for step in pipeline.each_attempt)
        lines.append(f"  | `{name}` | {steps} |")
    return "\n".join(lines)


def rendered(text: str) -> str:
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    return pattern.sub(lambda _: f"{START}\n{table()}\n  {END}", text)


def main() -> None:
    DOC.write_text(rendered(DOC.read_text()))


if __name__ == "__main__":
    main()
