"""Deployment settings: one typed, validated, frozen object read from the environment.

Every field's alias is the environment variable that ``template.yaml`` sets (a test checks that
the two agree), and every number's bounds are the template parameter's MinValue/MaxValue (a test
compares them). A plain frozen dataclass checked in ``__post_init__``: pydantic did the same in
about 110 ms of a cold start's imports (docs/PERFORMANCE.md), for nothing a client sends.

Settings are read on first use, never at import time, so tests can change the environment and
call ``get_settings.cache_clear()``.
"""

from __future__ import annotations

import os
from dataclasses import MISSING, dataclass, field, fields, replace
from functools import lru_cache
from typing import Any

ENV_PREFIX = "OPENBIN_"
# Bounds that template.yaml's parameters repeat as MinValue/MaxValue (a test compares them).
MAX_BODY = 6 * 1024 * 1024  # Lambda's synchronous payload limit: no larger record arrives
# An XL create's multipart/form-data body reaches the function base64-encoded (API Gateway
# passes only text bodies as text): 4,700,000 bytes are 6,266,668 encoded, leaving 24 KB of
# Lambda's 6 MiB event for the rest of it (headers are at most 10 KB on an HTTP API).
MAX_XL_BODY = 4_700_000
MAX_REQUESTS = 1_000_000_000


class SettingsError(ValueError):
    """A setting that is missing, not a number, or out of its bounds."""


@dataclass(frozen=True, slots=True)
class Spec:
    """What a setting is: its environment variable, default (MISSING: required) and bounds."""

    name: str
    alias: str
    kind: type
    default: Any
    ge: int | None
    le: int | None

    @property
    def required(self) -> bool:
        return self.default is MISSING


