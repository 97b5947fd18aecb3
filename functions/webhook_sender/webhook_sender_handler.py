"""WebhookSenderFunction: one queued webhook delivery sent, signed."""

from openbin.api.webhook_events import send_batch

lambda_handler = send_batch
