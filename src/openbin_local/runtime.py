"""Run the functions of ``template.yaml`` in-process, as Lambda would: import the handler
module from its CodeUri once (a warm container), then call it with an event and a context.

Lambda runs one invocation at a time in a container; here invocations run concurrently, in
threads. Powertools' resolvers keep the current event on a class attribute shared by every
resolver, and the matched route's arguments on the resolver itself, so two concurrent
invocations could read each other's event or path parameters (a read of one bin answered with
another bin's record). ``isolate_invocations`` makes that state per thread, as if each thread
were a container of its own.
"""

from __future__ import annotations

import importlib.util
import io
import json
import re
import sys
import threading
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field

from openbin_local.template import Function, Template


class _PerThread:
    """An attribute whose value is per thread: one value for the class and all its instances
    (``shared``), or one per instance (with a fresh ``default()`` in each new thread)."""

    def __init__(self, name: str, shared: bool, default=None) -> None:
        self.name = name
        self.shared = shared
        self.default = default
        self._local = threading.local()

    def _values(self) -> dict:
        values = getattr(self._local, "values", None)
        if values is None:
            values = self._local.values = {}
        return values

    def __get__(self, obj, owner=None):
        values, key = self._values(), None if self.shared else id(obj)
        if key not in values:
            if self.default is None:
                raise AttributeError(self.name)
            values[key] = self.default()
        return values[key]

    def __set__(self, obj, value) -> None:
        self._values()[None if self.shared else id(obj)] = value


# The Powertools version whose BaseRouter this patches: an upgrade fails
# tests/unit/test_third_party_guards.py until the patch is checked again and this is bumped.
PATCHED_FOR = "aws-lambda-powertools==3.37.0"


def isolate_invocations() -> None:
    """Make Powertools' per-invocation resolver state per thread (see the module's doc)."""
    from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

    if isinstance(BaseRouter.__dict__.get("context"), _PerThread):
        return
    shared = [_PerThread("current_event", True), _PerThread("lambda_context", True)]
    for descriptor in shared:
        setattr(BaseRouter, descriptor.name, descriptor)
    BaseRouter.context = _PerThread("context", False, default=dict)  # type: ignore[assignment]

    # Powertools assigns ``BaseRouter.current_event = ...`` on the class itself: a descriptor
    # on the metaclass takes that assignment, so it lands in the same per-thread value.
    class PerThreadRouterMeta(type(BaseRouter)):  # type: ignore[misc]
        pass

    for descriptor in shared:
        setattr(PerThreadRouterMeta, descriptor.name, descriptor)
    BaseRouter.__class__ = PerThreadRouterMeta  # type: ignore[method-assign]


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


# The function an invocation in this thread runs (for the log lines it prints).
invoking: ContextVar[str | None] = ContextVar("invoking", default=None)

# Lambda's limits on a synchronous invocation (its quotas page says 6 MB; the payloads are
# counted as the JSON Lambda sends and receives: the event, and the handler's answer with its
# body escaped into a string), and API Gateway's on the integration.
EVENT_LIMIT = 6_291_456
RESPONSE_LIMIT = 6_291_556
ASYNC_EVENT_LIMIT = 262_144  # an asynchronous invocation's event (256 KB)
INTEGRATION_TIMEOUT = 30.0  # seconds: HTTP API's, whatever the function's own timeout


class IntegrationFailed(Exception):
    """The invocation failed as Lambda or API Gateway fails it: what API Gateway answers the
    client (``status``, ``message``), and why (for the server's output)."""

    def __init__(self, status: int, message: str, why: str) -> None:
        super().__init__(why)
        self.status = status
        self.message = message


