"""JSON Schema docs: checking a submitted schema, and validating records against one.

Safe against hostile schemas:
- every regular expression jsonschema evaluates (``pattern``, ``patternProperties`` and the
  ``additionalProperties``/``unevaluatedProperties`` checks built on them) runs on RE2, which
  is linear-time: a catastrophic pattern such as ``^(a+)+$`` cannot backtrack. Patterns RE2
  cannot compile (look-arounds, back-references) are refused when the schema is saved;
- schemas are bounded in size and nesting depth when saved;
- references are resolved only inside the schema: a ``$ref`` elsewhere is refused when the
  schema is saved, and validators use a registry that cannot retrieve anything (no URL is
  fetched and no file is read, whatever a stored schema says).
One compiled validator per schema-doc revision is kept across invocations. Imported only by
the functions that write records or schema docs.
"""

from __future__ import annotations

import json
from functools import lru_cache

import jsonschema._keywords
import jsonschema._legacy_keywords
import jsonschema._utils
from jsonschema import exceptions as _exceptions
from jsonschema import validators as _validators
from jsonschema.validators import Draft7Validator
from referencing import Registry
from referencing.exceptions import NoSuchResource, Unresolvable

from openbin import regex
from openbin.errors import InvalidRequest, SchemaMismatch
from openbin.models import SchemaDoc
from openbin.validation import depth_within

MAX_SCHEMA_BYTES = 64 * 1024
MAX_SCHEMA_DEPTH = 32
SUPPORTED_DRAFTS = {
    cls.META_SCHEMA["$schema"].rstrip("#"): cls
    for cls in (
        _validators.Draft4Validator,
        _validators.Draft6Validator,
        _validators.Draft7Validator,
        _validators.Draft201909Validator,
        _validators.Draft202012Validator,
    )
}


for _module in (jsonschema._keywords, jsonschema._legacy_keywords, jsonschema._utils):
    _module.re = regex.re_module

# Keywords whose values are data, not schemas: nothing inside them is a pattern or a reference.
DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples"})
REFERENCE_KEYWORDS = ("$ref", "$dynamicRef", "$recursiveRef")


def _no_retrieval(uri: str):
    raise NoSuchResource(ref=uri)


LOCAL_ONLY = Registry(retrieve=_no_retrieval)
ENDLESS = "the schema refers to itself without end"


def invalid(reason: str) -> InvalidRequest:
    return InvalidRequest(f"Invalid JSON Schema provided: {reason}")


def _validator_class(schema: object):
    if isinstance(schema, dict) and "$schema" in schema:
        declared = schema["$schema"]
        cls = SUPPORTED_DRAFTS.get(declared.rstrip("#")) if isinstance(declared, str) else None
        if cls is None:
            raise invalid(f"unsupported $schema {declared!r}")
        return cls
    return Draft7Validator


def _walk(node: object):
    """Every (keyword, value) pair of a schema, skipping values that are data."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            for key, value in current.items():
                yield key, value
                if key not in DATA_KEYWORDS and isinstance(value, dict | list):
                    stack.append(value)
        elif isinstance(current, list):
            stack.extend(current)


def _check_patterns_and_references(schema: object) -> None:
    pairs = list(_walk(schema))
    ids = {
        value.rstrip("#") for key, value in pairs if key in ("$id", "id") and isinstance(value, str)
    }
    for key, value in pairs:
        patterns = []
        if key == "pattern" and isinstance(value, str):
            patterns = [value]
        elif key == "patternProperties" and isinstance(value, dict):
            patterns = list(value)
        for pattern in patterns:
            try:
                regex.compile(pattern)
            except regex.error:
                raise invalid(
                    f"pattern {pattern!r} is not supported (RE2 syntax: no look-arounds "
                    "or back-references)"
                ) from None
        if key in REFERENCE_KEYWORDS and isinstance(value, str):
            if not value.startswith("#") and value.split("#", 1)[0] not in ids:
                raise invalid(
                    f"{key} {value!r} points outside the schema (only references within "
                    "the schema are supported)"
                )


def check_schema(raw: bytes) -> tuple[object, str]:
    """Validate a submitted JSON Schema; returns it parsed and as text."""
    if not raw.strip():
        raise invalid("the body is empty")
    if len(raw) > MAX_SCHEMA_BYTES:
        raise invalid(f"a schema may be at most {MAX_SCHEMA_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
        schema = json.loads(text)
    except RecursionError:
        raise invalid(f"nested deeper than {MAX_SCHEMA_DEPTH} levels") from None
    except ValueError:
        raise InvalidRequest("Invalid JSON provided") from None
    if not isinstance(schema, dict | bool):
        raise invalid("a schema must be a JSON object or a boolean")
    if isinstance(schema, dict) and not depth_within(schema, MAX_SCHEMA_DEPTH):
        raise invalid(f"nested deeper than {MAX_SCHEMA_DEPTH} levels")
    cls = _validator_class(schema)
    try:
        cls.check_schema(schema)
    except _exceptions.SchemaError as error:
        where = error.json_path if error.path else "$"
        raise invalid(f"{where}: {error.message}") from None
    _check_patterns_and_references(schema)
    validator = cls(schema, registry=LOCAL_ONLY)
    for probe in ({}, [], "", 0, None, {"a": [{}]}):
        try:
            for _ in validator.iter_errors(probe):
                pass
        except RecursionError:
            raise invalid(ENDLESS) from None
        except Unresolvable as unresolvable:
            raise invalid(f"cannot resolve {unresolvable}") from None
    return schema, text.strip()


@lru_cache(maxsize=256)
def _validator(schema_doc_id: str, revision: int, schema_text: str):
    schema = json.loads(schema_text)
    return _validator_class(schema)(schema, registry=LOCAL_ONLY)


def validate(doc: SchemaDoc, value: object) -> None:
    validator = _validator(doc.schema_doc_id, doc.revision, doc.schema)
    try:
        error = _exceptions.best_match(validator.iter_errors(value))
    except RecursionError:  # a cycle of references that no save-time probe reached
        raise SchemaMismatch(
            f"Schema Doc Validation Mismatch: $: {ENDLESS}",
            schemaDocID=doc.schema_doc_id,
            schemaDocName=doc.name,
        ) from None
    except Unresolvable as unresolvable:
        raise SchemaMismatch(
            f"Schema Doc Validation Mismatch: $: cannot resolve {unresolvable}",
            schemaDocID=doc.schema_doc_id,
            schemaDocName=doc.name,
        ) from None
    if error is not None:
        raise SchemaMismatch(
            f"Schema Doc Validation Mismatch: {error.json_path}: {error.message}",
            schemaDocID=doc.schema_doc_id,
            schemaDocName=doc.name,
        )
