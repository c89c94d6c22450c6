"""Structured output: check a reply against the `response_schema` it was asked to follow.

Providers constrain decoding where they can, but not all do (or not strictly), so every reply to a
request with a schema is parsed and validated here and the verdict recorded in the output's
metadata. An invalid reply is not an error: the sample goes on and its scorers see the reply (so
is a schema whose `$ref` cannot be resolved: the reply is kept, the verdict says why).
"""

from __future__ import annotations

import json
from typing import Any

from engine.config import ResponseSchema

__all__ = ["RESPONSE_SCHEMA_KEY", "validate_reply"]

RESPONSE_SCHEMA_KEY = "response_schema"
"""Where the verdict goes in `ModelOutput.metadata`."""


def validate_reply(schema: ResponseSchema, text: str) -> dict[str, Any]:
    """`{"name", "valid"}`, plus `"error"` saying what is wrong when the reply does not conform."""
    verdict: dict[str, Any] = {"name": schema.name, "valid": False}
    try:
        value = json.loads(text)
    except ValueError as error:
        verdict["error"] = f"not JSON: {error}"
        return verdict
    import jsonschema
    from referencing.exceptions import Unresolvable

    validator = jsonschema.validators.validator_for(schema.json_schema)(schema.json_schema)
    try:
        problem = jsonschema.exceptions.best_match(validator.iter_errors(value))
    except Unresolvable as error:  # a `$ref` the schema cannot resolve (nothing is fetched)
        verdict["error"] = f"the schema's $ref cannot be resolved: {error}"
        return verdict
    if problem is None:
        verdict["valid"] = True
    else:
        where = "/".join(str(p) for p in problem.absolute_path)
        verdict["error"] = f"{problem.message} (at /{where})" if where else problem.message
    return verdict