def payload_size(value: dict) -> int:
    """Bytes of a payload as Lambda serialises it: JSON, whose non-ASCII characters the
    python3.12+ runtimes write as UTF-8 (earlier ones escaped them), a body being one string."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return len(text.encode("utf-8", "surrogatepass"))


class FunctionRunner:
    def __init__(self, template: Template) -> None:
        isolate_invocations()
        self.template = template
        self._handlers: dict[str, object] = {}
        self._lock = threading.Lock()
        serve_lambda_invokes(self)

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
            assert spec is not None and spec.loader is not None, function.module_path
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:  # a failed import must not leave a half-made module behind
                del sys.modules[module_name]
                raise
        return getattr(module, function.attribute)

    def invoke(self, name: str, event: dict, synchronous: bool = True) -> dict:
        """Call the function as Lambda would, within Lambda's and API Gateway's limits
        (``IntegrationFailed`` past them); ``synchronous`` False: an asynchronous invocation
        (its event limit, and no answer to wait for)."""
        function = self.template.functions[name]
        props = self.template.resources[name]["Properties"]
        globals_ = self.template.doc.get("Globals", {}).get("Function", {})
        context = LambdaContext(
            function_name=name,
            memory_limit_in_mb=int(props.get("MemorySize", globals_.get("MemorySize", 128))),
            timeout_seconds=int(props.get("Timeout", globals_.get("Timeout", 3))),
        )
        limit = EVENT_LIMIT if synchronous else ASYNC_EVENT_LIMIT
        size = payload_size(event)
        if size > limit:  # Lambda refuses the invocation (RequestEntityTooLargeException)
            raise IntegrationFailed(
                413, "Request Entity Too Large", f"{name}: event of {size} bytes > {limit}"
            )
        token = invoking.set(name)
        started = time.monotonic()
        try:
            result = self.handler(function.logical_id)(event, context)
        finally:
            invoking.reset(token)
        elapsed = time.monotonic() - started
        if elapsed > context.timeout_seconds:  # Lambda stops it first: Task timed out
            raise IntegrationFailed(
                500,
                "Internal Server Error",
                f"{name}: {elapsed:.1f} s > its Timeout of {context.timeout_seconds} s",
            )
        if synchronous and elapsed > INTEGRATION_TIMEOUT:  # a function allowed more than 30 s
            raise IntegrationFailed(
                503, "Service Unavailable", f"{name}: {elapsed:.1f} s > API Gateway's 30 s"
            )
        if synchronous:
            size = payload_size(result) if isinstance(result, dict) else 0
            if size > RESPONSE_LIMIT:  # Function.ResponseSizeTooLarge
                raise IntegrationFailed(
                    500,
                    "Internal Server Error",
                    f"{name}: response of {size} bytes > Lambda's {RESPONSE_LIMIT}",
                )
        return result


def on_failure(target: str, event: dict, error: Exception, attempts: int, queue: str | None):
    """What Lambda sends to an asynchronous invocation's on-failure destination once its
    retries are spent (dropped, as on AWS, when there is none)."""
    if queue is None:
        print(f"openbin: {target}: event dropped after {attempts} attempts", file=sys.stderr)
        return
    import boto3

    record = {
        "version": "1.0",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": f"arn:aws:lambda:us-east-1:123456789012:function:{target}:live",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "1",
            "functionError": "Unhandled",
        },
        "responsePayload": {"errorType": type(error).__name__, "errorMessage": str(error)},
    }
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record))
    print(f"openbin: {target}: event sent to {queue} after {attempts} attempts", file=sys.stderr)


class LogSubscriptions:
    """The template's CloudWatch Logs subscription filters, run locally: the usage lines a
    function prints (``openbin.api.usage_log``) are delivered, batched, to the functions that
    subscribe to its log group, in the event CloudWatch Logs delivers, through the same
    handler. ``delay``: how long lines gather before a delivery (on AWS, a few seconds); None
    keeps them until ``flush`` (the handler-level tests, whose calls are counted request by
    request, deliver when they read a log)."""

    def __init__(self, runner: FunctionRunner, delay: float | None = 0.2) -> None:
        self.runner = runner
        self.delay = delay
        self._pending: list[tuple[str, dict]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def install(self) -> LogSubscriptions:
        from openbin.api import usage_log

        usage_log.sink = self.take
        if self.delay is not None:
            self._thread = threading.Thread(target=self._loop, name="openbin-logs", daemon=True)
            self._thread.start()
        return self

    def take(self, line: dict) -> None:
        targets = self.runner.template.log_subscribers.get(invoking.get() or "", [])
        with self._lock:
            self._pending += [(target, line) for target in targets]
        self._wake.set()

    def _deliver(self, target: str, lines: list[dict]) -> None:
        """Invoke the subscriber asynchronously, as CloudWatch Logs does: events within
        Lambda's 256 KB, each tried once and retried as the function's EventInvokeConfig says
        (Lambda waits a minute, then two, between them: here at once), then sent to its
        on-failure destination (an SQS queue of the template)."""
        from openbin.api import usage_log

        event = usage_log.subscription_event(lines)
        if payload_size(event) > ASYNC_EVENT_LIMIT and len(lines) > 1:
            half = len(lines) // 2
            self._deliver(target, lines[:half])
            self._deliver(target, lines[half:])
            return
        retries, queue = self.runner.template.async_config(target)
        failure: Exception | None = None
        for _ in range(1 + retries):
            try:
                self.runner.invoke(target, event, synchronous=False)
                return
            except Exception as error:  # as on AWS: the delivery fails, the request did not
                failure = error
                print(f"openbin: {target} raised {type(error).__name__}: {error}", file=sys.stderr)
        assert failure is not None
        on_failure(target, event, failure, 1 + retries, queue)

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        batches: dict[str, list[dict]] = {}
        for target, line in pending:
            batches.setdefault(target, []).append(line)
        for target, lines in batches.items():
            self._deliver(target, lines)

    def _loop(self) -> None:
        while not self._stopped:
            self._wake.wait()
            self._wake.clear()
            time.sleep(self.delay or 0)
            self.flush()

    def close(self) -> None:
        """Deliver what is pending, and stop."""
        from openbin.api import usage_log

        usage_log.sink = None
        self._stopped = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.flush()


# -- Lambda's Invoke API, served locally -------------------------------------------------------
LOCAL_FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:{name}:live"
_ARN = re.compile(r"arn:aws:lambda:[\w-]+:\d{12}:function:(\w+)(?::live)?")
_serving: FunctionRunner | None = None


def serve_lambda_invokes(runner: FunctionRunner) -> None:
    """Answer a function's ``lambda.invoke`` (RequestResponse) of another function of the
    template, by its ``live`` alias ARN (what ``!Ref X.Alias`` resolves to locally), with this
    runner, as Lambda would: within its limits, the caller's IAM policy checked first
    (``lambda:InvokeFunction`` on the alias). Idempotent; the last runner made serves."""
    global _serving
    _serving = runner
    from botocore.client import BaseClient

    if getattr(BaseClient._make_api_call, "serves_lambda", False):
        return
    original = BaseClient._make_api_call

    def serving(client, operation, params):
        if client.meta.service_model.service_name != "lambda" or operation != "Invoke":
            return original(client, operation, params)
        from openbin_local import iam

        caller, policies = invoking.get(), iam.policies()
        if caller is not None and policies is not None:
            policies.check(caller, "lambda", operation, params)
        return _invoke(params)

    serving.serves_lambda = True  # type: ignore[attr-defined]
    serving.enforces_iam = getattr(original, "enforces_iam", False)  # type: ignore[attr-defined]
    BaseClient._make_api_call = serving


def _invoke(params: dict) -> dict:
    from botocore.exceptions import ClientError
    from botocore.response import StreamingBody

    runner = _serving
    found = _ARN.fullmatch(str(params.get("FunctionName", "")))
    name = found.group(1) if found else str(params.get("FunctionName", ""))
    if runner is None or name not in runner.template.functions:
        raise ClientError(
            {
                "Error": {
                    "Code": "ResourceNotFoundException",
                    "Message": f"Function not found: {name}",
                }
            },
            "Invoke",
        )
    kind = params.get("InvocationType", "RequestResponse")
    raw = params.get("Payload", b"{}")
    event = json.loads(raw.read() if hasattr(raw, "read") else raw)
    if kind == "DryRun":  # Lambda checks the caller may invoke, and runs nothing
        return {"StatusCode": 204, "Payload": StreamingBody(io.BytesIO(b""), 0)}
    if kind == "Event":  # queued: Lambda answers 202 at once and runs it later
        if payload_size(event) > ASYNC_EVENT_LIMIT:
            raise ClientError(
                {"Error": {"Code": "RequestEntityTooLargeException", "Message": name}}, "Invoke"
            )
        threading.Thread(
            target=_run_queued, args=(runner, name, event), name="openbin-event", daemon=True
        ).start()
        return {"StatusCode": 202, "Payload": StreamingBody(io.BytesIO(b""), 0)}
    answer: dict = {"StatusCode": 200, "ExecutedVersion": "1"}
    try:
        result = runner.invoke(name, event)
    except IntegrationFailed as failed:
        if failed.status == 413:  # the event itself: Lambda refuses the call
            raise ClientError(
                {"Error": {"Code": "RequestEntityTooLargeException", "Message": str(failed)}},
                "Invoke",
            ) from None
        answer["FunctionError"] = "Unhandled"
        result = {"errorType": "Function.Failed", "errorMessage": str(failed)}
    except Exception as error:  # noqa: BLE001 (the function's own failure, as Lambda reports it)
        answer["FunctionError"] = "Unhandled"
        result = {"errorType": type(error).__name__, "errorMessage": str(error)}
    data = json.dumps(result).encode("utf-8")
    answer["Payload"] = StreamingBody(io.BytesIO(data), len(data))
    return answer


def _run_queued(runner: FunctionRunner, name: str, event: dict) -> None:
    """An asynchronous invocation: retried and sent to its on-failure destination as the
    function's EventInvokeConfig says, as Lambda does (at once here)."""
    retries, queue = runner.template.async_config(name)
    failure: Exception | None = None
    for _ in range(1 + retries):
        try:
            runner.invoke(name, event, synchronous=False)
            return
        except Exception as error:  # noqa: BLE001 (the function's failure, as Lambda reports it)
            failure = error
    assert failure is not None
    on_failure(name, event, failure, 1 + retries, queue)
