"""The shared harness of the benchmark sections: paths, constants, timing helpers, moto
in-process with the real handlers (``InProcess``), and the report's helpers."""

from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
LAYER = ROOT / "layers" / "common"
for path in (BENCH, ROOT / "src", LAYER, ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import accounting  # noqa: E402
import boto3  # noqa: E402

from openbin import storage as storage_module  # noqa: E402
from openbin.api import usage_log  # noqa: E402
from openbin.keys import hash_key  # noqa: E402
from openbin.storage.accounts import CHARGEABLE  # noqa: E402
from openbin.storage.bins import owner_collection  # noqa: E402
from openbin_cli import ops  # noqa: E402
from openbin_local.emulator import REGION, LocalAWS  # noqa: E402
from openbin_local.events import event_for  # noqa: E402
from openbin_local.runtime import FunctionRunner, LambdaContext  # noqa: E402
from openbin_local.template import Template  # noqa: E402

RESULTS = BENCH / "results.json"
PRO_REQUESTS = 10**9
SIZES = {"1KB": 1024, "100KB": 100 * 1024, "1MB": 1_000_000}
DYNAMODB_ITEM_LIMIT = 400 * 1024
FUNCTIONS = (
    "CreateBinFunction",
    "ReadBinFunction",
    "UpdateBinFunction",
    "DeleteBinFunction",
    "BinMetaFunction",
    "CollectionsFunction",
    "SchemaDocsFunction",
    "AccessKeysFunction",
    "UsageFunction",
    "RouteNotFoundFunction",
    "ConsoleFunction",
)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def median(values) -> float:
    return statistics.median(values)


def durations(action, runs: int) -> list[float]:
    """Seconds each of ``runs`` calls of ``action`` took."""
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        out.append(time.perf_counter() - started)
    return out


def spread(values: list[float]) -> dict:
    """Median and quartiles (seconds in, milliseconds out)."""
    ordered = sorted(values)
    q = statistics.quantiles(ordered, n=4) if len(ordered) >= 2 else [ordered[0]] * 3
    return {
        "n": len(ordered),
        "median_ms": round(median(ordered) * 1000, 3),
        "p25_ms": round(q[0] * 1000, 3),
        "p75_ms": round(q[2] * 1000, 3),
    }


def quiet_gc() -> None:
    """Collect, then move everything alive into the permanent generation, so later collections
    do not scan moto's growing tables (it applies to handler and bare calls alike)."""
    gc.collect()
    gc.freeze()


# -- moto: transactions at the cost of their items -----------------------------------------------
# -- handlers, in-process --------------------------------------------------------------------
def no_deadline() -> None:
    """Storage calls made outside a handler (fixtures) must not inherit the deadline the last
    invocation set on this thread."""
    from openbin import aws

    aws.deadline.set(None)


class LogSink(io.TextIOBase):
    """Stands for stdout during an invocation: counts the bytes a handler logs (Powertools'
    EMF metrics line, log records), which on Lambda go to CloudWatch Logs."""

    bytes = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.bytes += len(text.encode("utf-8", "replace"))
        return len(text)


class Handlers:
    """The real handlers of template.yaml, invoked with API Gateway v2 events."""

    def __init__(self, template: Template) -> None:
        self.template = template
        self.runner = FunctionRunner(template)
        self.log = LogSink()

    def event(self, method: str, path: str, headers: dict | None = None, body: bytes = b""):
        headers = dict(headers or {})
        if body:
            headers.setdefault("Content-Type", "application/json")
        return event_for(self.template, method, path, list(headers.items()), body)

    def call(self, function: str, event: dict) -> tuple[float, dict]:
        handler = self.runner.handler(function)
        context = LambdaContext(function_name=function, memory_limit_in_mb=512, timeout_seconds=25)
        self.log.bytes = 0
        with contextlib.redirect_stdout(self.log):  # what Lambda would send to CloudWatch Logs
            t0 = time.perf_counter()
            result = handler(event, context)
            seconds = time.perf_counter() - t0
        return seconds, result

    def request(self, method, path, headers=None, body=b"", expect=200) -> tuple[float, dict]:
        seconds, result = self.call(*self.event(method, path, headers, body))
        if expect is not None and result["statusCode"] != expect:
            raise RuntimeError(f"{method} {path}: {result['statusCode']} {result['body'][:300]}")
        return seconds, result

    def create(self, key: str, record: bytes, **headers) -> str:
        sent = {"X-Master-Key": key, **{k.replace("_", "-"): v for k, v in headers.items()}}
        _, result = self.request("POST", "/v3/b", sent, record)
        return json.loads(result["body"])["metadata"]["id"]


class Bare:
    """The minimal storage calls any implementation of the contract needs, made directly with
    boto3 on the same backend, storing the raw JSON bytes (no compression)."""

    def __init__(self, env: dict, key: str, account_id: str) -> None:
        self.db = boto3.client("dynamodb", region_name=REGION)
        self.s3 = boto3.client("s3", region_name=REGION)
        self.keys = env["OPENBIN_KEYS_TABLE"]
        self.accounts = env["OPENBIN_ACCOUNTS_TABLE"]
        self.bins = env["OPENBIN_BINS_TABLE"]
        self.bucket = env["OPENBIN_RECORDS_BUCKET"]
        self.key_hash = hash_key(key)
        self.account_id = account_id

    def _charge(self) -> dict:
        return self.db.update_item(
            TableName=self.accounts,
            Key={"accountId": {"S": self.account_id}},
            UpdateExpression="SET requestsRemaining = requestsRemaining - :one",
            ConditionExpression=CHARGEABLE,
            ExpressionAttributeValues={":one": {"N": "1"}, ":no": {"BOOL": False}},
            ReturnValues="ALL_NEW",
        )

    def create(self, bin_id: str, data: bytes) -> None:
        # 1. the key and its account in one round trip
        self.db.batch_get_item(
            RequestItems={
                self.keys: {"Keys": [{"keyHash": {"S": self.key_hash}}], "ConsistentRead": True},
                self.accounts: {
                    "Keys": [{"accountId": {"S": self.account_id}}],
                    "ConsistentRead": True,
                },
            }
        )
        # 2. the bin (its record inline when the item fits, else in S3 first) and the charge,
        # in one transaction
        item = {
            "binId": {"S": bin_id},
            "ownerId": {"S": self.account_id},
            "ownerCollection": {"S": owner_collection(self.account_id, None)},
            "private": {"BOOL": True},
            "createdAt": {"S": "2026-01-01T00:00:00.000Z"},
        }
        text = data.decode("utf-8")
        if accounting.item_size(item) + len("rec") + len(data) <= DYNAMODB_ITEM_LIMIT:
            item["rec"] = {"S": text}
        else:
            key = f"records/{bin_id}/{uuid.uuid4().hex}.json"
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=data)
            item["s3Key"] = {"S": key}
        self.db.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self.bins,
                        "Item": item,
                        "ConditionExpression": "attribute_not_exists(binId)",
                    }
                },
                {
                    "Update": {
                        "TableName": self.accounts,
                        "Key": {"accountId": {"S": self.account_id}},
                        "UpdateExpression": "SET requestsRemaining = requestsRemaining - :one",
                        "ConditionExpression": CHARGEABLE,
                        "ExpressionAttributeValues": {":one": {"N": "1"}, ":no": {"BOOL": False}},
                    }
                },
            ]
        )

    def read(self, bin_id: str) -> bytes:
        # 1. the key and the bin in one round trip
        found = self.db.batch_get_item(
            RequestItems={
                self.keys: {"Keys": [{"keyHash": {"S": self.key_hash}}], "ConsistentRead": True},
                self.bins: {"Keys": [{"binId": {"S": bin_id}}], "ConsistentRead": True},
            }
        )["Responses"]
        item = found[self.bins][0]
        # 2. charge the allowance
        self._charge()
        # 3. the record from S3 when it is there
        if "s3Key" in item:
            return self.s3.get_object(Bucket=self.bucket, Key=item["s3Key"]["S"])["Body"].read()
        return item["rec"]["S"].encode("utf-8")


