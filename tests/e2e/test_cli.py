"""The ``openbin`` CLI as an operator uses it: real subprocesses, throwaway data dirs.

Two ways a command reaches the data: offline (no server: the command loads the data dir, acts,
saves it) and from a second terminal (an ``openbin serve`` holds the data dir: the command is
forwarded to it). ``openbin invoke`` runs the sample events of ``events/``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from openbin_local.template import Template
from tests.support import ROOT, HttpApi, ServerProcess

pytestmark = pytest.mark.e2e

EVENTS = ROOT / "events"
KEY_RE = re.compile(r"\$2a\$10\$[./A-Za-z0-9]{53}")
ID_RE = re.compile(r"[0-9a-f]{24}")
CREATED_AT_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
ACCOUNT_FIELDS = {
    "accountId",
    "plan",
    "requestsRemaining",
    "recordSizeLimit",
    "bins",
    "storedBytes",
    "blocked",
    "createdAt",
}
NOT_FOUND = "Bin not found or it doesn't belong to your account"
PLACEHOLDER_BIN = "000000000000000000000000"

# (event file, function, status, message) for the sample events as shipped.
SAMPLE_EVENTS = [
    ("create-bin.json", "CreateBinFunction", 401, "Invalid X-Master-Key provided"),
    ("read-bin.json", "ReadBinFunction", 404, NOT_FOUND),
    ("read-bin-latest.json", "ReadBinFunction", 404, NOT_FOUND),
    ("read-bin-version.json", "ReadBinFunction", 404, NOT_FOUND),
    ("route-not-found.json", "RouteNotFoundFunction", 404, "Route not found"),
]


# -- helpers -------------------------------------------------------------------------------------
def _env() -> dict[str, str]:
    """The caller's environment without anything that points the functions elsewhere."""
    return {k: v for k, v in os.environ.items() if not k.startswith("OPENBIN_")}


def _argv(args: tuple[str, ...], data_dir: Path) -> list[str]:
    return [sys.executable, "-m", "openbin_cli.cli", *args, "--data-dir", str(data_dir)]


def cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        _argv(args, data_dir),
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def cli_many(*commands: tuple[tuple[str, ...], Path]) -> list[subprocess.CompletedProcess]:
    """Run independent commands side by side (offline ones each on their own data dir)."""
    running = [
        (
            argv := _argv(args, data_dir),
            subprocess.Popen(
                argv,
                cwd=ROOT,
                env=_env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            ),
        )
        for args, data_dir in commands
    ]
    done = []
    for argv, process in running:
        out, err = process.communicate(timeout=60)
        done.append(subprocess.CompletedProcess(argv, process.returncode, out, err))
    return done


def ok(result: subprocess.CompletedProcess) -> dict:
    """A successful command's JSON output."""
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def ok_quiet(result: subprocess.CompletedProcess) -> dict:
    """Operator commands print their JSON and nothing on stderr."""
    assert result.stderr == ""
    return ok(result)


