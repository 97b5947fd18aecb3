"""Domain errors. They carry the client-facing message; ``openbin.api.http`` is the one place
that turns each kind into an HTTP status."""

from __future__ import annotations

UNAVAILABLE = "Service temporarily unavailable, please retry"


class OpenBinError(Exception):
    """Base class: ``message`` is shown to the client as ``{"message": ...}``."""

    def __init__(self, message: str, **extra: object) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra


class InvalidRequest(OpenBinError):
    """The request itself is malformed (bad header, body, id or version)."""


class NotAuthenticated(OpenBinError):
    """No key, an unknown key, or a key of another account."""


class NotAllowed(OpenBinError):
    """A known caller that may not do this: permissions, allowance, plan limits, blocked."""


class NotFound(OpenBinError):
    """The resource does not exist (or is not the caller's)."""


class SchemaMismatch(InvalidRequest):
    """The record does not match its collection's schema doc."""


class Conflict(OpenBinError):
    """The request contradicts the resource as it is (a JSON Patch ``test`` that fails)."""


class KeyReused(OpenBinError):
    """An Idempotency-Key already used for a different create (422, as the IETF's
    Idempotency-Key draft says): nothing was created."""


class UnsupportedMediaType(OpenBinError):
    """A body of a content type the route does not take."""


class PreconditionFailed(OpenBinError):
    """An If-Match that is not the bin's current ETag: nothing was changed."""


class Unavailable(OpenBinError):
    """Storage failed in a way the client should retry."""


def given[T](value: T | OpenBinError) -> T:
    """A request value the api read from a header, or the refusal it stands for (a header that
    is not what it must be): raised when the service reaches the step the contract gives it
    (headers come after the key, the resource, the permission and the allowance)."""
    if isinstance(value, OpenBinError):
        raise value
    return value


def check_given(value: object) -> None:
    """``given`` as a check: a header's refusal raised at its step, its value not needed."""
    given(value)