class InProcess:
    """moto in-process (as tests/conftest.py's ``aws`` fixture), the handlers and helpers."""

    def __init__(self, template: Template) -> None:
        self.template = template
        self.local = LocalAWS(template).start()
        self.env = self.local.function_environment()
        os.environ.update(self.env)  # as on Lambda: metrics on, log level of the template
        os.environ.pop("POWERTOOLS_METRICS_DISABLED", None)
        storage_module.reset()
        self.storage = storage_module.get_storage()
        self.handlers = Handlers(template)
        # Each request's usage line goes to the function's output, as on Lambda, which
        # Handlers.call captures and counts as log bytes (openbin.api.usage_log).
        usage_log.sink = None
        self.tables = accounting.layouts(template, self.local.names)
        self.inspector = boto3.client("dynamodb", region_name=REGION)
        self.inspector_s3 = boto3.client("s3", region_name=REGION)

    def clients(self) -> tuple:
        s = self.storage
        return (s.db, s.accounts._once, s.records._s3)

    def account(self, plan: str = "pro") -> tuple[str, str]:
        no_deadline()
        made = ops.run(self.storage, "account.create", {"plan": plan, "requests": PRO_REQUESTS})
        return made["accountId"], made["masterKey"]

    def timer(self) -> accounting.Recorder:
        return accounting.Recorder(self.tables).attach(*self.clients())

    def counter(self, *clients) -> accounting.Recorder:
        return accounting.Recorder(self.tables, self.inspector, capacity=True).attach(
            *(clients or self.clients())
        )

    def stop(self) -> None:
        self.local.stop()
        storage_module.reset()


def verdict(ok: bool | None) -> str:
    return "info" if ok is None else ("PASS" if ok else "MISS")


def print_table(rows) -> str:
    headers = ("measure", "value", "target", "result")
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(4)]
    lines = [
        "  ".join(str(h).ljust(w) for h, w in zip(headers, widths, strict=True)),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    text = "\n".join(line.rstrip() for line in lines)
    print(text)
    return text


def machine() -> dict:
    import botocore
    import moto

    info = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "boto3": boto3.__version__,
        "botocore": botocore.__version__,
        "moto": moto.__version__,
    }
    try:
        info["cpu_model"] = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.lower().startswith(("model name", "cpu model"))
        )
    except (OSError, StopIteration):
        pass
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "layers", "functions"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        info["git"] = head + (" (product code modified)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        pass
    return info