def failed(result: subprocess.CompletedProcess) -> str:
    """A failed command: exit status 2, nothing on stdout; returns stderr."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    return result.stderr


def account_view(created: dict) -> dict:
    """What ``account show`` prints for an account ``account create`` printed."""
    return {k: v for k, v in created.items() if k != "masterKey"}


def event(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


# -- fixtures ------------------------------------------------------------------------------------
@pytest.fixture
def http(server) -> HttpApi:
    return HttpApi(server)


# -- account create ------------------------------------------------------------------------------
def test_account_create_prints_the_account_and_its_master_key(tmp_path):
    default, overridden, pro = (
        ok_quiet(result)
        for result in cli_many(
            (("account", "create"), tmp_path / "a"),
            (("account", "create", "--requests", "25"), tmp_path / "b"),
            (("account", "create", "--plan", "pro"), tmp_path / "c"),
        )
    )
    for created in (default, overridden, pro):
        assert set(created) == ACCOUNT_FIELDS | {"masterKey"}
        assert ID_RE.fullmatch(created["accountId"])
        assert len(created["masterKey"]) == 60
        assert created["masterKey"].startswith("$2a$10$")
        assert KEY_RE.fullmatch(created["masterKey"])
        assert CREATED_AT_RE.fullmatch(created["createdAt"])
        assert created["blocked"] is False
    assert (default["plan"], default["requestsRemaining"]) == ("free", 10_000)
    assert (overridden["plan"], overridden["requestsRemaining"]) == ("free", 25)
    assert (pro["plan"], pro["requestsRemaining"]) == ("pro", 100_000)
    assert len({c["masterKey"] for c in (default, overridden, pro)}) == 3


def test_offline_commands_persist_in_the_data_dir(tmp_path):
    created = ok_quiet(cli("account", "create", "--requests", "10", data_dir=tmp_path))
    assert (tmp_path / "dynamodb.json").is_file()
    assert not (tmp_path / "server.json").exists()
    # Only a hash of the key is stored.
    for file in tmp_path.rglob("*"):
        if file.is_file():
            assert created["masterKey"] not in file.read_text(errors="replace")

    account_id = created["accountId"]
    changed = ok_quiet(cli("account", "set-plan", account_id, "pro", data_dir=tmp_path))
    assert changed == {**account_view(created), "plan": "pro", "recordSizeLimit": 1_048_576}
    shown = ok_quiet(cli("account", "show", account_id, data_dir=tmp_path))
    assert shown == {
        **account_view(created),
        "plan": "pro",
        "requestsRemaining": 10,
        "recordSizeLimit": 1_048_576,
    }


# -- errors --------------------------------------------------------------------------------------
def test_errors_exit_non_zero_with_a_message(tmp_path):
    unknown, malformed, bad_function = cli_many(
        (("account", "show", "0123456789abcdef01234567"), tmp_path / "a"),
        (("account", "block", "not-an-id"), tmp_path / "b"),
        (("invoke", "NoSuchFunction", "--event", "events/read-bin.json"), tmp_path / "c"),
    )
    assert failed(unknown) == "openbin: Account not found\n"
    assert failed(malformed) == "openbin: Account not found\n"
    message = failed(bad_function)
    assert message.startswith(
        f"openbin: no function 'NoSuchFunction' in {ROOT / 'template.yaml'} (there are: "
    )
    for function in ("CreateBinFunction", "ReadBinFunction", "RouteNotFoundFunction"):
        assert function in message


def test_argument_errors_are_refused_before_anything_runs(tmp_path):
    result = cli("account", "set-plan", "0123456789abcdef01234567", "gold", data_dir=tmp_path)
    assert "error: argument plan: invalid choice: 'gold'" in failed(result)
    assert list(tmp_path.iterdir()) == []  # the data dir was never touched


# -- invoke --------------------------------------------------------------------------------------
def test_sample_events_match_the_template_routes():
    template = Template()
    for name, function, _, _ in SAMPLE_EVENTS:
        sent = event(name)
        request = sent["requestContext"]["http"]
        route, params = template.route_for(request["method"], sent["rawPath"])
        assert route.function == function, name
        assert sent["version"] == "2.0"
        assert sent["routeKey"] == sent["requestContext"]["routeKey"] == route.key
        assert request["path"] == sent["rawPath"]
        assert sent.get("pathParameters", {}) == params
        assert all(header == header.lower() for header in sent["headers"])
    assert event("read-bin.json")["pathParameters"] == {"binId": PLACEHOLDER_BIN}
    assert event("read-bin-latest.json")["pathParameters"] == {
        "binId": PLACEHOLDER_BIN,
        "version": "latest",
    }
    assert event("read-bin-version.json")["pathParameters"] == {
        "binId": PLACEHOLDER_BIN,
        "version": "0",
    }
    assert event("route-not-found.json")["routeKey"] == "$default"
    created = event("create-bin.json")
    assert created["headers"]["content-type"] == "application/json"
    assert KEY_RE.fullmatch(created["headers"]["x-master-key"])
    assert json.loads(created["body"])


def test_invoke_runs_the_sample_events_offline(tmp_path):
    results = cli_many(
        *(
            (("invoke", function, "--event", f"events/{name}"), tmp_path / name)
            for name, function, _, _ in SAMPLE_EVENTS
        )
    )
    for (name, _, status, message), result in zip(SAMPLE_EVENTS, results, strict=True):
        answer = ok(result)
        assert answer["statusCode"] == status, name
        assert json.loads(answer["body"]) == {"message": message}, name
        assert answer["headers"]["Content-Type"] == "application/json; charset=utf-8"


def invoke_create(data_dir, tmp_path) -> tuple[dict, dict, dict]:
    """A new account on ``data_dir``, then ``openbin invoke`` of the sample create event with
    its key: (the account, the event sent, the Lambda result)."""
    created = ok_quiet(cli("account", "create", data_dir=data_dir))
    create_event = event("create-bin.json")
    create_event["headers"]["x-master-key"] = created["masterKey"]
    (tmp_path / "create.json").write_text(json.dumps(create_event))
    answer = ok(
        cli(
            "invoke",
            "CreateBinFunction",
            "--event",
            str(tmp_path / "create.json"),
            data_dir=data_dir,
        )
    )
    return created, create_event, answer


def test_invoke_acts_on_the_data_dir(tmp_path):
    created, create_event, answer = invoke_create(tmp_path, tmp_path)
    assert answer["statusCode"] == 200
    made = json.loads(answer["body"])
    assert made["record"] == json.loads(create_event["body"])
    assert made["metadata"]["private"] is True
    assert made["metadata"]["name"] == "users"

    read_event = event("read-bin-version.json")
    bin_id = made["metadata"]["id"]
    read_event["rawPath"] = read_event["requestContext"]["http"]["path"] = f"/v3/b/{bin_id}/0"
    read_event["pathParameters"]["binId"] = bin_id
    read_event["headers"]["x-master-key"] = created["masterKey"]
    (tmp_path / "read.json").write_text(json.dumps(read_event))
    answer = ok(
        cli("invoke", "ReadBinFunction", "--event", str(tmp_path / "read.json"), data_dir=tmp_path)
    )
    assert answer["statusCode"] == 200
    assert answer["headers"]["X-Requests-Remaining"] == str(10_000 - 2)
    assert json.loads(answer["body"]) == {
        "record": made["record"],
        "metadata": {
            "id": bin_id,
            "private": True,
            "createdAt": made["metadata"]["createdAt"],
            "name": "users",
            "version": 0,
        },
    }


# -- second terminal: a server holds the data dir -------------------------------------------------
def test_account_created_from_a_second_terminal_works_over_http(server, http):
    created = ok_quiet(cli("account", "create", "--requests", "3", data_dir=server.data_dir))
    key = {"X-Master-Key": created["masterKey"]}

    reply = http.post("/v3/b", {"hello": "world"}, key)
    assert reply.status == 200
    assert reply.header("X-Requests-Remaining") == "2"
    bin_id = reply.json()["metadata"]["id"]
    assert http.get(f"/v3/b/{bin_id}", key).json()["record"] == {"hello": "world"}

    shown = ok_quiet(cli("account", "show", created["accountId"], data_dir=server.data_dir))
    # the bin it made shows in the account's usage: one bin of 18 bytes
    assert shown == {**account_view(created), "requestsRemaining": 1, "bins": 1, "storedBytes": 18}


def test_operator_commands_act_on_the_running_server(server, http):
    data_dir = server.data_dir
    created = ok_quiet(cli("account", "create", "--requests", "1", data_dir=data_dir))
    account_id, key = created["accountId"], {"X-Master-Key": created["masterKey"]}
    big = {"blob": "x" * 150_000}  # over the free plan's 100 KB, under pro's 1 MB

    assert http.post("/v3/b", {"a": 1}, key).status == 200
    exhausted = http.post("/v3/b", {"a": 1}, key)
    assert (exhausted.status, exhausted.message) == (
        403,
        "Requests exhausted. Buy additional requests at https://jsonbin.io/pricing",
    )

    added = ok_quiet(cli("account", "add-requests", account_id, "10", data_dir=data_dir))
    assert added == {**account_view(created), "requestsRemaining": 10, "bins": 1, "storedBytes": 8}
    too_big = http.post("/v3/b", big, key)
    assert (too_big.status, too_big.message) == (
        403,
        "Free users cannot create a record over 100kb. "
        "Upgrade to Pro plan to create records upto 1mb",
    )

    upgraded = ok_quiet(cli("account", "set-plan", account_id, "pro", data_dir=data_dir))
    assert upgraded == {
        **account_view(created),
        "plan": "pro",
        "requestsRemaining": 9,
        "recordSizeLimit": 1_048_576,
        "bins": 1,
        "storedBytes": 8,
    }
    assert http.post("/v3/b", big, key).status == 200

    blocked = ok_quiet(cli("account", "block", account_id, data_dir=data_dir))
    assert blocked["blocked"] is True
    refused = http.post("/v3/b", {"a": 1}, key)
    assert (refused.status, refused.message) == (403, "Account blocked. Contact the administrator")

    unblocked = ok_quiet(cli("account", "unblock", account_id, data_dir=data_dir))
    assert unblocked == {
        **account_view(created),
        "plan": "pro",
        "requestsRemaining": 8,
        "recordSizeLimit": 1_048_576,
        "bins": 2,
        "storedBytes": 150_020,
    }
    assert http.post("/v3/b", {"a": 1}, key).status == 200

    assert ok_quiet(cli("account", "show", account_id, data_dir=data_dir)) == {
        **account_view(created),
        "plan": "pro",
        "requestsRemaining": 7,
        "recordSizeLimit": 1_048_576,
        "bins": 3,
        "storedBytes": 150_028,
    }


def test_key_create_access_from_a_second_terminal(server, http):
    data_dir = server.data_dir
    created = ok_quiet(cli("account", "create", data_dir=data_dir))
    made = ok_quiet(
        cli(
            "key",
            "create-access",
            created["accountId"],
            "--name",
            "reader",
            "--permissions",
            "read,update",
            data_dir=data_dir,
        )
    )
    assert set(made) == {"accessKeyId", "accessKey", "accountId", "keyPermissions", "metadata"}
    assert ID_RE.fullmatch(made["accessKeyId"])
    assert KEY_RE.fullmatch(made["accessKey"])
    assert made["accessKey"] != created["masterKey"]
    assert made["accountId"] == created["accountId"]
    assert made["keyPermissions"] == {
        "bins": {"create": False, "read": True, "update": True, "delete": False}
    }
    assert made["metadata"]["name"] == "reader"
    assert CREATED_AT_RE.fullmatch(made["metadata"]["createdAt"])

    master, access = {"X-Master-Key": created["masterKey"]}, {"X-Access-Key": made["accessKey"]}
    bin_id = http.post("/v3/b", [1, 2, 3], master).json()["metadata"]["id"]
    assert http.get(f"/v3/b/{bin_id}", access).json()["record"] == [1, 2, 3]
    refused = http.post("/v3/b", [1], access)
    assert (refused.status, refused.message) == (
        403,
        "X-Access-Key passed does not have permission to create a bin.",
    )


def test_unknown_account_from_a_second_terminal(server):
    result = cli("account", "show", "0123456789abcdef01234567", data_dir=server.data_dir)
    assert failed(result) == "openbin: Account not found\n"


def test_invoke_while_the_server_runs(server):
    forwarded = [
        e for e in SAMPLE_EVENTS if e[0] in ("read-bin-version.json", "route-not-found.json")
    ]
    results = cli_many(  # side by side: each is forwarded to the server
        *(
            (("invoke", function, "--event", f"events/{name}"), server.data_dir)
            for name, function, _, _ in forwarded
        )
    )
    for (name, _, status, message), result in zip(forwarded, results, strict=True):
        answer = ok(result)
        assert answer["statusCode"] == status, name
        assert json.loads(answer["body"]) == {"message": message}, name


def test_invoke_while_the_server_runs_uses_its_storage(server, http, tmp_path):
    created, create_event, answer = invoke_create(server.data_dir, tmp_path)
    assert answer["statusCode"] == 200
    bin_id = json.loads(answer["body"])["metadata"]["id"]
    # The bin the invoked function wrote is in the running server's storage.
    reply = http.get(f"/v3/b/{bin_id}?meta=false", {"X-Master-Key": created["masterKey"]})
    assert reply.status == 200
    assert reply.json() == json.loads(create_event["body"])


def test_second_server_on_the_same_data_dir_is_refused(server):
    result = cli("serve", "--port", "0", "--quiet", data_dir=server.data_dir)
    assert result.returncode == 1
    assert result.stderr == (
        f"openbin: {server.data_dir.resolve()} is already served by another openbin process\n"
    )


def test_state_made_through_the_server_outlives_it(tmp_path):
    process = ServerProcess(tmp_path).start()
    try:
        assert (tmp_path / "server.json").is_file()
        created = ok_quiet(cli("account", "create", "--plan", "pro", data_dir=tmp_path))
    finally:
        exit_code = process.stop()
    assert exit_code == 0
    assert not (tmp_path / "server.json").exists()
    # No server now: the command loads the data dir the server saved at shutdown.
    shown = ok_quiet(cli("account", "show", created["accountId"], data_dir=tmp_path))
    assert shown == account_view(created)


# -- operator mistakes and local settings -----------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read event"),
        ("{not json", "is not valid JSON"),
        ("[1]", "must be a JSON object"),
    ],
)
def test_invoke_with_a_bad_event_file(tmp_path, content, message):
    event = tmp_path / "event.json"
    if content is not None:
        event.write_text(content)
    result = cli("invoke", "ReadBinFunction", "--event", str(event), data_dir=tmp_path / "d")
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_plan_settings_can_be_overridden_from_the_shell(tmp_path):
    env = {**_env(), "OPENBIN_FREE_REQUESTS": "42"}
    result = subprocess.run(
        _argv(("account", "create"), tmp_path / "d"),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(result.stdout)["requestsRemaining"] == 42


def test_data_dir_is_private_to_its_owner(tmp_path):
    data_dir = tmp_path / "d"
    assert cli("account", "create", data_dir=data_dir).returncode == 0
    assert data_dir.stat().st_mode & 0o777 == 0o700
    assert (data_dir / "dynamodb.json").stat().st_mode & 0o777 == 0o600


# -- smoke ---------------------------------------------------------------------------------------
def smoke(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "openbin_cli.cli", "smoke", *args],
        cwd=ROOT,
        env={**_env(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


SMOKE_CHECKS = [
    "CORS preflight",
    "create",
    "read",
    "read /latest",
    "read version 0",
    "read /b/<id>/",
    "read X-JSON-Path",
    "update (versioned)",
    "read ?meta=false",
    "error shape",
    "unknown route",
    "delete",
    "XL bin",
    "idempotent create",
    "webhook settings",
    "web console",
    "usage log",
]


def smoke_lines(result: subprocess.CompletedProcess) -> dict[str, str]:
    """Each check's mark (ok, FAIL, skip) by name."""
    lines = result.stdout.splitlines()
    assert lines[0].startswith("openbin smoke: ")
    marks = {}
    for line in lines[1:-1]:
        marks[line[6:28].rstrip()] = line[:4].strip()  # "FAIL  <name, 22 wide> <detail>"
    assert list(marks) == SMOKE_CHECKS
    return marks


