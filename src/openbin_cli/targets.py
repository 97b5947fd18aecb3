"""Where an operator command acts: a local data dir (directly, or through the running
``openbin serve`` that holds it) or a deployed stack."""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import sys
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from openbin_local.server import ADMIN_PATH
from openbin_local.template import Template


class TargetError(Exception):
    pass


def configure_environment(aws, log_level: str = "WARNING") -> None:
    """The environment every function sees locally: the template's, with local resource names.
    Any other setting may be overridden from the shell, e.g.
    ``OPENBIN_FREE_REQUESTS=50 openbin serve``."""
    from_resources = {
        name
        for name, value in aws.template.global_environment.items()
        if isinstance(value, dict) and value.get("Ref") in aws.names
    }
    for name, value in aws.function_environment().items():
        if name in from_resources or name not in os.environ:
            os.environ[name] = value
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    os.environ["POWERTOOLS_LOG_LEVEL"] = log_level
    from openbin import storage as storage_module
    from openbin.observability import logger

    logger.setLevel(log_level)  # it may have been built (imported) before the line above

    storage_module.reset()


class DataDir:
    """A local state directory. Whoever holds its lock (a server, or one offline command)
    owns it; a running server also leaves ``server.json`` with its URL and admin token."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).resolve()
        self._lock_fd: int | None = None

    @property
    def server_file(self) -> Path:
        return self.path / "server.json"

    def try_lock(self) -> bool:
        # Records and key hashes live here: only the owner may read the directory.
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.path, 0o700)
        fd = os.open(self.path / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._lock_fd = fd
        return True

    def unlock(self) -> None:
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def publish_server(self, url: str) -> str:
        token = secrets.token_urlsafe(32)
        fd = os.open(self.server_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"url": url, "token": token, "pid": os.getpid()}, handle)
        return token

    def withdraw_server(self) -> None:
        self.server_file.unlink(missing_ok=True)

    def server(self) -> dict:
        try:
            return json.loads(self.server_file.read_text())
        except (OSError, ValueError):
            raise TargetError(
                f"{self.path} is in use by another openbin process; try again in a moment"
            ) from None


def call_server(server: dict, payload: dict) -> dict:
    url = server["url"].rstrip("/") + ADMIN_PATH
    if not url.startswith("http://"):
        raise TargetError(f"unexpected server address {url!r}")
    request = urllib.request.Request(  # noqa: S310 (checked above: plain http to loopback)
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "X-OpenBin-Admin-Token": server["token"]},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (loopback)
            answer = json.loads(response.read())
    except urllib.error.HTTPError as error:
        answer = json.loads(error.read() or b"{}")
    except urllib.error.URLError as error:
        raise TargetError(
            f"cannot reach openbin serve at {server['url']}: {error.reason}"
        ) from None
    if "error" in answer:
        raise TargetError(answer["error"])
    return answer["result"]


@contextmanager
def offline(data_dir: DataDir, template: Template):
    """Load the data dir's state in-process, yield, then save it. The caller holds the lock."""
    from openbin import storage as storage_module
    from openbin_local.emulator import LocalAWS

    aws = LocalAWS(template, data_dir.path).start()
    for note in aws.notes:
        print(f"openbin: {note}", file=sys.stderr)
    configure_environment(aws)
    try:
        yield aws
    finally:
        aws.stop()
        storage_module.reset()


@contextmanager
def session(data_dir: str | Path, stack_name: str | None, region: str | None, template: Template):
    """Yield ``call(op, args)``, which runs operator actions (``openbin_cli.ops``) on the
    target for as long as the block lasts: a deployed stack's tables, the running server that
    holds the data dir, or the data dir loaded here (saved at the end)."""
    from openbin_cli import ops

    if stack_name:
        storage = stack_storage(stack_name, region, template)
        yield lambda op, args: ops.run(storage, op, args)
        return
    local = DataDir(data_dir)
    if not local.try_lock():  # a server holds it: ask the server
        server = local.server()
        yield lambda op, args: call_server(server, {"op": op, "args": args})
        return
    try:
        with offline(local, template):
            from openbin.storage import get_storage

            storage = get_storage()
            yield lambda op, args: ops.run(storage, op, args)
    finally:
        local.unlock()


def describe_stack(stack_name: str, region: str | None) -> dict:
    import boto3

    cfn = boto3.client("cloudformation", region_name=region)
    try:
        return cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    except Exception as error:
        raise TargetError(f"cannot read stack {stack_name}: {error}") from None


def stack_api_url(stack: dict) -> str:
    """The API's base URL (…/v3) from a deployed stack's ``ApiUrl`` output."""
    for output in stack.get("Outputs", []):
        if output.get("OutputKey") == "ApiUrl":
            return output["OutputValue"].rstrip("/") + "/v3"
    raise TargetError(f"stack {stack.get('StackName', '?')} has no ApiUrl output")


def stack_storage(stack_name: str, region: str | None, template: Template):
    """Storage wired to a deployed stack's tables and bucket, found through its outputs."""
    import boto3

    from openbin import storage as storage_module
    from openbin.settings import Settings

    stack = describe_stack(stack_name, region)
    env = stack_environment(template, stack)
    settings = Settings.from_env(env)
    return storage_module.Storage.build(
        settings,
        boto3.client("dynamodb", region_name=region),
        boto3.client("s3", region_name=region),
    )


def stack_environment(template: Template, stack: dict) -> dict[str, str]:
    """The functions' environment on a deployed stack, from its outputs and parameters: an
    output whose value is ``!Ref X`` supplies every variable the template sets to ``!Ref X``."""
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    params = {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])}
    values: dict[str, str] = dict(template.parameter_defaults())
    values.update(params)
    values["AWS::StackName"] = stack.get("StackName", "")
    for key, output in template.doc.get("Outputs", {}).items():
        ref = output.get("Value", {})
        if isinstance(ref, dict) and "Ref" in ref and key in outputs:
            values[ref["Ref"]] = outputs[key]
    env = {}
    for name, value in template.global_environment.items():
        if isinstance(value, dict) and "Ref" in value:
            if value["Ref"] in values:
                env[name] = values[value["Ref"]]
        else:
            env[name] = str(value)
    return env
