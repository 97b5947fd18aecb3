"""Run docs/WALKTHROUGH.md verbatim against a fresh ``openbin serve`` and compare every answer.

``.venv/bin/python tools/run_walkthrough.py``: in a scratch folder (with the repository's
``.venv`` linked in, so ``.venv/bin/openbin`` works as the walkthrough types it), it starts the
server on port 3000 with the default ``.openbin`` data dir, runs every ``sh`` block in order in
one bash session (variables carry over, as in a terminal), and compares each block's output
with the block shown after it. In the shown output, ``<…>`` stands for what differs on every
machine (IDs, keys, times). Prints one line a block and exits 0 when all match.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WALKTHROUGH = ROOT / "docs" / "WALKTHROUGH.md"
MARK = "@@openbin-walkthrough-block@@"


def blocks(text: str) -> list[tuple[str, str | None]]:
    """(commands, shown output or None) for every ``sh`` block, in order."""
    fences = re.findall(r"^```(\w*)\n(.*?)^```\s*$", text, flags=re.M | re.S)
    out: list[tuple[str, str | None]] = []
    for kind, body in fences:
        if kind == "sh":
            out.append((body, None))
        elif kind == "" and out and out[-1][1] is None:
            out[-1] = (out[-1][0], body)
    return out


def matches(shown: str, got: str) -> bool:
    """Line by line; ``<…>`` in the shown output matches anything within its line."""
    shown_lines = [line.rstrip() for line in shown.strip("\n").splitlines()]
    got_lines = [line.rstrip() for line in got.strip("\n").splitlines()]
    if len(shown_lines) != len(got_lines):
        return False
    for want, line in zip(shown_lines, got_lines, strict=True):
        pattern = "".join(
            ".*?" if re.fullmatch(r"<[^<>]*>", part) else re.escape(part)
            for part in re.split(r"(<[^<>]*>)", want)
        )
        if not re.fullmatch(pattern, line):
            return False
    return True


def serve(folder: Path, port: int) -> subprocess.Popen:
    server = subprocess.Popen(  # noqa: S603 (our own CLI)
        [str(ROOT / ".venv" / "bin" / "openbin"), "serve", "--port", str(port), "--quiet"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v3/nothing", timeout=1)  # noqa: S310
        except urllib.error.HTTPError:
            return server  # a 404: it answers
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit(f"openbin serve did not start on port {port} (is another server there?)")


def main(argv: list[str]) -> int:
    """``--port N``: serve there instead of 3000, the walkthrough's address rewritten to it (the
    test suite's way, beside a server a developer may have on 3000)."""
    port = int(argv[argv.index("--port") + 1]) if "--port" in argv else 3000
    steps = blocks(WALKTHROUGH.read_text())
    if port != 3000:
        steps = [(c.replace("127.0.0.1:3000", f"127.0.0.1:{port}"), o) for c, o in steps]
    folder = Path(tempfile.mkdtemp(prefix="openbin-walkthrough-"))
    (folder / ".venv").symlink_to(ROOT / ".venv")
    server = serve(folder, port)
    try:
        script = "".join(f"{commands}\necho '{MARK}'\n" for commands, _ in steps)
        ran = subprocess.run(  # noqa: S603
            ["bash", "-c", script],  # noqa: S607
            cwd=folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # as a terminal shows them: in order, together
            text=True,
            timeout=600,
            env={**os.environ, "PATH": f"{folder / '.venv' / 'bin'}:{os.environ['PATH']}"},
        )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        shutil.rmtree(folder, ignore_errors=True)
    outputs = ran.stdout.split(MARK + "\n")
    failed = 0
    for number, ((commands, shown), got) in enumerate(zip(steps, outputs, strict=False), 1):
        first = commands.strip().splitlines()[0][:70]
        if shown is None or matches(shown, got):
            print(f"ok   {number:2} {first}")
            continue
        failed += 1
        print(f"DIFF {number:2} {first}\n--- shown\n{shown.rstrip()}\n--- got\n{got.rstrip()}")
    if len(outputs) - 1 < len(steps):
        print(f"stopped after block {len(outputs) - 1}: {ran.stdout[-500:]}")
        failed += 1
    print(f"{len(steps) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
