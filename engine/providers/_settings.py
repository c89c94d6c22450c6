"""Settings helpers every provider factory uses: environment variables (a credential's value is
remembered for redaction), accounts (pool identity), cloud regions and projects, and `model_args`
checks with a did-you-mean. A leaf of the providers package: it imports no provider module."""

from __future__ import annotations

import hashlib
import inspect
import os
from collections.abc import Callable
from typing import Any

from engine._secrets import is_credential_env_name, remember
from engine.providers._errors import MissingCredentialError, ProviderConfigError
from engine.registry import closest, did_you_mean


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


def expand_url(url: str, model: str) -> str:
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


def aws_account(model_args: dict[str, Any]) -> str:
    """Pools are per AWS identity: the access key id (not secret) or the profile."""
    return account_of(
        env("AWS_ACCESS_KEY_ID") or model_args.get("aws_profile") or env("AWS_PROFILE")
    )


def google_project(model_args: dict[str, Any], key: str, envs: tuple[str, ...], model: str) -> str:
    value = model_args.get(key) or next((v for name in envs if (v := env(name))), None)
    if not value:
        raise MissingCredentialError(
            f"{model} needs model_args.{key} or the environment variable {' or '.join(envs)}"
        )
    return str(value)


GOOGLE_AUTH_HINT = (
    "check the application-default credentials (GOOGLE_APPLICATION_CREDENTIALS or "
    "`gcloud auth application-default login`) and the project's Vertex AI access"
)
