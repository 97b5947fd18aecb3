"""Test harness: one ``Api`` interface, two ways to reach the product.

- ``HandlerApi``: API Gateway v2 events through the real handlers of ``template.yaml``, with
  DynamoDB and S3 emulated by moto (tables and bucket built from the template).
- ``HttpApi``: HTTP against an ``openbin serve`` process started by the test suite.

Contract tests take the ``api`` fixture and run at both levels.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter, deque
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from openbin_cli import ops
from openbin_cli.targets import call_server
from openbin_local.events import event_for
from openbin_local.runtime import FunctionRunner, IntegrationFailed, LogSubscriptions
from openbin_local.template import Template

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def storage_calls(storage):
    """Count the DynamoDB and S3 operations made inside the block, by name."""
    calls: Counter = Counter()

    def count(event_name, **_):
        calls[event_name.rsplit(".", 1)[-1]] += 1

    clients = (
        (storage.db, "before-call.dynamodb"),
        (storage.accounts._once, "before-call.dynamodb"),
        (storage.records._s3, "before-call.s3"),
    )
    for client, event in clients:
        client.meta.events.register(event, count)
    try:
        yield calls
    finally:
        for client, event in clients:
            client.meta.events.unregister(event, count)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self):
        return json.loads(self.body)

    @property
    def message(self) -> str | None:
        data = self.json()
        return data.get("message") if isinstance(data, dict) else None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Account:
    account_id: str
    key: str  # the master key


def _encode(body, headers: dict) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    headers.setdefault("Content-Type", "application/json")
    return json.dumps(body).encode("utf-8")


class Api:
    """What a contract test needs: HTTP-shaped requests and operator actions."""

    level = "abstract"

    def settle(self) -> None:
        """Let what happens after an answer happen (usage lines filed): nothing to do here."""

    def request(self, method: str, path: str, headers=None, body=None) -> Reply:
        headers = dict(headers or {})
        return self._send(method, path, headers, _encode(body, headers))

    def _send(self, method: str, path: str, headers: dict, body: bytes) -> Reply:
        raise NotImplementedError

    def get(self, path, headers=None):
        return self.request("GET", path, headers)

    def post(self, path, body=None, headers=None):
        return self.request("POST", path, headers, body)

    def op(self, name: str, /, **args) -> dict:
        raise NotImplementedError

    # conveniences built on op()
    def account(self, plan: str = "free", requests: int | None = None) -> Account:
        created = self.op("account.create", plan=plan, requests=requests)
        return Account(created["accountId"], created["masterKey"])

    def access_key(self, account: Account, *permissions: str) -> str:
        made = self.op(
            "key.create-access",
            account_id=account.account_id,
            name="test",
            permissions=list(permissions),
        )
        return made["accessKey"]

    def collection(self, account: Account, name: str = "things", schema: dict | None = None):
        return self.op(
            "collection.create",
            account_id=account.account_id,
            name=name,
            schema=json.dumps(schema) if schema is not None else None,
        )

    def create_bin(self, account: Account, record=None, **headers) -> str:
        sent = {"X-Master-Key": account.key}
        sent.update({k.replace("_", "-"): v for k, v in headers.items()})
        reply = self.post("/v3/b", record if record is not None else {"a": 1}, sent)
        assert reply.status == 200, reply.body
        return reply.json()["metadata"]["id"]


class HandlerApi(Api):
    level = "handler"

    def __init__(self, template: Template, storage_factory) -> None:
        self.template = template
        self.runner = FunctionRunner(template)
        self._storage = storage_factory
        self.invocations: list[str] = []
        # Usage lines wait for settle(): a request's own calls are counted without its log's.
        self.logs = LogSubscriptions(self.runner, delay=None).install()

    def _send(self, method, path, headers, body) -> Reply:
        function, event = event_for(self.template, method, path, list(headers.items()), body)
        self.invocations.append(function)
        try:
            result = self.runner.invoke(function, event)
        except IntegrationFailed as failed:  # what API Gateway answers past Lambda's limits
            return Reply(failed.status, {}, json.dumps({"message": failed.message}).encode())
        assert isinstance(result["body"], str)
        body = result["body"].encode("utf-8")
        if result.get("isBase64Encoded"):
            body = base64.b64decode(body)
        return Reply(
            result["statusCode"],
            {k.lower(): v for k, v in result.get("headers", {}).items()},
            body,
        )

    def op(self, name: str, /, **args) -> dict:
        return ops.run(self._storage(), name, args)

    def settle(self) -> None:
        """Deliver the usage lines printed so far to their writer (on AWS: a few seconds)."""
        self.logs.flush()


class HttpApi(Api):
    level = "http"

    def __init__(self, server: ServerProcess) -> None:
        self.server = server

    def _send(self, method, path, headers, body) -> Reply:
        # http.client sends exactly the headers given (urllib would add a form Content-Type).
        parts = urllib.parse.urlsplit(self.server.url)
        assert parts.hostname is not None
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        try:
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            return Reply(
                response.status,
                {k.lower(): v for k, v in response.getheaders()},
                response.read(),
            )
        finally:
            connection.close()

    def op(self, name: str, /, **args) -> dict:
        return call_server(self.server.info(), {"op": name, "args": args})


class ServerProcess:
    """``openbin serve`` in a subprocess, on a free port and its own data dir."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.env = env or {}  # more environment for the server
        self.process: subprocess.Popen | None = None
        self.url = ""
        self.banner: list[str] = []
        self.output: list[deque[str]] = []  # the last lines of stdout and stderr, once started
        self.denied: list[str] = []  # every IAM refusal the server reported (openbin_local.iam)

    def start(self, timeout: float = 60) -> ServerProcess:
        env = {**os.environ, **self.env}
        env.pop("OPENBIN_BINS_TABLE", None)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "openbin_cli.cli",
                "serve",
                "--port",
                "0",
                "--quiet",
                "--data-dir",
                str(self.data_dir),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        deadline = time.monotonic() + timeout
        stdout, stderr = self.process.stdout, self.process.stderr
        assert stdout is not None and stderr is not None
        while time.monotonic() < deadline:
            line = stdout.readline()
            if not line:
                raise RuntimeError(f"openbin serve exited: {stderr.read()}")
            self.banner.append(line)
            found = re.search(r"OpenBin API: (http://\S+)/v3", line)
            if found:
                self.url = found.group(1)
            if line.startswith("More accounts"):
                self._drain()
                return self
        raise RuntimeError("openbin serve did not start in time")

    def _drain(self) -> None:
        """Read the server's output from now on, keeping the last lines: a pipe nobody reads
        fills up and blocks the server mid-request."""
        assert self.process is not None
        for stream in (self.process.stdout, self.process.stderr):
            kept: deque[str] = deque(maxlen=200)
            self.output.append(kept)
            threading.Thread(target=self._read, args=(stream, kept), daemon=True).start()

    def _read(self, stream, kept: deque[str]) -> None:
        try:
            for line in stream:
                kept.append(line)
                if line.startswith("openbin: IAM denied"):
                    self.denied.append(line.strip())
        except (OSError, ValueError):  # closed by stop()
            pass

    def info(self) -> dict:
        return json.loads((self.data_dir / "server.json").read_text())

    @property
    def first_master_key(self) -> str | None:
        for line in self.banner:
            if line.strip().startswith("$2a$10$"):
                return line.strip()
        return None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.process is None:
            return 0
        self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout)
        finally:
            for stream in (self.process.stdout, self.process.stderr):
                if stream is not None:
                    stream.close()
            self.process = None
        return code
