"""Section 3, cold start: a fresh interpreter imports a function's handler and invokes it once,
against a boto3-only handler (bench/coldstart/), with moto as a server."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import corpus
from harness import (
    BENCH,
    FUNCTIONS,
    LAYER,
    PRO_REQUESTS,
    SIZES,
    Handlers,
    log,
    median,
    no_deadline,
    verdict,
)

from openbin import storage as storage_module
from openbin_cli import ops
from openbin_local.emulator import FAKE_CREDENTIALS, REGION
from openbin_local.template import Template

COLD_TARGET = 1.3


# -- 3. cold start -----------------------------------------------------------------------------
def source_only_layer(target: Path) -> None:
    """The layer's packages (the pinned requirements and what they need, from this venv, and
    openbin) copied into ``target`` as sources only: no __pycache__."""
    from importlib import metadata

    from packaging.requirements import Requirement

    wanted = [
        Requirement(line.split("#", 1)[0].strip()).name
        for line in (LAYER / "requirements.txt").read_text().splitlines()
        if line.split("#", 1)[0].strip()
    ]
    seen: set[str] = set()
    while wanted:
        name = wanted.pop().lower().replace("_", "-")
        if name in seen or name in ("boto3", "botocore", "s3transfer"):
            continue
        seen.add(name)
        dist = metadata.distribution(name)
        for requirement in map(Requirement, dist.requires or []):
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                wanted.append(requirement.name)
        for file in dist.files or []:
            if (
                "__pycache__" in file.parts
                or file.suffix == ".pyc"
                or file.parts[0].startswith("..")
            ):
                continue
            source = Path(file.locate())
            if source.is_file():
                (target / file).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target / file)
    shutil.copytree(
        LAYER / "openbin", target / "openbin", ignore=shutil.ignore_patterns("__pycache__")
    )


class ColdStart:
    """moto's server in this process; fresh interpreters import a handler and invoke it once."""

    def __init__(self, template: Template, runs: int) -> None:
        self.template = template
        self.runs = runs
        self.names = {name: name for name in template.tables}
        self.names.update({name: f"openbin-{name.lower()}" for name in template.buckets})

    def run(self) -> dict:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
        saved = dict(os.environ)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        try:
            os.environ.pop("AWS_PROFILE", None)
            os.environ.update(FAKE_CREDENTIALS)
            os.environ["AWS_ENDPOINT_URL"] = self.endpoint
            os.environ.update(self.template.environment(None, self.names))
            os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"  # fixtures made here: no output
            storage_module.reset()
            self._create_resources()
            with tempfile.TemporaryDirectory(prefix="openbin-cold-") as tmp:
                return self._measure(Path(tmp))
        finally:
            storage_module.reset()
            os.environ.clear()
            os.environ.update(saved)
            server.stop()

    def _create_resources(self) -> None:
        db = boto3.client("dynamodb", region_name=REGION, endpoint_url=self.endpoint)
        s3 = boto3.client("s3", region_name=REGION, endpoint_url=self.endpoint)
        existing = set(db.list_tables()["TableNames"])
        for name, props in self.template.tables.items():
            if self.names[name] in existing:
                continue
            kwargs = {
                "TableName": self.names[name],
                "AttributeDefinitions": props["AttributeDefinitions"],
                "KeySchema": props["KeySchema"],
                "BillingMode": "PAY_PER_REQUEST",
            }
            if props.get("GlobalSecondaryIndexes"):
                kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
            db.create_table(**kwargs)
        for name in self.template.buckets:
            s3.create_bucket(Bucket=self.names[name])

    def _fixtures(self, tmp: Path) -> dict[str, list[Path]]:
        """Per function, one event file per run (+1 warm-up): a typical successful request."""
        no_deadline()
        storage = storage_module.get_storage()
        h = Handlers(self.template)
        made = ops.run(storage, "account.create", {"plan": "pro", "requests": PRO_REQUESTS})
        key = made["masterKey"]
        master = {"X-Master-Key": key}
        record = corpus.record("users", SIZES["1KB"], 3)
        schema = json.dumps({"type": "object"})
        coll = ops.run(
            storage,
            "collection.create",
            {"account_id": made["accountId"], "name": "cold", "schema": schema},
        )
        bin_id = h.create(key, record)
        no_deadline()
        runs = self.runs + 1
        doomed = [h.create(key, record) for _ in range(runs)]
        plans: dict[str, Callable[[int], tuple[Any, ...]]] = {
            "CreateBinFunction": lambda i: ("POST", "/v3/b", master, record),
            "ReadBinFunction": lambda i: ("GET", f"/v3/b/{bin_id}", master),
            "UpdateBinFunction": lambda i: ("PUT", f"/v3/b/{bin_id}", master, record),
            "DeleteBinFunction": lambda i: ("DELETE", f"/v3/b/{doomed[i]}", master),
            "BinMetaFunction": lambda i: ("GET", f"/v3/b/{bin_id}/versions/count", master),
            "CollectionsFunction": lambda i: ("GET", "/v3/c", master),
            "SchemaDocsFunction": lambda i: ("GET", f"/v3/s/{coll['schemaDocId']}", master),
            "AccessKeysFunction": lambda i: ("GET", "/v3/a", master),
            "UsageFunction": lambda i: ("GET", "/v3/usage", master),
            "RouteNotFoundFunction": lambda i: ("GET", "/v3/nothing-here", {}),
            "ConsoleFunction": lambda i: ("GET", "/", {}),
            "baseline": lambda i: ("GET", "/v3/usage", {}),
        }
        events: dict[str, list] = {}
        for name, plan in plans.items():
            events[name] = []
            for i in range(runs):
                function, event = h.event(*plan(i))
                if name not in ("baseline", function):
                    raise RuntimeError(f"{name}: the event routes to {function}")
                path = tmp / f"{name}-{i}.json"
                path.write_text(json.dumps(event))
                events[name].append(path)
        return events

    def _env(self, function: str | None) -> dict:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            **FAKE_CREDENTIALS,
            **self.template.environment(function, self.names),
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_CONFIG_FILE": "/nonexistent/openbin-bench",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/openbin-bench",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            "AWS_LAMBDA_FUNCTION_NAME": function or "baseline",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        }
        return env

    def _target(self, name: str) -> tuple[Path, str, str]:
        if name == "baseline":
            return BENCH / "coldstart" / "baseline", "baseline", "handler"
        function = self.template.functions[name]
        return function.code_uri, function.module_name, function.attribute

    def _spawn(
        self,
        name: str,
        event: Path,
        out: Path,
        extra: tuple = (),
        layer: Path = LAYER,
        env: dict | None = None,
    ) -> dict:
        code_dir, module, attribute = self._target(name)
        proc = self._child(
            "child.py",
            [str(code_dir), str(layer), module, attribute, str(event), str(out)],
            {**self._env(None if name == "baseline" else name), **(env or {})},
            extra,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"cold start of {name} failed: {proc.stderr[-2000:]}")
        result = json.loads(out.read_text())
        result["stderr"] = proc.stderr
        result["log_bytes"] = len(proc.stdout.encode())
        return result

    @staticmethod
    def _child(script: str, args: list[str], env: dict, extra: tuple = ()):
        """A fresh interpreter running ``bench/coldstart/<script>``."""
        return subprocess.run(
            [sys.executable, *extra, str(BENCH / "coldstart" / script), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tempfile.gettempdir(),
        )

    def _measure(self, tmp: Path) -> dict:
        events = self._fixtures(tmp)
        names = ["baseline", *FUNCTIONS]
        samples: dict[str, list[dict]] = {name: [] for name in names}
        for run in range(self.runs + 1):  # run 0 warms the disk cache and writes .pyc files
            for name in names:
                result = self._spawn(name, events[name][run], tmp / f"out-{name}-{run}.json")
                result.pop("stderr")
                if result["status"] != 200 and name != "RouteNotFoundFunction":
                    raise RuntimeError(f"cold start of {name}: status {result['status']}")
                if result["moto_imported"]:
                    raise RuntimeError(f"cold start of {name} imported moto")
                if run:
                    samples[name].append(result)
            log(f"cold start: run {run + 1}/{self.runs + 1} done")
        out: dict[str, Any] = {}
        base = median(r["total_s"] for r in samples["baseline"])
        base_cpu = median(r["cpu_s"] for r in samples["baseline"])
        for name in names:
            rows = samples[name]
            total = median(r["total_s"] for r in rows)
            paired = median(
                r["total_s"] / b["total_s"] for r, b in zip(rows, samples["baseline"], strict=True)
            )
            out[name] = {
                "runs": len(rows),
                "total_ms": round(total * 1000, 1),
                "total_ms_each_run": [round(r["total_s"] * 1000, 1) for r in rows],
                "paired_ratio": round(paired, 3),
                "import_ms": round(median(r["import_s"] for r in rows) * 1000, 1),
                "first_invoke_ms": round(median(r["invoke_s"] for r in rows) * 1000, 1),
                "modules_loaded": rows[0]["modules"],
                "log_bytes_first_invocation": rows[0]["log_bytes"],
                "ratio": round(total / base, 3),
                "cpu_ms": round(median(r["cpu_s"] for r in rows) * 1000, 1),
                "cpu_ratio": round(median(r["cpu_s"] for r in rows) / base_cpu, 3),
                "target": COLD_TARGET if name != "baseline" else None,
                "status": rows[0]["status"],
            }
        out["import_hotspots_CreateBinFunction"] = self._import_profile(events, tmp)
        out["uncompiled_layer"] = self._uncompiled(events, tmp, samples["baseline"])
        out["powertools_tracer"] = self._tracer_cost(base)
        return out

    def _tracer_cost(self, baseline_s: float) -> dict:
        """What creating a Powertools Tracer (X-Ray SDK, botocore patched) adds to
        CreateBinFunction's cold start, on top of its own imports (not used: Lambda's active
        tracing records each invocation without it)."""
        code_dir, module, _ = self._target("CreateBinFunction")
        costs = []
        for _ in range(self.runs):
            proc = self._child(
                "tracer.py", [str(code_dir), str(LAYER), module], self._env("CreateBinFunction")
            )
            if proc.returncode != 0:
                raise RuntimeError(f"Tracer cost: {proc.stderr[-2000:]}")
            costs.append(float(proc.stdout.strip()))
        cost = median(costs)
        return {
            "runs": len(costs),
            "added_ms": cost,
            "of_baseline": round(cost / 1000 / baseline_s, 3),
        }

    def _uncompiled(self, events: dict, tmp: Path, baseline: list[dict]) -> dict:
        """CreateBinFunction with a layer that ships sources only (what SAM's own python3.13
        build produces): Lambda's /opt is read-only, so every cold start compiles what it
        imports. Made here as a copy of the layer's packages without __pycache__, loaded with
        PYTHONDONTWRITEBYTECODE=1; the yardstick keeps its compiled boto3, as the runtime has."""
        layer = tmp / "uncompiled-layer"
        if not layer.exists():
            source_only_layer(layer)
        samples = []
        for run in range(self.runs):
            event = events["CreateBinFunction"][run % len(events["CreateBinFunction"])]
            samples.append(
                self._spawn(
                    "CreateBinFunction",
                    event,
                    tmp / f"out-uncompiled-{run}.json",
                    layer=layer,
                    env={"PYTHONDONTWRITEBYTECODE": "1"},
                )
            )
        total = median(r["total_s"] for r in samples)
        return {
            "runs": len(samples),
            "total_ms": round(total * 1000, 1),
            "ratio": round(total / median(r["total_s"] for r in baseline), 3),
        }

    def _import_profile(self, events: dict, tmp: Path) -> list[dict]:
        """Where CreateBinFunction's import time goes (python -X importtime, self time summed by
        top-level package; one run, for attribution only)."""
        result = self._spawn(
            "CreateBinFunction",
            events["CreateBinFunction"][0],
            tmp / "out-importtime.json",
            ("-X", "importtime"),
        )
        by_package: Counter = Counter()
        for line in result["stderr"].splitlines():
            found = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
            if found:
                by_package[found.group(4).split(".")[0]] += int(found.group(1))
        return [
            {"package": name, "self_ms": round(us / 1000, 1)}
            for name, us in by_package.most_common(12)
        ]


def rows(results: dict) -> list[tuple[str, str, str, str]]:
    """The cold-start rows of the table."""
    rows: list[tuple[str, str, str, str]] = []
    cold = results.get("cold_start", {})
    if "baseline" in cold:
        b = cold["baseline"]
        rows.append(
            (
                "cold start baseline (boto3 + 1 call)",
                f"{b['total_ms']:.0f} ms (CPU {b['cpu_ms']:.0f} ms)",
                "-",
                "info",
            )
        )
    for name in FUNCTIONS:
        if name in cold:
            r = cold[name]
            rows.append(
                (
                    f"cold start {name}",
                    f"paired {r['paired_ratio']:.2f} ({r['total_ms']:.0f} ms: import"
                    f" {r['import_ms']:.0f} + invoke {r['first_invoke_ms']:.0f}; ratio of"
                    f" medians {r['ratio']:.2f}, CPU {r['cpu_ratio']:.2f})",
                    f"<= {COLD_TARGET:.2f}",
                    verdict(r["paired_ratio"] <= COLD_TARGET),
                )
            )
    if "uncompiled_layer" in cold:  # what the layer's compiled files save on every cold start
        r = cold["uncompiled_layer"]
        rows.append(
            (
                "cold start CreateBinFunction, layer without .pyc",
                f"{r['ratio']:.2f} ({r['total_ms']:.0f} ms)",
                "-",
                "info",
            )
        )
    if "powertools_tracer" in cold:  # why the functions do not use it
        r = cold["powertools_tracer"]
        rows.append(
            (
                "cold start + Powertools Tracer (not used)",
                f"+{r['added_ms']:.0f} ms (+{r['of_baseline']:.2f} of the baseline)",
                "-",
                "info",
            )
        )
    return rows