def setting(default: Any = MISSING, *, alias: str, ge: int | None = None, le: int | None = None):
    return field(default=default, metadata={"alias": alias, "ge": ge, "le": le})


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    bins_table: str = setting(alias="OPENBIN_BINS_TABLE")
    versions_table: str = setting(alias="OPENBIN_VERSIONS_TABLE")
    keys_table: str = setting(alias="OPENBIN_KEYS_TABLE")
    accounts_table: str = setting(alias="OPENBIN_ACCOUNTS_TABLE")
    collections_table: str = setting(alias="OPENBIN_COLLECTIONS_TABLE")
    schema_docs_table: str = setting(alias="OPENBIN_SCHEMA_DOCS_TABLE")
    idempotency_table: str = setting(alias="OPENBIN_IDEMPOTENCY_TABLE")
    records_bucket: str = setting(alias="OPENBIN_RECORDS_BUCKET")

    pricing_url: str = setting("https://jsonbin.io/pricing", alias="OPENBIN_PRICING_URL")
    free_record_limit: int = setting(102_400, ge=1, le=MAX_BODY, alias="OPENBIN_FREE_RECORD_LIMIT")
    pro_record_limit: int = setting(1_048_576, ge=1, le=MAX_BODY, alias="OPENBIN_PRO_RECORD_LIMIT")
    xl_body_limit: int = setting(MAX_XL_BODY, ge=1, le=MAX_XL_BODY, alias="OPENBIN_XL_BODY_LIMIT")
    usage_log_days: int = setting(30, ge=1, le=3650, alias="OPENBIN_USAGE_LOG_DAYS")
    # How long a create's Idempotency-Key is remembered (docs/API.md §3.11).
    idempotency_hours: int = setting(24, ge=1, le=720, alias="OPENBIN_IDEMPOTENCY_HOURS")
    free_requests: int = setting(10_000, ge=0, le=MAX_REQUESTS, alias="OPENBIN_FREE_REQUESTS")
    pro_requests: int = setting(100_000, ge=0, le=MAX_REQUESTS, alias="OPENBIN_PRO_REQUESTS")
    # Records whose compressed size is at most this many bytes live inside the DynamoDB item;
    # larger ones go to S3 (a DynamoDB item is capped at 400 KB).
    inline_record_limit: int = setting(
        16_384, ge=0, le=350_000, alias="OPENBIN_INLINE_RECORD_LIMIT"
    )
    max_versions: int = setting(1000, ge=0, le=100_000, alias="OPENBIN_MAX_VERSIONS")
    max_access_keys: int = setting(4, ge=0, le=100, alias="OPENBIN_MAX_ACCESS_KEYS")
    max_json_depth: int = setting(100, ge=1, le=500, alias="OPENBIN_MAX_JSON_DEPTH")
    jsonpath_max_length: int = setting(256, ge=1, alias="OPENBIN_JSONPATH_MAX_LENGTH")
    # Work (nodes visited) a JSONPath evaluation may do beyond 4 steps per value of the record
    # (about 100 ms of CPU): see openbin.jsonpath.
    jsonpath_base_steps: int = setting(25_000, ge=1, alias="OPENBIN_JSONPATH_BASE_STEPS")

    # CORS, as the HTTP API's CorsConfiguration says (a test checks they agree): what the
    # $default route answers to a preflight that reaches it (see openbin.api.http).
    cors_allow_origins: str = setting("*", alias="OPENBIN_CORS_ALLOW_ORIGINS")
    cors_allow_methods: str = setting(
        "GET,POST,PUT,PATCH,DELETE,OPTIONS", alias="OPENBIN_CORS_ALLOW_METHODS"
    )
    cors_allow_headers: str = setting(
        "content-type,x-master-key,x-access-key,x-bin-private,x-bin-name,x-bin-meta,"
        "x-bin-versioning,x-collection-id,x-collection-name,x-json-path,x-preserve-latest,"
        "x-sort-order,x-schema-doc-id,x-schema-doc-name,x-key-name,if-match,if-none-match,"
        "idempotency-key",
        alias="OPENBIN_CORS_ALLOW_HEADERS",
    )
    cors_expose_headers: str = setting(
        "x-requests-remaining,content-disposition,etag,idempotent-replayed",
        alias="OPENBIN_CORS_EXPOSE_HEADERS",
    )
    cors_max_age: int = setting(600, ge=0, le=86_400, alias="OPENBIN_CORS_MAX_AGE")

    def preflight_headers(self) -> dict[str, str]:
        return {
            "Access-Control-Allow-Origin": self.cors_allow_origins,
            "Access-Control-Allow-Methods": self.cors_allow_methods,
            "Access-Control-Allow-Headers": self.cors_allow_headers,
            "Access-Control-Expose-Headers": self.cors_expose_headers,
            "Access-Control-Max-Age": str(self.cors_max_age),
        }

    def record_limit(self, plan: str) -> int:
        return self.pro_record_limit if plan == "pro" else self.free_record_limit

    def plan_requests(self, plan: str) -> int:
        return self.pro_requests if plan == "pro" else self.free_requests

    @classmethod
    def specs(cls) -> tuple[Spec, ...]:
        kinds = {"str": str, "int": int}
        return tuple(
            Spec(
                f.name,
                f.metadata["alias"],
                kinds[str(f.type)],
                f.default,
                f.metadata["ge"],
                f.metadata["le"],
            )
            for f in fields(cls)
        )

    def __post_init__(self) -> None:
        for spec in _SPECS:
            value: Any = getattr(self, spec.name)
            if type(value) is not spec.kind:
                kind = "an integer" if spec.kind is int else "a string"
                raise SettingsError(f"{spec.alias} must be {kind}, not {value!r}")
            if spec.kind is not int:
                continue
            number: int = getattr(self, spec.name)
            low, high = spec.ge, spec.le
            if low is not None and number < low:
                raise SettingsError(f"{spec.alias} must be at least {low}, not {number}")
            if high is not None and number > high:
                raise SettingsError(f"{spec.alias} must be at most {high}, not {number}")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """The settings the environment gives (``OPENBIN_*``; unset ones take their default)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for spec in cls.specs():
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
        return replace(self, **changes)


_SPECS = Settings.specs()  # read once: every Settings is checked against them


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
