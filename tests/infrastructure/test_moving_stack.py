"""``openbin export`` and ``openbin import --archive`` with ``--stack-name``: the deployed-stack
path, against moto (two stacks: the tables and bucket each one's outputs name). Exporting the
imported account again gives the same archive: every bin, version, time, name, privacy,
collection and schema doc came through."""

from __future__ import annotations

import json

import pytest

from openbin_cli import cli, targets
from openbin_local.emulator import LocalAWS


def _stack(template, local: LocalAWS, name: str) -> dict:
    outputs = [{"OutputKey": "ApiUrl", "OutputValue": "https://example.execute-api.invalid"}]
    for key, output in template.doc["Outputs"].items():
        ref = output.get("Value")
        if isinstance(ref, dict) and ref.get("Ref") in local.names:
            outputs.append({"OutputKey": key, "OutputValue": local.names[ref["Ref"]]})
    return {"StackName": name, "Outputs": outputs, "Parameters": []}


def _content(archive) -> dict:
    files = {}
    for path in sorted(archive.rglob("*")):
        if path.is_file() and path.name not in ("manifest.json", "account.json"):
            files[str(path.relative_to(archive))] = path.read_bytes()
    return files


@pytest.fixture
def stacks(aws, world, template, monkeypatch):
    other = LocalAWS(template, prefix="moved-").start()
    found = {"source": _stack(template, aws, "source"), "target": _stack(template, other, "target")}
    monkeypatch.setattr(targets, "describe_stack", lambda name, region: found[name])
    yield
    other.drop()
    other.stop()


def test_export_and_import_through_stack_names(handler_api, stacks, tmp_path, capsys):
    account = handler_api.account(plan="pro")
    h = {"X-Master-Key": account.key}
    collection = handler_api.post("/v3/c", None, {**h, "X-Collection-Name": "moved"}).json()
    bins = []
    for number in range(12):
        sent = {**h, "Content-Type": "application/json", "X-Bin-Private": str(number % 2 == 0)}
        if number % 2:
            sent["X-Collection-Id"] = collection["record"]
            sent["X-Bin-Name"] = f"moved {number}"
        bin_id = handler_api.post("/v3/b", {"n": number}, sent).json()["metadata"]["id"]
        for version in range(number % 4):
            update = {**h, "Content-Type": "application/json", "X-Bin-Versioning": "true"}
            handler_api.request("PUT", f"/v3/b/{bin_id}", update, {"n": number, "v": version})
        bins.append(bin_id)

    first = tmp_path / "first"
    argv = ["export", "--account", account.account_id, "--out", str(first)]
    assert cli.main([*argv, "--stack-name", "source"]) == 0
    assert json.loads(capsys.readouterr().out)["bins"] == 12

    state = tmp_path / "state.json"
    assert (
        cli.main(
            ["import", "--archive", str(first), "--stack-name", "target", "--state", str(state)]
        )
        == 0
    )
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["bins"] == 12 and summary["collections"] == 1 and summary["skipped"] == []
    assert summary["versions"] == sum(1 + n % 4 for n in range(12))

    second = tmp_path / "second"
    argv = ["export", "--account", summary["accountId"], "--out", str(second)]
    assert cli.main([*argv, "--stack-name", "target"]) == 0
    capsys.readouterr()
    assert _content(second) == _content(first)
    exported = json.loads((second / "account.json").read_text())
    assert exported["plan"] == "pro"

    # a second run changes nothing
    assert (
        cli.main(
            ["import", "--archive", str(first), "--stack-name", "target", "--state", str(state)]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["bins"] == 12
    third = tmp_path / "third"
    argv = ["export", "--account", summary["accountId"], "--out", str(third)]
    assert cli.main([*argv, "--stack-name", "target"]) == 0
    assert _content(third) == _content(first)
