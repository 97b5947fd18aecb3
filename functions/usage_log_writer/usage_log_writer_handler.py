"""UsageLogWriterFunction: files the usage lines a CloudWatch Logs subscription delivers."""

from openbin.api.usage_log import file_delivery

lambda_handler = file_delivery
