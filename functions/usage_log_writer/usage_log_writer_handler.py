"""UsageLogWriterFunction: files the usage lines a CloudWatch Logs subscription delivers."""

from openbin.api.usage_filing import file_delivery

lambda_handler = file_delivery
