"""Model strings → provider clients. Factories are registered by name and import their SDK lazily."""

from __future__ import annotations

import hashlib
import inspect
import os
from collections.abc import Callable
from typing import Any

from engine._secrets import is_credential_env_name, remember
from engine.messages import Modality
from engine.providers._api import ModelAPI
from engine.providers._errors import MissingCredentialError, ProviderConfigError
from engine.providers._extensions import extension_names, load_extension
from engine.providers._services import COMPATIBLE_SERVICES, CompatibleService, generic_service
from engine.registry import did_you_mean

OPENAI_MODALITIES: frozenset[Modality] = frozenset({"text", "image", "audio"})
"""Chat completions take images and (on audio models) `input_audio`; no video."""

ProviderFactory = Callable[[str, dict[str, Any], "str | None"], ModelAPI]
"""(model name after the provider prefix, model_args, base-URL override) → client."""

_FACTORIES: dict[str, ProviderFactory] = {}

NO_MODEL = "none"


def register_provider(name: str) -> Callable[[ProviderFactory], ProviderFactory]:
    def register(factory: ProviderFactory) -> ProviderFactory:
        _FACTORIES[name] = factory
        return factory

    return register


def provider_names(extensions: bool = True) -> list[str]:
    """Built-in prefixes, and (unless `extensions=False`) those installed packages register."""
    names = {*_FACTORIES, *COMPATIBLE_SERVICES, "openai-api"}
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
    prefix an installed package registers (entry point) is loaded and registered here."""
    provider, _ = split_model(model)
    if provider in provider_names(extensions=False):
        return
    extension = load_extension(provider)  # entry points are read only for a prefix not built in
    if extension is not None:
        _FACTORIES[provider] = extension
        return
    known = provider_names()
    raise ProviderConfigError(
        f"unknown provider '{provider}' in model '{model}'{did_you_mean(provider, known)} "
        f"(known: {', '.join(known)})"
    )


def create_api(model: str, model_args: dict[str, Any], base_url: str | None) -> ModelAPI:
    check_provider(model)
    provider, name = split_model(model)
    factory = _FACTORIES.get(provider)
    if factory is not None:
        return factory(name, model_args, base_url)
    if provider == "openai-api":
        service, sep, service_model = name.partition("/")
        if not sep or not service_model:
            raise ProviderConfigError(
                f"model '{model}' must be openai-api/SERVICE/MODEL (reads SERVICE_BASE_URL, SERVICE_API_KEY)"
            )
        return compatible_api(
            f"openai-api/{service}", service_model, generic_service(service), model_args, base_url
        )
    return compatible_api(provider, name, COMPATIBLE_SERVICES[provider], model_args, base_url)


def account_of(key: str | None) -> str:
    """A short, non-reversible tag so two accounts on one base URL get separate pools."""
    return hashlib.sha256(key.encode()).hexdigest()[:10] if key else ""


def env(name: str) -> str | None:
    """An environment variable; a credential's value is remembered, to be masked wherever it
    would be written or printed, however short."""
    value = os.environ.get(name)
    if value and is_credential_env_name(name):
        remember(value)
    return value if value else None


def require_env(name: str, model: str) -> str:
    value = env(name)
    if value is None:
        raise MissingCredentialError(
            f"{model} needs the environment variable {name} (set it in the environment or a .env file)"
        )
    return value


def _expand_url(url: str, model: str) -> str:
    """Fill `{VAR}` placeholders (Cloudflare's account id) from the environment."""
    while "{" in url:
        start = url.index("{")
        end = url.index("}", start)
        var = url[start + 1 : end]
        url = url[:start] + require_env(var, model) + url[end + 1 :]
    return url


def check_model_args(
    target: Callable[..., Any], model_args: dict[str, Any], model: str, managed: set[str]
) -> None:
    """Unknown `model_args` are a config error naming what `target` accepts (`managed`: ours)."""
    accepted = set(inspect.signature(target).parameters) - {"self", *managed}
    refuse_unknown_args(model_args, accepted, model)


def refuse_unknown_args(
    model_args: dict[str, Any], accepted: set[str], model: str, note: str = ""
) -> None:
    """A config error naming the unknown `model_args`, a did-you-mean and what is accepted."""
    unknown = sorted(set(model_args) - accepted)
    if unknown:
        hint = did_you_mean(unknown[0], accepted)
        raise ProviderConfigError(
            f"model_args {', '.join(unknown)} not accepted by the {model} client{hint} "
            f"(accepted: {', '.join(sorted(accepted))}{note})"
        )


def openai_client(cls: Any, model: str, model_args: dict[str, Any], **settings: Any) -> Any:
    """Build an SDK client with our retry and transport choices and the user's `model_args`."""
    managed = {"api_key", "max_retries", "base_url", "azure_endpoint", "http_client"}
    check_model_args(cls.__init__, model_args, model, managed)
    import openai

    # The SDK's own aiohttp transport rather than its httpx2 default: httpx2's pool probes every
    # idle connection on each request, so CPU per call grows with max_connections (see bench/).
    http_client = openai.DefaultAioHttpClient()
    return cls(**settings, **model_args, max_retries=0, http_client=http_client)


def compatible_api(
    provider: str,
    name: str,
    service: CompatibleService,
    model_args: dict[str, Any],
    base_url: str | None,
) -> ModelAPI:
    import openai

    from engine.providers._openai import OpenAIChatAPI

    model = f"{provider}/{name}"
    url = base_url or env(service.base_url_env) or service.default_base_url
    if url is None:
        raise ProviderConfigError(
            f"{model} needs a base URL: set {service.base_url_env} or model_base_url="
        )
    url = _expand_url(url, model)
    key = require_env(service.key_env, model) if service.key_required else env(service.key_env)
    client = openai_client(
        openai.AsyncOpenAI, model, model_args, api_key=key or "not-needed", base_url=url
    )
    return OpenAIChatAPI(
        provider,
        name,
        client,
        base_url=url,
        account=account_of(key),
        native=False,
        modalities=service.modalities,
        structured_output=service.structured_output,
        batch=service.batch,
    )


@register_provider("openai")
def _openai(name: str, model_args: dict[str, Any], base_url: str | None) -> ModelAPI:
    import openai

    from engine.providers._openai import OpenAIChatAPI

    if name.startswith("azure/"):
        deployment = name.removeprefix("azure/")
        model = f"openai/azure/{deployment}"
        endpoint = base_url or require_env("AZUREAI_OPENAI_BASE_URL", model)
        key = require_env("AZUREAI_OPENAI_API_KEY", model)
        args = dict(model_args)
        args.setdefault("api_version", env("AZUREAI_OPENAI_API_VERSION") or "2025-03-01-preview")
        client = openai_client(
            openai.AsyncAzureOpenAI, model, args, api_key=key, azure_endpoint=endpoint
        )
        return OpenAIChatAPI(
            "openai",
            name,
            client,
            base_url=endpoint,
            account=account_of(key),
            native=True,
            request_model=deployment,
            modalities=OPENAI_MODALITIES,
        )
    model = f"openai/{name}"
    key = require_env("OPENAI_API_KEY", model)
    url = base_url or env("OPENAI_BASE_URL") or "https://api.openai.com/v1"
    client = openai_client(openai.AsyncOpenAI, model, model_args, api_key=key, base_url=url)
    return OpenAIChatAPI(
        "openai",
        name,
        client,
        base_url=url,
        account=account_of(key),
        native=True,
        modalities=OPENAI_MODALITIES,
        batch=True,
    )


@register_provider("llama-cpp-python")
def _llama_cpp(name: str, model_args: dict[str, Any], base_url: str | None) -> ModelAPI:
    service = COMPATIBLE_SERVICES["llama-cpp-python"]
    if base_url or env(service.base_url_env):
        return compatible_api("llama-cpp-python", name, service, model_args, base_url)
    from engine.providers._llama_cpp import LlamaCppAPI

    return LlamaCppAPI(name, model_args)


@register_provider("hf")
def _hf(name: str, model_args: dict[str, Any], base_url: str | None) -> ModelAPI:
    from engine.providers._hf import HuggingFaceAPI

    return HuggingFaceAPI(name, model_args)


@register_provider("anthropic")
def _anthropic(name: str, model_args: dict[str, Any], base_url: str | None) -> ModelAPI:
    import anthropic

    from engine.providers._anthropic import AnthropicAPI, prompt_cache_control
    from engine.providers._streaming import stream_setting

    if "/" in name:  # a cloud platform: anthropic/bedrock/…, anthropic/vertex/…
        from engine.providers._clouds import anthropic_platform

        return anthropic_platform(name, model_args, base_url)
    model = f"anthropic/{name}"
    key = require_env("ANTHROPIC_API_KEY", model)
    url = base_url or env("ANTHROPIC_BASE_URL") or "https://api.anthropic.com"
    managed = {"api_key", "auth_token", "max_retries", "base_url", "http_client"}
    args = dict(model_args)
    # Ours, not the SDK's:
    cache_control = prompt_cache_control(args.pop("cache_prompt", False))
    stream = stream_setting(args.pop("stream", "auto"), model)
    check_model_args(anthropic.AsyncAnthropic.__init__, args, model, managed)
    # The SDK's aiohttp transport, as for OpenAI (httpx2's pool costs CPU per idle connection).
    client = anthropic.AsyncAnthropic(
        **args,
        api_key=key,
        base_url=url,
        max_retries=0,
        http_client=anthropic.DefaultAioHttpClient(),
    )
    return AnthropicAPI(
        name,
        client,
        base_url=url,
        account=account_of(key),
        cache_control=cache_control,
        stream=stream,
    )


@register_provider("google")
def _google(name: str, model_args: dict[str, Any], base_url: str | None) -> ModelAPI:
    from google import genai
    from google.genai import types

    from engine.providers._google import GoogleAPI, safety_settings
    from engine.providers._streaming import stream_setting

    platform, sep, rest = name.partition("/")
    if (env("GOOGLE_GENAI_USE_VERTEXAI") or "").lower() == "true" and platform != "vertex":
        platform, sep, rest = "vertex", "/", name  # as Inspect: the flag means Vertex AI
    if sep:  # google/vertex/…; Gemini's own names may be `models/…` or `tunedModels/…`
        from engine.providers._clouds import google_vertex, misspelt_platform

        if platform == "vertex":
            return google_vertex(rest, model_args, base_url)
        hint = misspelt_platform("google", platform, ("vertex",))
        if hint is not None:
            raise ProviderConfigError(
                f"unknown Google platform '{platform}' in 'google/{name}'; did you mean {hint}?"
            )
    model = f"google/{name}"
    key = env("GOOGLE_API_KEY") or env("GEMINI_API_KEY")
    if key is None:
        raise MissingCredentialError(
            f"{model} needs the environment variable GOOGLE_API_KEY or GEMINI_API_KEY "
            "(set it in the environment or a .env file)"
        )
    url = base_url or env("GOOGLE_BASE_URL") or "https://generativelanguage.googleapis.com"
    args = dict(model_args)
    safety = (
        safety_settings(args.pop("safety_settings"), model) if "safety_settings" in args else None
    )
    api_version = args.pop("api_version", None)  # else GOOGLE_GENAI_API_VERSION, else v1
    stream = stream_setting(args.pop("stream", "auto"), model)
    vertex_only = sorted({"project", "location"} & set(args))
    if vertex_only:
        raise ProviderConfigError(
            f"model_args {', '.join(vertex_only)} on {model}: the Gemini API has no project or "
            f"location; they are Vertex AI's: use google/vertex/{name} "
            "(or set GOOGLE_GENAI_USE_VERTEXAI=true, as in Inspect)"
        )
    # The client's other arguments are SDK objects (credentials, debug_config) YAML cannot hold.
    refuse_unknown_args(model_args, {"safety_settings", "api_version", "stream"}, model)
    # No SDK retries (the pool retries); attempts=1 also stops its hidden reconnect-after-sleep.
    http_options = types.HttpOptions(
        base_url=url, api_version=api_version, retry_options=types.HttpRetryOptions(attempts=1)
    )
    client = genai.Client(**args, vertexai=False, api_key=key, http_options=http_options)
    return GoogleAPI(
        name,
        client,
        base_url=url,
        account=account_of(key),
        safety_settings=safety,
        stream=stream,
    )


@register_provider("mockllm")
def _mockllm(name: str, model_args: dict[str, Any], base_url: str | None) -> ModelAPI:
    from engine.providers._mockllm import create_mockllm

    return create_mockllm(name, model_args, base_url)
