"""Configuration: Hydra composes the YAML groups, pydantic validates the whole tree.

Exports load on first use, so `inspect-run --help` (which only lists config groups) imports neither
pydantic nor Hydra.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.config._catalog import list_command
    from engine.config._compose import (
        GROUPS,
        Composed,
        Sweep,
        compose_config,
        expand_sweep,
        load_dotenv,
        normalize_overrides,
    )
    from engine.config._errors import (
        EXIT_BAD_CONFIG,
        ConfigError,
        Problem,
        problems_from_validation,
        suggest,
    )
    from engine.config._jsonschema import drifted, write_schemas
    from engine.config._schema import (
        BatchConfig,
        BudgetConfig,
        CacheConfig,
        ConnectionConfig,
        DatasetConfig,
        DatasetFields,
        GateConfig,
        GenerationConfig,
        HubDataset,
        Price,
        ResponseSchema,
        RoleConfig,
        RunConfig,
        TaskConfig,
    )
    from engine.config._searchpath import (
        display_path,
        extra_config_dirs,
        find_group_file,
        group_options,
        user_config_dirs,
    )
    from engine.config._validate import all_problems, validate_command

_EXPORTS = {
    "user_config_dirs": "_searchpath",
    "find_group_file": "_searchpath",
    "display_path": "_searchpath",
    "extra_config_dirs": "_searchpath",
    "normalize_overrides": "_compose",
    "Sweep": "_compose",
    "GROUPS": "_compose",
    "problems_from_validation": "_errors",
    "suggest": "_errors",
    "GateConfig": "_schema",
    "BatchConfig": "_schema",
    "BudgetConfig": "_schema",
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
    "all_problems": "_validate",
    "drifted": "_jsonschema",
    "group_options": "_searchpath",
    "list_command": "_catalog",
    "validate_command": "_validate",
    "write_schemas": "_jsonschema",
}

__all__ = [
    "EXIT_BAD_CONFIG",
    "GROUPS",
    "BatchConfig",
    "BudgetConfig",
    "CacheConfig",
    "Composed",
    "ConfigError",
    "ConnectionConfig",
    "DatasetConfig",
    "DatasetFields",
    "GateConfig",
    "GenerationConfig",
    "HubDataset",
    "Price",
    "Problem",
    "ResponseSchema",
    "RoleConfig",
    "RunConfig",
    "Sweep",
    "TaskConfig",
    "all_problems",
    "compose_config",
    "display_path",
    "drifted",
    "expand_sweep",
    "extra_config_dirs",
    "find_group_file",
    "group_options",
    "list_command",
    "load_dotenv",
    "normalize_overrides",
    "problems_from_validation",
    "suggest",
    "user_config_dirs",
    "validate_command",
    "write_schemas",
]


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'engine.config' has no attribute {name!r}")
    return getattr(import_module(f"engine.config.{module}"), name)
