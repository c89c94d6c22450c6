"""Configuration: Hydra composes the YAML groups, pydantic validates the whole tree."""

from engine.config._schema import (
    BatchConfig,
    ConnectionConfig,
    DatasetConfig,
    DatasetFields,
    GenerationConfig,
    ResponseSchema,
    RoleConfig,
    RunConfig,
    TaskConfig,
)

__all__ = [
    "BatchConfig",
    "ConnectionConfig",
    "DatasetConfig",
    "DatasetFields",
    "GenerationConfig",
    "ResponseSchema",
    "RoleConfig",
    "RunConfig",
    "TaskConfig",
]


def __getattr__(name: str) -> object:
    """Hydra-backed helpers load on first use, so importing the schema stays cheap."""
    if name in ("compose_config", "expand_sweep", "load_dotenv", "Composed"):
        from engine.config import _compose

        return getattr(_compose, name)
    if name in ("ConfigError", "Problem", "EXIT_BAD_CONFIG"):
        from engine.config import _errors

        return getattr(_errors, name)
    raise AttributeError(name)
