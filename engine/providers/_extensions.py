"""Providers from other packages, registered through the `inspect_run.providers` entry point group.

    # the extension's pyproject.toml
    [project.entry-points."inspect_run.providers"]
    myprov = "myprov_ext:create"      # a ProviderFactory, or a ModelAPI subclass

The entry point's name is the provider prefix (`model=myprov/some-model`). Its value is called
like a built-in factory, `(model name, model_args, base-URL override) -> ModelAPI`; a `ModelAPI`
subclass is called with the same three arguments. Entry points are read only when a prefix is not
a built-in one, so `--help` and built-in providers never pay for scanning installed packages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine.providers._api import ModelAPI
from engine.providers._errors import ProviderConfigError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

__all__ = ["ENTRY_POINT_GROUP", "extension_names", "load_extension"]

ENTRY_POINT_GROUP = "inspect_run.providers"


def _entry_points() -> dict[str, EntryPoint]:
    from importlib.metadata import entry_points

    return {point.name: point for point in entry_points(group=ENTRY_POINT_GROUP)}


def extension_names() -> list[str]:
    """Provider prefixes that installed packages register (their code is not imported)."""
    return sorted(_entry_points())


def _package(point: EntryPoint) -> str:
    return point.dist.name if point.dist is not None else point.module


def load_extension(provider: str) -> Callable[[str, dict[str, Any], str | None], ModelAPI] | None:
    """The factory an installed package registers for `provider`, or None when none does.

    A package that fails to import, or registers something that is not a factory, is a
    `ProviderConfigError` naming the package and the entry point.
    """
    point = _entry_points().get(provider)
    if point is None:
        return None
    package = _package(point)
    where = f"provider '{provider}' from package '{package}' (entry point {point.value})"
    try:
        loaded = point.load()
    except Exception as error:
        raise ProviderConfigError(
            f"{where} failed to load: {type(error).__name__}: {error}"
        ) from None
    if not callable(loaded):
        raise ProviderConfigError(
            f"{where} is a {type(loaded).__name__}, not a provider factory or ModelAPI subclass"
        )

    def create(name: str, model_args: dict[str, Any], base_url: str | None) -> ModelAPI:
        try:
            api = loaded(name, model_args, base_url)
        except ProviderConfigError:
            raise
        except Exception as error:
            raise ProviderConfigError(
                f"{where} failed to create {provider}/{name}: {type(error).__name__}: {error}"
            ) from None
        if not isinstance(api, ModelAPI):
            raise ProviderConfigError(
                f"{where} returned a {type(api).__name__}, not an engine.providers.ModelAPI"
            )
        if not getattr(api, "provider", None):
            api.provider = provider
        if not getattr(api, "model_name", None):
            api.model_name = name
        return api

    return create
