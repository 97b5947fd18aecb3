"""What Powertools' Tracer would add to a cold start: in a fresh interpreter, import a
function's handler module as Lambda would (its CodeUri, then the layer), then time creating a
Tracer (which imports the X-Ray SDK and patches botocore). The functions run with Lambda's own
active tracing instead; this measures what the SDK would cost on top.

Run by bench.py as ``python tracer.py CODE_DIR LAYER_DIR MODULE``; prints the milliseconds.
"""

import importlib
import sys
import time

code_dir, layer_dir, module_name = sys.argv[1:4]
sys.path[:0] = [code_dir, layer_dir]
importlib.import_module(module_name)
started = time.perf_counter()
from aws_lambda_powertools import Tracer  # noqa: E402

Tracer(service="openbin")
print(round((time.perf_counter() - started) * 1000, 1))
