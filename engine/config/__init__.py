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
    from engine.config._gate_checks import (
        GRADER_METRICS,
        OPERATORS,
        RUN_METRICS,
        Check,
        parse_check,
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
        CONFIG_PATH_VAR,
        display_path,
        extra_config_dirs,
        find_group_file,
        group_options,
        missing_config_path,
        search_dirs,
        user_config_dirs,
    )
    from engine.config._validate import check_file, schema_of_file

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
    "check_file": "_validate",
    "schema_of_file": "_validate",
    "Check": "_gate_checks",
    "parse_check": "_gate_checks",
    "RUN_METRICS": "_gate_checks",
    "GRADER_METRICS": "_gate_checks",
    "OPERATORS": "_gate_checks",
    "CONFIG_PATH_VAR": "_searchpath",
    "missing_config_path": "_searchpath",
    "search_dirs": "_searchpath",
    "drifted": "_jsonschema",
    "group_options": "_searchpath",
    "list_command": "_catalog",
    "write_schemas": "_jsonschema",
}

__all__ = [
    "CONFIG_PATH_VAR",
    "EXIT_BAD_CONFIG",
    "GRADER_METRICS",
    "GROUPS",
    "OPERATORS",
    "RUN_METRICS",
    "BatchConfig",
    "BudgetConfig",
    "CacheConfig",
    "Check",
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
    "check_file",
    "compose_config",
    "display_path",
    "drifted",
    "expand_sweep",
    "extra_config_dirs",
    "find_group_file",
    "group_options",
    "list_command",
    "load_dotenv",
    "missing_config_path",
    "normalize_overrides",
    "parse_check",
    "problems_from_validation",
    "schema_of_file",
    "search_dirs",
    "suggest",
    "user_config_dirs",
    "write_schemas",
]


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'engine.config' has no attribute {name!r}")
    return getattr(import_module(f"engine.config.{module}"), name)
