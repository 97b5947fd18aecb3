"""Run the functions of ``template.yaml`` in-process, as Lambda would: import the handler
module from its CodeUri once (a warm container), then call it with an event and a context."""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field

from openbin_cli.template import Function, Template


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int = 512
    timeout_seconds: int = 25
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        left = self.timeout_seconds - (time.monotonic() - self.started)
        return max(0, int(left * 1000))


class FunctionRunner:
    def __init__(self, template: Template) -> None:
        self.template = template
        self._handlers: dict[str, object] = {}
        self._lock = threading.Lock()

    def handler(self, name: str):
        with self._lock:
            if name not in self._handlers:
                self._handlers[name] = self._load(self.template.functions[name])
            return self._handlers[name]

    @staticmethod
    def _load(function: Function):
        module_name = function.module_name
        module = sys.modules.get(module_name)
        if module is None or getattr(module, "__file__", None) != str(function.module_path):
            spec = importlib.util.spec_from_file_location(module_name, function.module_path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:  # a failed import must not leave a half-made module behind
                del sys.modules[module_name]
                raise
        return getattr(module, function.attribute)

    def invoke(self, name: str, event: dict) -> dict:
        function = self.template.functions[name]
        props = self.template.resources[name]["Properties"]
        globals_ = self.template.doc.get("Globals", {}).get("Function", {})
        context = LambdaContext(
            function_name=name,
            memory_limit_in_mb=int(props.get("MemorySize", globals_.get("MemorySize", 128))),
            timeout_seconds=int(props.get("Timeout", globals_.get("Timeout", 3))),
        )
        return self.handler(function.logical_id)(event, context)
