"""JSONBin's webhooks (issue 28), built from the inside out: what a delivery says
(``bodies``), how it is signed (``signing``, Standard Webhooks), when a failed one is tried
again (``schedule``), and how it is sent without reaching what the service must not reach
(``sending``). Not yet wired to routes or events: see docs/WEBHOOKS.md."""
