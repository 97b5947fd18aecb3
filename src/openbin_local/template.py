"""Read ``template.yaml``: functions, their HTTP routes, tables, bucket and environment.

The local server, ``openbin invoke`` and the tests all take their wiring from here, so the
template stays the single source of truth.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
# What ``!Ref AWS::…`` resolves to locally (e.g. Powertools' service name is the stack's name).
LOCAL_PSEUDO_PARAMETERS = {"AWS::StackName": "openbin-local", "AWS::Region": "us-east-1"}


# libyaml's parser when PyYAML has it (its wheels do): a tenth of the pure-Python parse time,
# which every local command and server start pays.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _CfnLoader(_SafeLoader):  # type: ignore[misc, valid-type]
    """SafeLoader that understands CloudFormation's short-form intrinsics (!Ref, !GetAtt…)."""


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node):
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, yaml.MappingNode)
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


@dataclass(frozen=True)
class Route:
    method: str  # upper case, or ANY
    path: str  # /v3/b/{binId}, or $default
    function: str

    @property
    def key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"

    @cached_property
    def pattern(self) -> re.Pattern | None:
        if self.path == "$default":
            return None
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path))
        return re.compile(f"^{regex}$")

    @property
    def specificity(self) -> tuple[int, int]:
        """API Gateway prefers literal segments over parameters."""
        segments = self.path.strip("/").split("/")
        return (sum(1 for s in segments if not s.startswith("{")), len(segments))

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if self.pattern is None or self.method not in ("ANY", method):
            return None
        found = self.pattern.match(path)
        return found.groupdict() if found else None


@dataclass(frozen=True)
class Function:
    logical_id: str
    code_uri: Path
    handler: str
    environment: dict = field(default_factory=dict)

    @property
    def module_name(self) -> str:
        return self.handler.rsplit(".", 1)[0]

    @property
    def attribute(self) -> str:
        return self.handler.rsplit(".", 1)[1]

    @property
    def module_path(self) -> Path:
        return self.code_uri / f"{self.module_name.replace('.', '/')}.py"


class Template:
    def __init__(self, path: Path = TEMPLATE) -> None:
        self.path = Path(path)
        self.root = self.path.parent
        self.doc = yaml.load(self.path.read_text(), Loader=_CfnLoader)  # noqa: S506 (safe subclass)
        self.resources: dict = self.doc["Resources"]

    def of_type(self, kind: str) -> dict[str, dict]:
        return {name: res for name, res in self.resources.items() if res["Type"] == kind}

    @cached_property
    def tables(self) -> dict[str, dict]:
        return {n: r["Properties"] for n, r in self.of_type("AWS::DynamoDB::Table").items()}

    @cached_property
    def buckets(self) -> dict[str, dict]:
        return {n: r.get("Properties", {}) for n, r in self.of_type("AWS::S3::Bucket").items()}

    @cached_property
    def functions(self) -> dict[str, Function]:
        out = {}
        for name, res in self.of_type("AWS::Serverless::Function").items():
            props = res["Properties"]
            env = props.get("Environment", {}).get("Variables", {})
            out[name] = Function(name, self.root / props["CodeUri"], props["Handler"], env)
        return out

    @cached_property
    def routes(self) -> list[Route]:
        routes = []
        for name, res in self.of_type("AWS::Serverless::Function").items():
            for event in res["Properties"].get("Events", {}).values():
                if event["Type"] == "HttpApi":
                    props = event["Properties"]
                    path = props["Path"]
                    if path != "/" and path.endswith("/"):  # API Gateway refuses to deploy it
                        raise ValueError(f"{name}: a route path may not end in '/': {path}")
                    routes.append(Route(props.get("Method", "ANY").upper(), path, name))
        return routes

    @cached_property
    def log_subscribers(self) -> dict[str, list[str]]:
        """Function -> the functions that subscribe to its log group (AWS::Logs::
        SubscriptionFilter resources whose destination is a function of the template)."""
        group_of = {
            name: (res["Properties"].get("LoggingConfig") or {}).get("LogGroup", {}).get("Ref")
            for name, res in self.of_type("AWS::Serverless::Function").items()
        }
        out: dict[str, list[str]] = {}
        for res in self.of_type("AWS::Logs::SubscriptionFilter").values():
            props = res["Properties"]
            group = (props.get("LogGroupName") or {}).get("Ref")
            destination = props.get("DestinationArn") or {}
            target = destination.get("Fn::GetAtt", [None])[0]
            if target is None:  # !Ref F.Alias: the function's alias
                target = str(destination.get("Ref", "")).removesuffix(".Alias")
            if target in group_of:
                for name, its_group in group_of.items():
                    if its_group == group:
                        out.setdefault(name, []).append(target)
        return out

    @cached_property
    def queues(self) -> dict[str, dict]:
        return {n: r.get("Properties", {}) for n, r in self.of_type("AWS::SQS::Queue").items()}

    def async_config(self, function: str) -> tuple[int, str | None]:
        """An asynchronous invocation's retries (Lambda's default: 2) and the queue its
        failures go to (``EventInvokeConfig``), if any."""
        config = self.resources[function]["Properties"].get("EventInvokeConfig") or {}
        retries = int(config.get("MaximumRetryAttempts", 2))
        on_failure = (config.get("DestinationConfig") or {}).get("OnFailure") or {}
        destination = on_failure.get("Destination") or {}
        queue = (
            destination.get("Fn::GetAtt", [None])[0] if on_failure.get("Type") == "SQS" else None
        )
        return retries, queue

    @property
    def global_environment(self) -> dict:
        return (
            self.doc.get("Globals", {})
            .get("Function", {})
            .get("Environment", {})
            .get("Variables", {})
        )

    @property
    def cors(self) -> dict:
        for res in self.of_type("AWS::Serverless::HttpApi").values():
            return res.get("Properties", {}).get("CorsConfiguration", {}) or {}
        return {}

    def parameter_defaults(self) -> dict[str, str]:
        return {k: str(v.get("Default", "")) for k, v in self.doc.get("Parameters", {}).items()}

    def environment(self, function: str | None, names: dict[str, str]) -> dict[str, str]:
        """A function's environment (Globals, then its own; no function: Globals and every
        function's own), with ``!Ref`` resolved through ``names`` (resource logical id → local
        name) and parameter defaults."""
        params = {**LOCAL_PSEUDO_PARAMETERS, **self.parameter_defaults()}
        merged = dict(self.global_environment)
        if function:
            merged.update(self.functions[function].environment)
        else:  # every function runs in one process locally: each one's own variables too,
            for fn in self.functions.values():  # which must not name one variable twice
                for key, value in fn.environment.items():
                    if key in merged and merged[key] != value:
                        raise ValueError(
                            f"{fn.logical_id}: {key} is set to another value elsewhere"
                        )
                    merged[key] = value
        env = {}
        for key, value in merged.items():
            if isinstance(value, dict) and "Ref" in value:
                ref = value["Ref"]
                value = names.get(ref, params.get(ref))
                if value is None:
                    raise ValueError(f"{key}: cannot resolve !Ref {ref} locally")
            env[key] = str(value)
        return env

    def default_route(self) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            if route.path == "$default":
                return route, {}
        return None

    def route_for(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        best = None
        for route in self.routes:
            params = route.match(method, path)
            if params is not None and (best is None or route.specificity > best[0].specificity):
                best = (route, params)
        return best if best is not None else self.default_route()
