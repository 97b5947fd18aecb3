"""Deployment settings: one typed, validated, frozen object read from the environment.

Every field's alias is the environment variable that ``template.yaml`` sets (a test checks that
the two agree), and every number's bounds are the template parameter's MinValue/MaxValue (a test
compares them), each declared in the field's annotation (``env``). A frozen msgspec Struct
checked in ``__post_init__``: a pydantic model cost about 110 ms of a cold start's imports
(docs/PERFORMANCE.md), a dataclass about 3.5 ms (its methods are compiled at import).

Settings are read on first use, never at import time, so tests can change the environment and
call ``get_settings.cache_clear()``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Annotated, Any, get_type_hints

import msgspec
import msgspec.structs
from msgspec import Meta

ENV_PREFIX = "OPENBIN_"
# Bounds that template.yaml's parameters repeat as MinValue/MaxValue (a test compares them).
MAX_BODY = 6 * 1024 * 1024  # Lambda's synchronous payload limit: no larger record arrives
# An XL create's multipart/form-data body reaches the function base64-encoded (API Gateway
# passes only text bodies as text): 4,700,000 bytes are 6,266,668 encoded, leaving 24 KB of
# Lambda's 6 MiB event for the rest of it (headers are at most 10 KB on an HTTP API).
MAX_XL_BODY = 4_700_000
MAX_REQUESTS = 1_000_000_000
_REQUIRED: Any = msgspec.NODEFAULT


class SettingsError(ValueError):
    """A setting that is missing, not a number, or out of its bounds."""


class Spec(msgspec.Struct, frozen=True):
    """What a setting is: its environment variable, type, default and bounds."""

    name: str
    alias: str
    kind: type
    default: Any
    ge: int | None
    le: int | None

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED


def env(alias: str, ge: int | None = None, le: int | None = None) -> Meta:
    """A setting's environment variable and bounds, in its annotation."""
    return Meta(ge=ge, le=le, extra={"env": alias})


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    bins_table: Annotated[str, env("OPENBIN_BINS_TABLE")]
    versions_table: Annotated[str, env("OPENBIN_VERSIONS_TABLE")]
    keys_table: Annotated[str, env("OPENBIN_KEYS_TABLE")]
    accounts_table: Annotated[str, env("OPENBIN_ACCOUNTS_TABLE")]
    collections_table: Annotated[str, env("OPENBIN_COLLECTIONS_TABLE")]
    schema_docs_table: Annotated[str, env("OPENBIN_SCHEMA_DOCS_TABLE")]
    idempotency_table: Annotated[str, env("OPENBIN_IDEMPOTENCY_TABLE")]
    records_bucket: Annotated[str, env("OPENBIN_RECORDS_BUCKET")]

    pricing_url: Annotated[str, env("OPENBIN_PRICING_URL")] = "https://jsonbin.io/pricing"
    free_record_limit: Annotated[int, env("OPENBIN_FREE_RECORD_LIMIT", ge=1, le=MAX_BODY)] = 102_400
    pro_record_limit: Annotated[int, env("OPENBIN_PRO_RECORD_LIMIT", ge=1, le=MAX_BODY)] = 1_048_576
    xl_body_limit: Annotated[int, env("OPENBIN_XL_BODY_LIMIT", ge=1, le=MAX_XL_BODY)] = MAX_XL_BODY
    usage_log_days: Annotated[int, env("OPENBIN_USAGE_LOG_DAYS", ge=1, le=3650)] = 30
    # How long a create's Idempotency-Key is remembered (docs/API.md §3.11).
    idempotency_hours: Annotated[int, env("OPENBIN_IDEMPOTENCY_HOURS", ge=1, le=720)] = 24
    free_requests: Annotated[int, env("OPENBIN_FREE_REQUESTS", ge=0, le=MAX_REQUESTS)] = 10_000
    pro_requests: Annotated[int, env("OPENBIN_PRO_REQUESTS", ge=0, le=MAX_REQUESTS)] = 100_000
    # Records whose compressed size is at most this many bytes live inside the DynamoDB item;
    # larger ones go to S3 (a DynamoDB item is capped at 400 KB).
    inline_record_limit: Annotated[int, env("OPENBIN_INLINE_RECORD_LIMIT", ge=0, le=350_000)] = (
        16_384
    )
    max_versions: Annotated[int, env("OPENBIN_MAX_VERSIONS", ge=0, le=100_000)] = 1000
    max_access_keys: Annotated[int, env("OPENBIN_MAX_ACCESS_KEYS", ge=0, le=100)] = 4
    max_json_depth: Annotated[int, env("OPENBIN_MAX_JSON_DEPTH", ge=1, le=500)] = 100
    jsonpath_max_length: Annotated[int, env("OPENBIN_JSONPATH_MAX_LENGTH", ge=1)] = 256
    # Work (nodes visited) a JSONPath evaluation may do beyond 4 steps per value of the record
    # (about 100 ms of CPU): see openbin.bounded.jsonpath.
    jsonpath_base_steps: Annotated[int, env("OPENBIN_JSONPATH_BASE_STEPS", ge=1)] = 12_500

    # Webhooks (docs/API.md §11)
    webhooks_table: Annotated[str, env("OPENBIN_WEBHOOKS_TABLE")]
    webhook_deliveries_table: Annotated[str, env("OPENBIN_WEBHOOK_DELIVERIES_TABLE")]
    webhook_queue: Annotated[str, env("OPENBIN_WEBHOOK_QUEUE")]  # its URL (or its name)
    # 1: receivers may be http and on private addresses (openbin serve's default); 0: https to
    # public addresses only (AWS's).
    webhook_allow_private: Annotated[int, env("OPENBIN_WEBHOOK_ALLOW_PRIVATE", ge=0, le=1)] = 0
    # Seconds to wait after each failed attempt (Standard Webhooks' schedule), comma-separated.
    webhook_schedule: Annotated[str, env("OPENBIN_WEBHOOK_SCHEDULE")] = (
        "5,300,1800,7200,18000,36000,36000"
    )
    # How long a rotated signing secret still signs beside the new one.
    webhook_secret_grace_hours: Annotated[
        int, env("OPENBIN_WEBHOOK_SECRET_GRACE_HOURS", ge=0, le=720)
    ] = 24

    # CORS, as the HTTP API's CorsConfiguration says (a test checks they agree): what the
    # $default route answers to a preflight that reaches it (see openbin.api.http).
    cors_allow_origins: Annotated[str, env("OPENBIN_CORS_ALLOW_ORIGINS")] = "*"
    cors_allow_methods: Annotated[str, env("OPENBIN_CORS_ALLOW_METHODS")] = (
        "GET,POST,PUT,PATCH,DELETE,OPTIONS"
    )
    cors_allow_headers: Annotated[str, env("OPENBIN_CORS_ALLOW_HEADERS")] = (
        "content-type,x-master-key,x-access-key,x-bin-private,x-bin-name,x-bin-meta,"
        "x-bin-versioning,x-collection-id,x-collection-name,x-json-path,x-preserve-latest,"
        "x-sort-order,x-schema-doc-id,x-schema-doc-name,x-key-name,if-match,if-none-match,"
        "idempotency-key"
    )
    cors_expose_headers: Annotated[str, env("OPENBIN_CORS_EXPOSE_HEADERS")] = (
        "x-requests-remaining,content-disposition,etag,idempotent-replayed"
    )
    cors_max_age: Annotated[int, env("OPENBIN_CORS_MAX_AGE", ge=0, le=86_400)] = 600

    def preflight_headers(self) -> dict[str, str]:
        return {
            "Access-Control-Allow-Origin": self.cors_allow_origins,
            "Access-Control-Allow-Methods": self.cors_allow_methods,
            "Access-Control-Allow-Headers": self.cors_allow_headers,
            "Access-Control-Expose-Headers": self.cors_expose_headers,
            "Access-Control-Max-Age": str(self.cors_max_age),
        }

    def webhook_pauses(self) -> tuple[float, ...]:
        """The retry schedule's pauses, in seconds (whole seconds: SQS counts in them)."""
        return tuple(float(p) for p in self.webhook_schedule.split(",") if p.strip())

    def record_limit(self, plan: str) -> int:
        return self.pro_record_limit if plan == "pro" else self.free_record_limit

    def plan_requests(self, plan: str) -> int:
        return self.pro_requests if plan == "pro" else self.free_requests

    @classmethod
    def specs(cls) -> tuple[Spec, ...]:
        hints = get_type_hints(cls, include_extras=True)
        out = []
        for field in msgspec.structs.fields(cls):
            kind, meta = hints[field.name].__origin__, hints[field.name].__metadata__[0]
            out.append(Spec(field.name, meta.extra["env"], kind, field.default, meta.ge, meta.le))
        return tuple(out)

    def __post_init__(self) -> None:
        try:
            pauses = [int(p) for p in self.webhook_schedule.split(",")]
        except ValueError:
            pauses = []
        if not pauses or not all(0 <= p <= 43_200 for p in pauses):
            raise SettingsError(
                "OPENBIN_WEBHOOK_SCHEDULE must be whole seconds from 0 to 43200, comma-separated"
            )
        for spec in _SPECS:
            value: Any = getattr(self, spec.name)
            if type(value) is not spec.kind:
                kind = "an integer" if spec.kind is int else "a string"
                raise SettingsError(f"{spec.alias} must be {kind}, not {value!r}")
            if spec.kind is not int:
                continue
            number: int = getattr(self, spec.name)
            if spec.ge is not None and number < spec.ge:
                raise SettingsError(f"{spec.alias} must be at least {spec.ge}, not {number}")
            if spec.le is not None and number > spec.le:
                raise SettingsError(f"{spec.alias} must be at most {spec.le}, not {number}")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """The settings the environment gives (``OPENBIN_*``; unset ones take their default)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for spec in _SPECS:
            raw = env.get(spec.alias)
            if raw is None:
                if spec.required:
                    raise SettingsError(f"{spec.alias} is not set")
                continue
            if spec.kind is int:
                try:
                    values[spec.name] = int(raw.strip())
                except ValueError:
                    raise SettingsError(f"{spec.alias} must be an integer, not {raw!r}") from None
            else:
                values[spec.name] = raw
        return cls(**values)

    def but(self, **changes: Any) -> Settings:
        """A copy with ``changes``, checked as the original was."""
        return msgspec.structs.replace(self, **changes)


_SPECS = Settings.specs()  # read once: every Settings is checked against them


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
