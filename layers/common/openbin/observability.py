"""Logs and metrics, for every layer (the HTTP edge, the services, the repositories): one
Powertools Logger and one Metrics. The Lambda entry point (``openbin.api.http``) binds each
invocation's context to the logger, with the API Gateway request id as the correlation id, so
every line of an invocation, storage's included, carries it.

Nothing here logs keys or record bodies: callers log kinds, counts and statuses only
(``tests/handler/test_secrets.py`` searches every line of a full request cycle)."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths

logger = Logger()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "OpenBin"))
CORRELATION_ID = correlation_paths.API_GATEWAY_HTTP  # requestContext.requestId
