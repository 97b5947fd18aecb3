"""Schema-doc validation with jsonschema: one compiled validator per schema-doc revision,
kept across invocations. Imported only by the functions that write records."""

from __future__ import annotations

import json
from functools import lru_cache

from jsonschema import exceptions as _exceptions
from jsonschema import validators as _validators
from jsonschema.validators import Draft7Validator

from openbin.errors import SchemaMismatch
from openbin.models import SchemaDoc


@lru_cache(maxsize=256)
def _validator(schema_doc_id: str, revision: int, schema_text: str):
    schema = json.loads(schema_text)
    cls = _validators.validator_for(schema, default=Draft7Validator)
    return cls(schema)


def validate(doc: SchemaDoc, value: object) -> None:
    validator = _validator(doc.schema_doc_id, doc.revision, doc.schema)
    error = _exceptions.best_match(validator.iter_errors(value))
    if error is not None:
        raise SchemaMismatch(
            f"Schema Doc Validation Mismatch: {error.json_path}: {error.message}",
            schemaDocID=doc.schema_doc_id,
            schemaDocName=doc.name,
        )