def test_smoke_passes_against_a_working_api_and_leaves_nothing(server, http):
    account = http.account()
    result = smoke("--url", f"{server.url}/v3", "--master-key", account.key)
    assert result.returncode == 0, result.stdout + result.stderr
    assert set(smoke_lines(result).values()) == {"ok"}
    assert (
        result.stdout.splitlines()[-1]
        == f"{len(SMOKE_CHECKS)} of {len(SMOKE_CHECKS)} checks passed"
    )
    assert result.stderr == ""
    usage = http.get("/v3/usage", {"X-Master-Key": account.key}).json()
    assert (usage["bins"], usage["storedBytes"]) == (0, 0)  # the smoke bin was deleted
    # the key may come from the environment, kept out of the process list and shell history
    from_env = smoke("--url", f"{server.url}/v3", env={"OPENBIN_MASTER_KEY": account.key})
    assert from_env.returncode == 0, from_env.stdout


def test_smoke_with_a_wrong_key_says_so_and_fails(server):
    result = smoke("--url", f"{server.url}/v3", "--master-key", "$2a$10$" + "W" * 53)
    assert result.returncode == 1
    marks = smoke_lines(result)
    assert marks["create"] == "FAIL" and marks["CORS preflight"] == "ok"
    assert "HTTP 401 Invalid X-Master-Key provided" in result.stdout
    assert {marks[name] for name in SMOKE_CHECKS[2:9]} == {"skip"}
    assert "Traceback" not in result.stdout + result.stderr


def test_smoke_against_nothing_fails_with_a_reason(tmp_path):
    import socket

    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    result = smoke("--url", f"http://127.0.0.1:{port}/v3", "--master-key", "$2a$10$" + "W" * 53)
    assert result.returncode == 1
    assert smoke_lines(result)["create"] == "FAIL"
    assert "cannot reach" in result.stdout and "Connection refused" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_smoke_needs_a_key_and_a_target():
    assert "pass --master-key KEY" in failed(smoke("--url", "http://127.0.0.1:1/v3"))
    assert "pass --url" in failed(smoke("--master-key", "k"))
    assert "must be an http(s) URL" in failed(smoke("--url", "ftp://x", "--master-key", "k"))
