"""WebhookDispatcherFunction: the bins table's stream in, webhook deliveries out."""

from openbin.api.webhook_events import dispatch_batch

lambda_handler = dispatch_batch
