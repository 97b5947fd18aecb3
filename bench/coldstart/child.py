"""One cold start, in a fresh interpreter: import a function's handler module as Lambda would
(its CodeUri first on sys.path, then the layer), then invoke it once.

Run by bench.py as ``python child.py CODE_DIR LAYER_DIR MODULE ATTRIBUTE EVENT_FILE OUT_FILE``.
Only the standard library is imported before the clock starts (json, to read the event), so
the time is the handler module's imports plus its first invocation, measured in this process.
Storage is the endpoint in AWS_ENDPOINT_URL (moto's server, run by bench.py): moto is never
imported here, and ``OUT_FILE`` says so.
"""

import json
import sys
import time
import uuid

code_dir, layer_dir, module_name, attribute, event_file, out_file = sys.argv[1:7]
with open(event_file) as handle:
    event = json.load(handle)


class Context:
    function_name = "bench"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self._started = time.monotonic()

    def get_remaining_time_in_millis(self) -> int:
        return int((25 - (time.monotonic() - self._started)) * 1000)


context = Context()
c0 = time.process_time()
t0 = time.perf_counter()
sys.path[:0] = [code_dir, layer_dir]  # /var/task, then the layer (/opt/python)
import importlib  # noqa: E402  (already loaded by the interpreter: free)

handler = getattr(importlib.import_module(module_name), attribute)
t1 = time.perf_counter()
result = handler(event, context)
t2 = time.perf_counter()
c2 = time.process_time()
with open(out_file, "w") as handle:
    json.dump(
        {
            "import_s": t1 - t0,
            "invoke_s": t2 - t1,
            "total_s": t2 - t0,
            "cpu_s": c2 - c0,  # this process's CPU time: less sensitive to other load
            "status": result.get("statusCode"),
            "moto_imported": "moto" in sys.modules,
            "modules": len(sys.modules),
        },
        handle,
    )
