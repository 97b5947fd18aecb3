"""Who this invocation's caller is, as far as it is known yet: the context every layer reads
(the answer's ``X-Requests-Remaining``, the account's usage log). Apart from ``auth`` so that a
function without storage (the ``$default`` route, the web console) can read it without importing
the repositories and the AWS clients."""

from __future__ import annotations

from contextvars import ContextVar

# The allowance to show the caller (X-Requests-Remaining), once this request has been charged
# (None before, and always for keyless requests: a public bin's reader must not learn its
# owner's allowance).
requests_remaining: ContextVar[int | None] = ContextVar("requests_remaining", default=None)
# The account of the key the request carried, once that key was recognised (None before).
caller_account: ContextVar[str | None] = ContextVar("caller_account", default=None)
# The key the request carried, once recognised: its kind and (an access key's) ID, for the
# account's usage log (never the key itself).
caller_key: ContextVar[tuple[str, str | None] | None] = ContextVar("caller_key", default=None)
# The account this request was charged to (or refused by its allowance): a keyless read of a
# public bin is its owner's.
charged_account: ContextVar[str | None] = ContextVar("charged_account", default=None)
