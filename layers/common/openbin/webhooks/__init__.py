"""JSONBin's webhooks (docs/API.md §11), the parts of a delivery: what it says (``bodies``),
how it is signed (``signing``, Standard Webhooks), when a failed one is tried again
(``schedule``), and how it is sent without reaching what the service must not reach
(``sending``). ``services.webhooks`` serves the settings routes; ``services.webhook_delivery``
turns a bin's committed change into a delivery and sends it."""
