"""JSON Schema docs: checking a submitted schema, and validating records against one.

Safe against hostile schemas:
- every regular expression jsonschema evaluates (``pattern``, ``patternProperties`` and the
  ``additionalProperties``/``unevaluatedProperties`` checks built on them) runs on RE2, which
  is linear-time: a catastrophic pattern such as ``^(a+)+$`` cannot backtrack. Patterns RE2
  cannot compile (look-arounds, back-references) are refused when the schema is saved;
- schemas are bounded in size and nesting depth when saved, and so is what their references
  expand to (``MAX_EXPANSION`` subschemas a pass; a reference loop that never descends into
  the data is refused): see ``openbin.bounded.schema_bounds``;
- every evaluation is metered: checking a schema when it is saved gets ``CHECK_STEPS`` steps,
  validating a record ``validation_budget(size)``; past it the request gets a 400, so no schema
  can make a request run long;
- references are resolved only inside the schema: a ``$ref`` elsewhere is refused when the
  schema is saved, and validators use a registry that cannot retrieve anything (no URL is
  fetched and no file is read, whatever a stored schema says).
One compiled validator per schema-doc revision is kept across invocations. Imported only by
the functions that write records or schema docs.
"""

from __future__ import annotations

import json
from functools import lru_cache

from jsonschema import exceptions as _exceptions
from jsonschema import validators as _validators
from jsonschema.validators import Draft7Validator
from referencing import Registry
from referencing.exceptions import NoSuchResource, Unresolvable
from referencing.jsonschema import specification_with

from openbin.bounded import budget, regex
from openbin.bounded import schema_bounds as bounds
from openbin.errors import InvalidRequest, SchemaMismatch
from openbin.models import SchemaDoc
from openbin.validation import depth_within, loads

MAX_SCHEMA_BYTES = 64 * 1024
MAX_SCHEMA_DEPTH = 32
# Subschemas one validation pass may apply, every reference counted each time it is reached.
MAX_EXPANSION = 10_000
# Steps (see openbin.bounded.schema_bounds) to check a schema when it is saved, and to validate a
# record: a base, more for larger records, and a ceiling. A step is 1.5-2.5 us of one core here
# (tests/unit/test_schema_bounds.py times the worst cases: at most ~1.5 s); a typical schema on
# a 1 MB record takes about 260,000 steps.
CHECK_STEPS = 200_000
VALIDATION_BASE_STEPS = 20_000
VALIDATION_STEPS_PER_BYTE = 2
VALIDATION_MAX_STEPS = 750_000
MAX_MESSAGE = 512  # characters of a mismatch's reason (it may quote the whole record)
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


# Keywords whose values are data, not schemas: nothing inside them is a pattern or a reference.
DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples"})
REFERENCE_KEYWORDS = ("$ref", "$dynamicRef", "$recursiveRef")


def _no_retrieval(uri: str):
    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # an attrs class the stubs miss


LOCAL_ONLY: Registry = Registry(retrieve=_no_retrieval)  # type: ignore[call-arg]
ENDLESS = "the schema refers to itself without end"
TOO_DEEP = "its references nest too deeply to follow"
TOO_LARGE = f"its references expand to more than {MAX_EXPANSION} subschemas"
TOO_SLOW = f"checking it takes more than {CHECK_STEPS} steps"


def validation_budget(size: int) -> int:
    """Steps a record of ``size`` bytes may take to validate."""
    return min(VALIDATION_MAX_STEPS, VALIDATION_BASE_STEPS + VALIDATION_STEPS_PER_BYTE * size)


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
        schema = loads(text)
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
        with budget.metered(CHECK_STEPS):
            cls.check_schema(schema)
    except _exceptions.SchemaError as error:
        where = error.json_path if error.path else "$"
        raise invalid(f"{where}: {_short(error.message)}") from None
    except budget.OverBudget:
        raise invalid(TOO_SLOW) from None
    _check_patterns_and_references(schema)
    _check_expansion(schema)
    # What no static check sees (dynamic references): a few instances, within one budget.
    validator = cls(schema, registry=LOCAL_ONLY)
    try:
        with budget.metered(CHECK_STEPS):
            probes: tuple[object, ...] = ({}, [], None, {"a": [{}]})
            for probe in probes:
                for _ in validator.iter_errors(probe):
                    pass
    except RecursionError:
        raise invalid(TOO_DEEP) from None
    except Unresolvable as unresolvable:
        raise invalid(f"cannot resolve {unresolvable}") from None
    except budget.OverBudget:
        raise invalid(TOO_SLOW) from None
    return schema, text.strip()


def expansion(schema: object, limit: int = MAX_EXPANSION) -> int:
    """The subschemas one validation pass applies (see ``schema_bounds.expansion``)."""
    specification = specification_with(_validator_class(schema).META_SCHEMA["$schema"])
    resolver = LOCAL_ONLY.resolver_with_root(specification.create_resource(schema))
    return bounds.expansion(schema, resolver, specification, limit)


def _check_expansion(schema: object) -> None:
    """Refuse a schema whose references expand beyond MAX_EXPANSION, or loop in place."""
    try:
        expansion(schema)
    except bounds.TooLarge:
        raise invalid(TOO_LARGE) from None
    except bounds.Endless:
        raise invalid(ENDLESS) from None
    except Unresolvable as unresolvable:
        raise invalid(f"cannot resolve {unresolvable}") from None


def _short(message: str) -> str:
    """A reason quoting a large value keeps its start and its end (what is wrong)."""
    if len(message) <= MAX_MESSAGE:
        return message
    half = (MAX_MESSAGE - 3) // 2
    return f"{message[:half]}...{message[-half:]}"


@lru_cache(maxsize=256)
def _validator(schema_doc_id: str, revision: int, schema_text: str):
    schema = json.loads(schema_text)
    return _validator_class(schema)(schema, registry=LOCAL_ONLY)


def validate(doc: SchemaDoc, value: object, size: int) -> None:
    """Check a record of ``size`` bytes against its collection's schema doc, within
    ``validation_budget(size)`` steps."""
    validator = _validator(doc.schema_doc_id, doc.revision, doc.schema)
    steps = validation_budget(size)
    try:
        with budget.metered(steps):
            error = _exceptions.best_match(validator.iter_errors(value))
    except RecursionError:  # references nested deeper than the interpreter follows
        raise _mismatch(doc, f"$: {TOO_DEEP}") from None
    except Unresolvable as unresolvable:
        raise _mismatch(doc, f"$: cannot resolve {unresolvable}") from None
    except budget.DeadlineReached:
        raise _mismatch(
            doc, "$: validating the record against this schema takes too long"
        ) from None
    except budget.OverBudget:
        raise _mismatch(
            doc, f"$: validating the record against this schema takes more than {steps} steps"
        ) from None
    if error is not None:
        raise _mismatch(doc, f"{error.json_path}: {_short(error.message)}")


def _mismatch(doc: SchemaDoc, reason: str) -> SchemaMismatch:
    return SchemaMismatch(
        f"Schema Doc Validation Mismatch: {reason}",
        schemaDocID=doc.schema_doc_id,
        schemaDocName=doc.name,
    )
