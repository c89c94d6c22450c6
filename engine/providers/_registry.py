"""Model strings → provider clients, through one lookup: a prefix is a native provider (`NATIVE`,
`module:factory`, imported on first use so no SDK loads before a model of it is made), an
OpenAI-compatible service (data: `_services.py`), or an installed package's entry point
(`_extensions.py`, read only for a prefix that is neither).

Models on cloud platforms go through the SDK that speaks their wire protocol:

    anthropic/bedrock/MODEL   Claude on AWS Bedrock         anthropic SDK (AsyncAnthropicBedrock)
    anthropic/vertex/MODEL    Claude on Google Vertex AI    anthropic SDK (AsyncAnthropicVertex)
    google/vertex/MODEL       Gemini on Google Vertex AI    google-genai in Vertex mode
    bedrock/MODEL             any Bedrock model             boto3, the Converse API
    azureai/MODEL             Azure AI Foundry models       openai SDK on the model-inference API

Credentials come from each cloud's own chain (AWS: env vars, profile, instance role; Google:
application-default credentials); nothing secret is accepted in `model_args`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from engine.providers._api import ModelAPI
from engine.providers._errors import ProviderConfigError
from engine.providers._extensions import extension_names, load_extension
from engine.providers._services import COMPATIBLE_SERVICES, generic_service
from engine.registry import did_you_mean

ProviderFactory = Callable[[str, dict[str, Any], "str | None"], ModelAPI]
"""(model name after the provider prefix, model_args, base-URL override) → client."""

NATIVE: dict[str, str] = {
    "anthropic": "engine.providers._anthropic:create",
    "azureai": "engine.providers._azureai:create",
    "bedrock": "engine.providers._bedrock:create",
    "google": "engine.providers._google:create",
    "hf": "engine.providers._hf:create",
    "llama-cpp-python": "engine.providers._llama_cpp:create",
    "mockllm": "engine.providers._mockllm:create_mockllm",
    "openai": "engine.providers._openai:create",
}
"""Every native provider: prefix → `module:factory`, a `ProviderFactory` in the provider's module."""

_EXTENSIONS: dict[str, ProviderFactory] = {}
"""Entry-point factories loaded so far (installed packages are scanned once per prefix)."""

NO_MODEL = "none"


def provider_names(extensions: bool = True) -> list[str]:
    """Built-in prefixes, and (unless `extensions=False`) those installed packages register."""
    names = {*NATIVE, *COMPATIBLE_SERVICES, "openai-api", *_EXTENSIONS}
    return sorted(names | set(extension_names()) if extensions else names)


def split_model(model: str) -> tuple[str, str]:
    """`provider/name…` split on the first `/`; the name keeps any further `/` and `:` suffixes."""
    provider, sep, name = model.partition("/")
    if not sep or not provider or not name:
        raise ProviderConfigError(
            f"model '{model}' is not of the form provider/name (e.g. openai/gpt-4o-mini)"
        )
    return provider, name


def check_provider(model: str) -> None:
    """Raise a did-you-mean error for an unknown provider prefix, without importing any SDK; a
    prefix an installed package registers (entry point) is loaded here."""
    provider, _ = split_model(model)
    if provider in provider_names(extensions=False):
        return
    extension = load_extension(provider)  # entry points are read only for a prefix not built in
    if extension is not None:
        _EXTENSIONS[provider] = extension
        return
    known = provider_names()
    raise ProviderConfigError(
        f"unknown provider '{provider}' in model '{model}'{did_you_mean(provider, known)} "
        f"(known: {', '.join(known)})"
    )


def create_api(model: str, model_args: dict[str, Any], base_url: str | None) -> ModelAPI:
    check_provider(model)
    provider, name = split_model(model)
    return _factory(provider)(name, model_args, base_url)


def _factory(provider: str) -> ProviderFactory:
    """The factory for a known prefix (native, compatible service or loaded extension)."""
    target = NATIVE.get(provider)
    if target is not None:
        module, _, attribute = target.partition(":")
        factory: ProviderFactory = getattr(importlib.import_module(module), attribute)
        return factory
    if provider in _EXTENSIONS:
        return _EXTENSIONS[provider]
    from engine.providers._openai import compatible_api

    if provider == "openai-api":

        def generic(name: str, model_args: dict[str, Any], base_url: str | None) -> ModelAPI:
            service, sep, service_model = name.partition("/")
            if not sep or not service_model:
                raise ProviderConfigError(
                    f"model 'openai-api/{name}' must be openai-api/SERVICE/MODEL "
                    "(reads SERVICE_BASE_URL, SERVICE_API_KEY)"
                )
            return compatible_api(
                f"openai-api/{service}",
                service_model,
                generic_service(service),
                model_args,
                base_url,
            )

        return generic
    service = COMPATIBLE_SERVICES[provider]
    return lambda name, model_args, base_url: compatible_api(
        provider, name, service, model_args, base_url
    )
