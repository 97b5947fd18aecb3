"""Record compression (zstandard) is safe when invocations share a process."""

from __future__ import annotations

import json
from pathlib import Path

from openbin.storage.records import compress, decompress
from tests.seed import realistic_record


def test_compression_is_safe_across_threads():
    from concurrent.futures import ThreadPoolExecutor

    payloads = [json.dumps(realistic_record(20_000 + i)).encode() for i in range(16)]

    def round_trip(data):
        return decompress(compress(data)) == data

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(round_trip, payloads * 4))


def test_zstandard_works_without_its_cffi_backend(tmp_path):
    """The layer's build drops zstandard's cffi backend (12 MB, layers/common/Makefile): the C
    backend, imported by default, compresses and decompresses alone."""
    import shutil
    import subprocess
    import sys

    import zstandard

    copy = tmp_path / "zstandard"
    shutil.copytree(Path(zstandard.__file__).parent, copy)
    for dropped in [*copy.glob("_cffi.*.so"), copy / "backend_cffi.py"]:
        dropped.unlink()
    probe = (
        "import zstandard as z; d = b'openbin' * 1000;"
        "assert z.ZstdDecompressor().decompress(z.ZstdCompressor(level=1).compress(d)) == d;"
        "print(z.backend)"
    )
    ran = subprocess.run(  # noqa: S603
        [sys.executable, "-c", probe],
        env={"PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert ran.stdout.strip() == "cext"
    makefile = (Path(__file__).resolve().parents[2] / "layers/common/Makefile").read_text()
    assert (
        'rm -f "$(TARGET)"/zstandard/_cffi.*.so "$(TARGET)"/zstandard/backend_cffi.py' in makefile
    )
