"""docs/WALKTHROUGH.md, run verbatim (tools/run_walkthrough.py): every block's answer is the
one the page shows, IDs, keys and times aside. On a free port instead of 3000."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from tests.support import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


def test_the_walkthrough_answers_what_it_shows():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ran = subprocess.run(  # noqa: S603
        [sys.executable, str(ROOT / "tools" / "run_walkthrough.py"), "--port", str(port)],
        capture_output=True,
        text=True,
        timeout=580,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout[-4000:] + ran.stderr[-2000:]
    assert ran.stdout.strip().splitlines()[-1].endswith(" passed, 0 failed")
