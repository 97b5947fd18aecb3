"""openbin/api/routes.json: the API's routes and the function that owns each, from
template.yaml, for the $default function to forward a route asked for with a trailing slash
(openbin.api.forwarding). ``make template`` writes it; a test holds it current."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "layers" / "common" / "openbin" / "api" / "routes.json"


def rendered() -> str:
    sys.path.insert(0, str(ROOT / "src"))
    from openbin_local.template import Template

    routes = [
        {"method": r.method, "path": r.path, "function": r.function}
        for r in Template().routes
        if r.path.startswith("/v3/")
    ]
    routes.sort(key=lambda r: (r["path"], r["method"]))
    return json.dumps(routes, indent=1) + "\n"


def main() -> None:
    TABLE.write_text(rendered())


if __name__ == "__main__":
    main()
