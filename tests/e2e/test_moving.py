"""Moving in and out (docs/MOVING.md), as a user does it: ``openbin import --from`` another
server's API (OpenBin speaks JSONBin's wire, so an OpenBin source stands in for JSONBin.io),
``openbin export`` and ``openbin import --archive``, each a real subprocess against real
``openbin serve`` processes; then every route answers the same at the target as at the source."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.contract.test_xl_bins import FORM, form
from tests.support import ROOT, HttpApi, ServerProcess

pytestmark = pytest.mark.e2e

SCHEMA = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}


def openbin(*args: str, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENBIN_")}
    return subprocess.run(
        [sys.executable, "-m", "openbin_cli.cli", *args],
        cwd=cwd,
        env={
            **env,
            "PYTHONPATH": os.pathsep.join(
                [str(ROOT / "src"), str(ROOT / "layers" / "common"), str(ROOT)]
            ),
        },
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def export(server, account, out: Path, cwd: Path) -> subprocess.CompletedProcess:
    """``openbin export`` through the running server that holds the data dir."""
    return openbin(
        "export",
        "--account",
        account.account_id,
        "--out",
        str(out),
        "--data-dir",
        str(server.data_dir),
        cwd=cwd,
    )


def summary_of(done: subprocess.CompletedProcess) -> dict:
    lines = done.stdout.strip().splitlines()
    assert lines, done.stderr
    return json.loads(lines[-1])


def populate(api: HttpApi, key: str, bins: int = 50) -> dict:
    """A source account: 3 collections (one with a schema doc), ``bins`` bins public and
    private, named and not, with up to 5 versions each, uncategorized ones, and an XL bin."""
    h = {"X-Master-Key": key}
    doc = api.post("/v3/s", SCHEMA, {**h, "X-Schema-Doc-Name": "counted"}).json()
    collections = []
    for number in range(3):
        made = api.post("/v3/c", None, {**h, "X-Collection-Name": f"things-{number}"}).json()
        collections.append(made["record"])
    attached = api.request(
        "PUT",
        f"/v3/c/{collections[0]}/schemadoc/add",
        {**h, "X-Schema-Doc-Id": doc["metadata"]["id"]},
    )
    assert attached.status == 200, attached.body
    made = []
    for number in range(bins):
        sent = {**h, "Content-Type": "application/json"}
        sent["X-Bin-Private"] = "true" if number % 2 else "false"
        if number % 3:
            sent["X-Bin-Name"] = f"bin {number} é"
        if number % 5:  # one in five uncategorized
            sent["X-Collection-Id"] = collections[number % 3]
        # numbers a double would not keep, and whitespace inside: stored as sent
        body = f'{{"n": {number}, "big": 1e400, "exact": 3.14159265358979323846264,  "s": "x"}}'
        reply = api.post("/v3/b", body.encode(), sent)
        assert reply.status == 200, reply.body
        bin_id = reply.json()["metadata"]["id"]
        for version in range(number % 5):
            update = {**h, "Content-Type": "application/json", "X-Bin-Versioning": "true"}
            replaced = api.request(
                "PUT", f"/v3/b/{bin_id}", update, {"n": number * 10 + version, "v": version}
            )
            assert replaced.status == 200, replaced.body
        made.append(bin_id)
    large = json.dumps({"n": 1, "rows": ["y" * 100] * 3000}).encode()  # 300 KB: over free's limit
    xl = api.post(
        "/v3/xl/b",
        form(("file", "big.json", large)),
        {**h, "Content-Type": FORM, "X-Bin-Name": "xl"},
    )
    assert xl.status == 200, xl.body
    return {"collections": collections, "schemaDoc": doc["metadata"]["id"], "bins": made}


def snapshot(api: HttpApi, key: str) -> dict:
    """What every read route answers about an account, body for body."""
    h = {"X-Master-Key": key}
    out: dict[str, bytes] = {}
    listed = api.get("/v3/c", h)
    assert listed.status == 200, listed.body
    out["GET /v3/c"] = listed.body
    bins: list[str] = []
    for cid in [c["record"] for c in listed.json()] + ["uncategorized"]:
        for order in ("ascending", "descending"):
            last = None
            while True:
                path = f"/v3/c/{cid}/bins" + (f"/{last}" if last else "")
                page = api.get(path, {**h, "X-Sort-Order": order})
                out[f"{path} {order}"] = page.body
                rows = page.json()
                if order == "ascending":
                    bins.extend(row["record"] for row in rows)
                if len(rows) < 10:
                    break
                last = rows[-1]["record"]
    for c in listed.json():
        if c.get("schemaDocId"):
            out[f"/v3/s/{c['schemaDocId']}"] = api.get(f"/v3/s/{c['schemaDocId']}", h).body
    for bin_id in bins:
        count = api.get(f"/v3/b/{bin_id}/versions/count", h)
        out[f"{bin_id} count"] = count.body
        out[f"{bin_id} history"] = api.get(f"/v3/b/{bin_id}/versions", h).body
        for number in range(count.json()["metadata"]["versionCount"] + 1):
            out[f"{bin_id}/{number}"] = api.get(f"/v3/b/{bin_id}/{number}", h).body
            bare = api.get(f"/v3/b/{bin_id}/{number}", {**h, "X-Bin-Meta": "false"})
            out[f"{bin_id}/{number} bare"] = bare.body
    out["bins"] = json.dumps(sorted(bins)).encode()
    return out


def usage(api: HttpApi, key: str) -> dict:
    used = api.get("/v3/usage", {"X-Master-Key": key}).json()
    return {k: used[k] for k in ("bins", "storedBytes")}


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    server = ServerProcess(tmp_path_factory.mktemp("source")).start()
    api = HttpApi(server)
    account = api.account(plan="pro")
    made = populate(api, account.key)
    yield server, api, account, made
    server.stop()


def test_import_from_another_api_keeps_every_id_version_and_listing(source, tmp_path):
    server, api, account, made = source
    before = snapshot(api, account.key)
    target_dir = tmp_path / "target"
    run = lambda: openbin(  # noqa: E731
        "import",
        "--from",
        f"{server.url}/v3",
        "--master-key",
        account.key,
        "--data-dir",
        str(target_dir),
        "--rate",
        "0",
        "--plan",
        "pro",
        cwd=tmp_path,
    )
    first = run()
    assert first.returncode == 0, first.stderr
    summary = summary_of(first)
    assert summary["bins"] == 51 and summary["collections"] == 3 and summary["schemaDocs"] == 1
    assert summary["versions"] == sum(1 + n % 5 for n in range(50)) + 1
    assert summary["skipped"] == [] and summary["resumable"] is False
    assert summary["requestsUsed"] > 51 and summary["masterKey"].startswith("$2a$10$")
    assert "not moved: access keys" in first.stderr

    target = ServerProcess(target_dir).start()
    try:
        target_api = HttpApi(target)
        key = summary["masterKey"]
        assert snapshot(target_api, key) == before
        assert usage(target_api, key) == usage(api, account.key)
        # the imported bins are bins like any other: written, versioned, schema-checked
        bin_id = made["bins"][3]  # in the collection with the schema doc
        h = {"X-Master-Key": key, "Content-Type": "application/json"}
        assert target_api.request("PUT", f"/v3/b/{bin_id}", h, {"n": 1}).status == 200
        refused = target_api.request("PUT", f"/v3/b/{bin_id}", h, {"x": 1})
        assert refused.status == 400 and "Schema Doc Validation Mismatch" in refused.body.decode()
        after_write = snapshot(target_api, key)
    finally:
        target.stop()

    second = run()  # the same command again: nothing changes, nothing is asked of the source
    assert second.returncode == 0, second.stderr
    again = summary_of(second)
    assert again["bins"] == 51 and again["skipped"] == []
    assert again["requestsUsed"] - summary["requestsUsed"] < 20  # listings only
    assert "masterKey" not in again
    target = ServerProcess(target_dir).start()
    try:
        assert snapshot(HttpApi(target), key) == after_write
    finally:
        target.stop()


def test_an_allowance_that_runs_out_stops_cleanly_and_the_next_run_goes_on(source, tmp_path):
    server, api, _, _ = source
    small = api.account(requests=40)
    made = populate(api, small.key, bins=6)
    spent = 40 - api.get("/v3/usage", {"X-Master-Key": small.key}).json()["requestsRemaining"]
    assert spent > 0 and made["bins"]
    target_dir = tmp_path / "target"
    args = (
        "import",
        "--from",
        f"{server.url}/v3",
        "--master-key",
        small.key,
        "--data-dir",
        str(target_dir),
        "--rate",
        "0",
    )
    stopped = openbin(*args, cwd=tmp_path)
    assert stopped.returncode == 1, stopped.stderr
    partial = summary_of(stopped)
    assert partial["resumable"] is True and "Requests exhausted" in partial["stopped"]
    assert partial["bins"] < 7
    assert "run the same command again" in stopped.stderr
    assert partial["masterKey"] in stopped.stderr  # shown as soon as the account was made
    again = openbin(*args, cwd=tmp_path)  # still nothing left: stopped at once, come back later
    assert again.returncode == 1, again.stderr
    assert summary_of(again)["resumable"] is True

    added = openbin(
        "account",
        "add-requests",
        small.account_id,
        "1000",
        "--data-dir",
        str(server.data_dir),
        cwd=tmp_path,
    )
    assert added.returncode == 0, added.stderr
    done = openbin(*args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    complete = summary_of(done)
    assert complete["bins"] == 7 and complete["resumable"] is False and complete["skipped"] == []
    assert complete["accountId"] == partial["accountId"]
    target = ServerProcess(target_dir).start()
    try:
        key = partial["masterKey"]
        target_api = HttpApi(target)
        assert snapshot(target_api, key) == snapshot(api, small.key)
        assert usage(target_api, key) == usage(api, small.key)  # nothing counted twice
    finally:
        target.stop()


def test_export_then_import_gives_the_same_account(source, tmp_path):
    server, api, account, _ = source
    h = {"X-Master-Key": account.key, "Content-Type": "application/json"}
    key_made = api.post("/v3/a", {"bins": {"read": True}}, {**h, "X-Key-Name": "reader"})
    assert key_made.status == 200, key_made.body
    # through the running server that holds the data dir
    out = tmp_path / "archive"
    exported = export(server, account, out, tmp_path)
    assert exported.returncode == 0, exported.stderr
    counts = json.loads(exported.stdout)
    assert counts["bins"] == 51 and counts["accessKeys"] == 1
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format"] == "openbin-account-archive" and manifest["formatVersion"] == 1

    target_dir = tmp_path / "target"
    imported = openbin("import", "--archive", str(out), "--data-dir", str(target_dir), cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    summary = summary_of(imported)
    assert summary["bins"] == 51 and summary["skipped"] == []
    [new_key] = summary["accessKeys"]
    assert new_key["name"] == "reader" and new_key["accessKey"].startswith("$2a$10$")
    target = ServerProcess(target_dir).start()
    try:
        target_api = HttpApi(target)
        key = summary["masterKey"]
        assert snapshot(target_api, key) == snapshot(api, account.key)
        assert usage(target_api, key) == usage(api, account.key)
        plan = target_api.get("/v3/usage", {"X-Master-Key": key}).json()["plan"]
        assert plan == "pro"  # the archive's
        keys = target_api.get("/v3/a", {"X-Master-Key": key}).json()
        assert [(k["metadata"]["name"], k["keyPermissions"]) for k in keys] == [
            ("reader", {"bins": {"create": False, "read": True, "update": False, "delete": False}})
        ]
        first = json.loads(snapshot(api, account.key)["bins"])[0]
        read = target_api.get(f"/v3/b/{first}", {"X-Access-Key": new_key["accessKey"]})
        assert read.status == 200, read.body
    finally:
        target.stop()


def test_bad_input_is_a_clear_error_and_nothing_is_written(source, tmp_path):
    server, api, account, _ = source
    target_dir = tmp_path / "target"
    cases = [
        (
            ("--from", f"{server.url}/v3", "--master-key", "$2a$10$" + "x" * 53),
            "the source refused the master key: Invalid X-Master-Key provided",
        ),
        (
            ("--from", f"{server.url}/nothing/v3", "--master-key", account.key),
            "does not answer as a JSONBin v3 API",
        ),
        (("--from", f"{server.url}/", "--master-key", account.key), "ending in /v3"),
        (
            (
                "--from",
                "http://127.0.0.1:9/v3",
                "--master-key",
                account.key,
                "--retry-pause",
                "0.01",
            ),
            "cannot be read",
        ),
    ]
    for args, reason in cases:
        done = openbin("import", *args, "--data-dir", str(target_dir), "--rate", "0", cwd=tmp_path)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.startswith("openbin: ") and reason in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
        assert not target_dir.exists()  # no account, no data dir

    out = tmp_path / "archive"
    exported = export(server, account, out, tmp_path)
    assert exported.returncode == 0, exported.stderr
    record = next((out / "records").iterdir())
    record.write_bytes(record.read_bytes().replace(b"1", b"2", 1))
    done = openbin("import", "--archive", str(out), "--data-dir", str(target_dir), cwd=tmp_path)
    assert done.returncode == 2
    assert "does not match its checksum" in done.stderr and "Traceback" not in done.stderr
    assert not target_dir.exists()

    again = openbin(
        "export",
        "--account",
        account.account_id,
        "--out",
        str(out),
        "--data-dir",
        str(server.data_dir),
        cwd=tmp_path,
    )
    assert again.returncode == 2 and "is not an empty directory" in again.stderr


def test_the_readmes_moving_section_runs_as_written(source, tmp_path):
    """README.md's "Moving from JSONBin", its lines as written but for JSONBin's address (the
    source here is another OpenBin, as the walkthrough's runner rewrites its port) and the key
    placeholder; ``make serve`` is what it runs, ``openbin serve``, on a free port."""
    server, api, _, _ = source
    account = api.account()
    populate(api, account.key, bins=3)
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Moving from JSONBin", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert len(block) == 3 and block[2] == "make serve"
    assert block[0] == "JSONBIN_KEY='<your JSONBin master key>'"
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    script = "\n".join(
        [
            f"JSONBIN_KEY='{account.key}'",
            block[1].replace("https://api.jsonbin.io/v3", f"{server.url}/v3"),
        ]
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENBIN_")}
    ran = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    summary = json.loads(ran.stdout.strip().splitlines()[-1])
    assert summary["bins"] == 4 and summary["resumable"] is False
    served = ServerProcess(tmp_path / ".openbin").start()  # what make serve serves
    try:
        assert snapshot(HttpApi(served), summary["masterKey"]) == snapshot(api, account.key)
    finally:
        served.stop()


def test_each_source_account_is_its_own_import_and_state_files_keep_no_secret(source, tmp_path):
    server, api, owner, _ = source
    other = api.account()
    api.create_bin(other, {"mine": True})
    target = str(tmp_path / "target")
    run = lambda key: openbin(  # noqa: E731
        "import",
        "--from",
        f"{server.url}/v3",
        "--master-key",
        key,
        "--data-dir",
        target,
        "--rate",
        "0",
        cwd=tmp_path,
    )
    first, second = run(other.key), run(owner.key)
    assert first.returncode == 0 and second.returncode == 0, second.stderr
    assert summary_of(first)["accountId"] != summary_of(second)["accountId"]
    states = sorted(tmp_path.glob(".openbin-import-*.json"))
    assert len(states) == 2
    for state in states:
        assert state.stat().st_mode & 0o077 == 0
        assert "$2a$10$" not in state.read_text()
    # the same state file against another target is refused, nothing written
    elsewhere = openbin(
        "import",
        "--from",
        f"{server.url}/v3",
        "--master-key",
        other.key,
        "--data-dir",
        str(tmp_path / "elsewhere"),
        "--state",
        str(states[0]),
        cwd=tmp_path,
    )
    assert elsewhere.returncode == 2 and "is for another import" in elsewhere.stderr
    assert not (tmp_path / "elsewhere").exists()


def test_a_forged_archive_is_refused_before_anything_is_written(source, tmp_path):
    import hashlib

    server, api, account, _ = source
    out = tmp_path / "archive"
    exported = export(server, account, out, tmp_path)
    assert exported.returncode == 0, exported.stderr
    lines = (out / "bins.jsonl").read_bytes().splitlines(keepends=True)
    forged = b"".join([*lines, lines[0]])  # a bin twice, its checksum made to match
    (out / "bins.jsonl").write_bytes(forged)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"]["bins.jsonl"] = {
        "sha256": hashlib.sha256(forged).hexdigest(),
        "bytes": len(forged),
    }
    (out / "manifest.json").write_text(json.dumps(manifest))
    target = tmp_path / "target"
    done = openbin("import", "--archive", str(out), "--data-dir", str(target), cwd=tmp_path)
    assert done.returncode == 2 and "is there twice" in done.stderr, done.stderr
    assert not target.exists()
