"""Configuration: Hydra composes the YAML groups, pydantic validates the whole tree.

Exports load on first use, so `inspect-run --help` (which only lists config groups) imports neither
pydantic nor Hydra.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.config._compose import Composed, compose_config, expand_sweep, load_dotenv
    from engine.config._errors import EXIT_BAD_CONFIG, ConfigError, Problem
    from engine.config._schema import (
        BatchConfig,
        CacheConfig,
        ConnectionConfig,
        DatasetConfig,
        DatasetFields,
        GenerationConfig,
        HubDataset,
        Price,
        ResponseSchema,
        RoleConfig,
        RunConfig,
        TaskConfig,
    )

_EXPORTS = {
    "BatchConfig": "_schema",
    "CacheConfig": "_schema",
    "ConnectionConfig": "_schema",
    "DatasetConfig": "_schema",
    "DatasetFields": "_schema",
    "GenerationConfig": "_schema",
    "HubDataset": "_schema",
    "Price": "_schema",
    "ResponseSchema": "_schema",
    "RoleConfig": "_schema",
    "RunConfig": "_schema",
    "TaskConfig": "_schema",
    "Composed": "_compose",
    "compose_config": "_compose",
    "expand_sweep": "_compose",
    "load_dotenv": "_compose",
    "ConfigError": "_errors",
    "Problem": "_errors",
    "EXIT_BAD_CONFIG": "_errors",
}

__all__ = [
    "EXIT_BAD_CONFIG",
    "BatchConfig",
    "CacheConfig",
    "Composed",
    "ConfigError",
    "ConnectionConfig",
    "DatasetConfig",
    "DatasetFields",
    "GenerationConfig",
    "HubDataset",
    "Price",
    "Problem",
    "ResponseSchema",
    "RoleConfig",
    "RunConfig",
    "TaskConfig",
    "compose_config",
    "expand_sweep",
    "load_dotenv",
]


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'engine.config' has no attribute {name!r}")
    return getattr(import_module(f"engine.config.{module}"), name)
