"""JSON Schemas generated from the pydantic models: one per config group, for editors and CI.

`inspect-run schemas` rewrites `schemas/`; `inspect-run schemas --check` fails on drift.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter

from engine._assets import schemas_dir
from engine.config._schema import (
    BatchConfig,
    CacheConfig,
    ConnectionConfig,
    GateConfig,
    GenerationConfig,
    Price,
    RoleConfig,
    RunConfig,
    TaskConfig,
)

GROUP_MODELS: dict[str, Any] = {
    "config": RunConfig,
    "task": TaskConfig,
    "generation": GenerationConfig,
    "connection": ConnectionConfig,
    "batch": BatchConfig,
    "cache": CacheConfig,
    "roles": dict[str, RoleConfig | str | list[RoleConfig | str] | None],
    "prices": dict[str, Price],
    "gate": GateConfig,
}
"""Schema name → the model (or type) a file of that group must satisfy."""


def build_schemas() -> dict[str, dict[str, Any]]:
    schemas = {}
    for name, model in GROUP_MODELS.items():
        if isinstance(model, type) and issubclass(model, BaseModel):
            schema = model.model_json_schema()
        else:
            schema = TypeAdapter(model).json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema.setdefault("title", f"inspect-run {name}")
        schemas[name] = schema
    return schemas


def schema_text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def drifted(directory: Path | None = None) -> list[str]:
    """Schema files that differ from what the models generate now."""
    folder = directory or schemas_dir()
    stale = []
    for name, schema in build_schemas().items():
        path = folder / f"{name}.schema.json"
        if not path.is_file() or path.read_text(encoding="utf-8") != schema_text(schema):
            stale.append(path.name)
    return stale


def write_schemas(directory: Path | None = None) -> list[Path]:
    folder = directory or schemas_dir()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in build_schemas().items():
        path = folder / f"{name}.schema.json"
        path.write_text(schema_text(schema), encoding="utf-8")
        written.append(path)
    return written


def load_schema(name: str) -> dict[str, Any]:
    path = schemas_dir() / f"{name}.schema.json"
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded
