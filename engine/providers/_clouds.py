"""Models on cloud platforms, each through the SDK that speaks its wire protocol:

    anthropic/bedrock/MODEL   Claude on AWS Bedrock         anthropic SDK (AsyncAnthropicBedrock)
    anthropic/vertex/MODEL    Claude on Google Vertex AI    anthropic SDK (AsyncAnthropicVertex)
    google/vertex/MODEL       Gemini on Google Vertex AI    google-genai in Vertex mode
    bedrock/MODEL             any Bedrock model             boto3, the Converse API
    azureai/MODEL             Azure AI Foundry models       openai SDK on the model-inference API

Credentials come from each cloud's own chain (AWS: env vars, profile, instance role; Google:
application-default credentials); nothing secret is accepted in `model_args`.
"""

from __future__ import annotations

from typing import Any

from engine.providers._api import ModelAPI
from engine.providers._errors import MissingCredentialError, ProviderConfigError
from engine.providers._registry import (
    account_of,
    check_model_args,
    env,
    refuse_unknown_args,
    register_provider,
)
from engine.providers._streaming import stream_setting
from engine.registry import closest

__all__ = ["ANTHROPIC_PLATFORMS", "anthropic_platform", "google_vertex", "misspelt_platform"]

ANTHROPIC_PLATFORMS = ("bedrock", "vertex")

_AWS_SECRETS = {"api_key", "aws_secret_key", "aws_access_key", "aws_session_token"}
"""Credentials the anthropic Bedrock client would take as arguments: env or profile only."""

AZUREAI_API_VERSION = "2024-05-01-preview"
"""The Azure AI model-inference API version sent when `model_args.api_version` is unset."""


def misspelt_platform(provider: str, platform: str, known: tuple[str, ...]) -> str | None:
    """A did-you-mean hint when `platform` looks like a misspelling of one of `known`."""
    close = closest(platform.lower(), known)
    return f"'{provider}/{close}/…'" if close else None


def require_extra(module: str, extra: str, model: str) -> None:
    """A missing optional SDK is a config error naming the extra that installs it."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise ProviderConfigError(
            f'{model} needs the {module} package: pip install "inspect-run[{extra}]"'
        )


def anthropic_platform(name: str, model_args: dict[str, Any], base_url: str | None) -> ModelAPI:
    """`anthropic/bedrock/MODEL` or `anthropic/vertex/MODEL` (`name` is after `anthropic/`)."""
    platform, _, model = name.partition("/")
    if platform == "bedrock" and model:
        require_extra("boto3", "bedrock", f"anthropic/{name}")
        return _anthropic_bedrock(model, model_args, base_url)
    if platform == "vertex" and model:
        return _anthropic_vertex(model, model_args, base_url)
    hint = misspelt_platform("anthropic", platform, ANTHROPIC_PLATFORMS)
    raise ProviderConfigError(
        f"model 'anthropic/{name}': Anthropic model names have no '/', except on a platform: "
        "anthropic/bedrock/MODEL or anthropic/vertex/MODEL"
        + (f"; did you mean {hint}?" if hint else "")
    )


def aws_region(model_args: dict[str, Any], model: str) -> str:
    """`model_args.aws_region`, else AWS_REGION / AWS_DEFAULT_REGION, else the profile's region."""
    region = model_args.get("aws_region") or env("AWS_REGION") or env("AWS_DEFAULT_REGION")
    if region:
        return str(region)
    import boto3

    try:
        region = boto3.Session(profile_name=model_args.get("aws_profile")).region_name
    except Exception as error:  # botocore's ProfileNotFound and the like
        raise ProviderConfigError(f"{model}: {error}") from None
    if not region:
        raise MissingCredentialError(
            f"{model} needs an AWS region: set AWS_REGION (or AWS_DEFAULT_REGION), "
            "model_args.aws_region, or a region in your AWS profile"
        )
    return str(region)


def _aws_account(model_args: dict[str, Any]) -> str:
    """Pools are per AWS identity: the access key id (not secret) or the profile."""
    return account_of(
        env("AWS_ACCESS_KEY_ID") or model_args.get("aws_profile") or env("AWS_PROFILE")
    )


def _anthropic_bedrock(name: str, model_args: dict[str, Any], base_url: str | None) -> ModelAPI:
    import anthropic

    from engine.providers._anthropic import AnthropicAPI

    model = f"anthropic/bedrock/{name}"
    managed = {*_AWS_SECRETS, "max_retries", "base_url", "http_client"}
    check_model_args(anthropic.AsyncAnthropicBedrock.__init__, model_args, model, managed)
    args = {**model_args, "aws_region": aws_region(model_args, model)}
    url = base_url or env("ANTHROPIC_BEDROCK_BASE_URL") or env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME")
    client = anthropic.AsyncAnthropicBedrock(
        **args, base_url=url, max_retries=0, http_client=anthropic.DefaultAioHttpClient()
    )
    hints = {
        401: "check the AWS credentials",
        403: "check the AWS credentials and that the account has access to this model",
        404: "check the model id and the region",
    }
    # Bedrock streams in AWS's binary event-stream framing, not server-sent events: never stream.
    return AnthropicAPI(
        f"bedrock/{name}",
        client,
        base_url=str(client.base_url),
        account=_aws_account(model_args),
        request_model=name,
        hints=hints,
        stream=False,
        image_urls=False,
        batch=False,
    )


def _google_project(model_args: dict[str, Any], key: str, envs: tuple[str, ...], model: str) -> str:
    value = model_args.get(key) or next((v for name in envs if (v := env(name))), None)
    if not value:
        raise MissingCredentialError(
            f"{model} needs model_args.{key} or the environment variable {' or '.join(envs)}"
        )
    return str(value)


_GOOGLE_AUTH_HINT = (
    "check the application-default credentials (GOOGLE_APPLICATION_CREDENTIALS or "
    "`gcloud auth application-default login`) and the project's Vertex AI access"
)


def _anthropic_vertex(name: str, model_args: dict[str, Any], base_url: str | None) -> ModelAPI:
    import anthropic

    from engine.providers._anthropic import AnthropicAPI

    model = f"anthropic/vertex/{name}"
    managed = {"access_token", "credentials", "max_retries", "base_url", "http_client"}
    args = dict(model_args)
    stream = stream_setting(args.pop("stream", "auto"), model)  # streamRawPredict speaks SSE
    check_model_args(anthropic.AsyncAnthropicVertex.__init__, args, model, managed)
    args["project_id"] = _google_project(
        model_args, "project_id", ("ANTHROPIC_VERTEX_PROJECT_ID", "GOOGLE_CLOUD_PROJECT"), model
    )
    args["region"] = _google_project(
        model_args, "region", ("CLOUD_ML_REGION", "GOOGLE_CLOUD_LOCATION"), model
    )
    # The SDK loads application-default credentials itself, on the first request, in a thread.
    client = anthropic.AsyncAnthropicVertex(
        **args, base_url=base_url, max_retries=0, http_client=anthropic.DefaultAioHttpClient()
    )
    hints = {401: _GOOGLE_AUTH_HINT, 403: _GOOGLE_AUTH_HINT, 404: "check the model and region"}
    return AnthropicAPI(
        f"vertex/{name}",
        client,
        base_url=str(client.base_url),
        account=account_of(args["project_id"]),
        request_model=name,
        hints=hints,
        stream=stream,
        image_urls=False,
        batch=False,
    )


def google_vertex(name: str, model_args: dict[str, Any], base_url: str | None) -> ModelAPI:
    """`google/vertex/MODEL`: google-genai in Vertex mode (`name` is after `google/vertex/`)."""
    from google import genai
    from google.genai import types

    from engine.providers._google import GoogleAPI, safety_settings

    model = f"google/vertex/{name}"
    args = dict(model_args)
    args["project"] = _google_project(model_args, "project", ("GOOGLE_CLOUD_PROJECT",), model)
    args["location"] = model_args.get("location") or env("GOOGLE_CLOUD_LOCATION") or "global"
    safety = (
        safety_settings(args.pop("safety_settings"), model) if "safety_settings" in args else None
    )
    api_version = args.pop("api_version", None)  # the SDK's Vertex default: v1beta1
    stream = stream_setting(args.pop("stream", "auto"), model)
    # The client's other arguments are SDK objects (credentials, debug_config) YAML cannot hold.
    accepted = {"project", "location", "safety_settings", "api_version", "stream"}
    refuse_unknown_args(model_args, accepted, model, "; credentials come from ADC")
    url = base_url or env("GOOGLE_VERTEX_BASE_URL")
    # No SDK retries (the pool retries); application-default credentials are loaded by the SDK.
    http_options = types.HttpOptions(
        base_url=url, api_version=api_version, retry_options=types.HttpRetryOptions(attempts=1)
    )
    client = genai.Client(**args, vertexai=True, http_options=http_options)
    return GoogleAPI(
        f"vertex/{name}",
        client,
        base_url=url or client._api_client._http_options.base_url,
        account=account_of(args["project"]),
        safety_settings=safety,
        stream=stream,
        request_model=name,
        credentials_hint=_GOOGLE_AUTH_HINT,
        batch=False,
    )


@register_provider("bedrock")
def _bedrock(name: str, model_args: dict[str, Any], base_url: str | None) -> ModelAPI:
    from engine.providers._bedrock import BedrockConverseAPI

    model = f"bedrock/{name}"
    require_extra("boto3", "bedrock", model)
    accepted = {"aws_region", "aws_profile"}
    refuse_unknown_args(model_args, accepted, model, "; credentials come from the AWS environment")
    region = aws_region(model_args, model)
    return BedrockConverseAPI(
        name,
        region=region,
        profile=model_args.get("aws_profile"),
        endpoint_url=base_url,
        account=_aws_account(model_args),
    )


@register_provider("azureai")
def _azureai(name: str, model_args: dict[str, Any], base_url: str | None) -> ModelAPI:
    from engine.providers._azureai import (
        ENTRA_SCOPE,
        AzureAIChatAPI,
        azureai_client,
        entra_client,
    )

    model = f"azureai/{name}"
    endpoint = base_url or env("AZUREAI_ENDPOINT_URL") or env("AZURE_AI_API_BASE")
    if endpoint is None:
        raise MissingCredentialError(
            f"{model} needs an endpoint: set AZUREAI_ENDPOINT_URL (e.g. "
            "https://RESOURCE.services.ai.azure.com/models) or model_base_url="
        )
    key = env("AZUREAI_ENDPOINT_KEY") or env("AZURE_AI_API_KEY")
    args = dict(model_args)
    api_version = str(args.pop("api_version", None) or AZUREAI_API_VERSION)
    scope = str(args.pop("entra_scope", None) or ENTRA_SCOPE)
    credential = None
    if key is not None:
        client = azureai_client(
            model, args, api_key=key, base_url=endpoint, api_version=api_version
        )
    else:  # Microsoft Entra ID: a bearer token from DefaultAzureCredential
        client, credential = entra_client(
            model, args, base_url=endpoint, api_version=api_version, scope=scope
        )
    api = AzureAIChatAPI(
        "azureai", name, client, base_url=endpoint, account=account_of(key), native=False
    )
    api.credential = credential
    return api
