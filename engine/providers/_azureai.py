"""Azure AI Foundry models (Llama, Mistral, DeepSeek, Phi, …) on the Azure AI model-inference API.

The wire protocol is OpenAI's chat completions at `{endpoint}/chat/completions?api-version=…` with
the key in an `api-key` header, so the openai SDK speaks it (with our OpenAI mapping) instead of the
beta `azure-ai-inference` package: one tested transport, no new dependency. What differs:

- the key goes in `api-key`, not `Authorization: Bearer` (a client subclass swaps the header);
  without a key, a Microsoft Entra ID token from `DefaultAzureCredential` (azure-identity) goes in
  `Authorization: Bearer`, refreshed by the SDK's api-key provider hook;
- the service rejects parameters outside its spec unless asked to pass them on: a request with any
  (`top_k`, `n`, `logprobs`, `reasoning_effort`, `extra_body` fields…) carries
  `extra-parameters: pass-through`, so the model itself judges them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.config import GenerationConfig
from engine.messages import ChatMessage, ModelOutput
from engine.providers._api import Deferred, ModelAPI
from engine.providers._errors import MissingCredentialError, ProviderConfigError
from engine.providers._openai import OpenAIChatAPI, parse_chat_completion
from engine.providers._sdk import aiohttp_client, post_json
from engine.providers._settings import account_of, check_model_args, env

__all__ = ["ENTRA_SCOPE", "AzureAIChatAPI", "azureai_client", "entra_client"]

SPEC_FIELDS = frozenset(
    {
        "model",
        "messages",
        "frequency_penalty",
        "presence_penalty",
        "temperature",
        "top_p",
        "max_tokens",
        "response_format",
        "stop",
        "stream",
        "tools",
        "tool_choice",
        "seed",
        "modalities",
    }
)
"""The chat-completions parameters the model-inference API defines; others need pass-through."""


ENTRA_SCOPE = "https://cognitiveservices.azure.com/.default"
"""The token scope of Azure AI Foundry endpoints (`model_args.entra_scope` changes it)."""


class AzureAIChatAPI(OpenAIChatAPI):
    """Chat completions on an Azure AI model-inference endpoint."""

    credential: Any = None
    """The Entra ID credential behind the bearer tokens, when there is no key."""

    async def aclose(self) -> None:
        await super().aclose()
        if self.credential is not None:
            await self.credential.close()

    async def generate(
        self, messages: Sequence[ChatMessage], config: GenerationConfig, timeout: float | None
    ) -> ModelOutput:
        body = self.build_request(messages, config)
        headers = {"extra-parameters": "pass-through"} if set(body) - SPEC_FIELDS else None
        data = await post_json(
            self.client, "/chat/completions", body, config, timeout, headers=headers
        )
        return parse_chat_completion(self.model_name, data)


def azureai_client(
    model: str, model_args: dict[str, Any], *, api_key: str, base_url: str, api_version: str
) -> Any:
    """An `openai.AsyncOpenAI` that authenticates with `api-key` and sends `api-version`, made
    on first use (`Deferred`; `model_args` are checked now)."""
    if model_args:
        import openai

        managed = {"api_key", "max_retries", "base_url", "http_client", "default_query"}
        check_model_args(openai.AsyncOpenAI.__init__, model_args, model, managed)

    def make() -> Any:
        import openai

        class AzureAIClient(openai.AsyncOpenAI):
            """The key in `api-key` (as `AsyncAzureOpenAI` sends it), never as a bearer token."""

            def _auth_headers(self, security: Any) -> dict[str, str]:
                return {"api-key": api_key}

            def _validate_headers(self, headers: Any, custom_headers: Any) -> None:
                return None

        return AzureAIClient(
            **model_args,
            api_key=api_key,
            base_url=base_url,
            default_query={"api-version": api_version},
            max_retries=0,
            http_client=aiohttp_client(openai),
        )

    return Deferred(make, ("openai",))


def entra_client(
    model: str, model_args: dict[str, Any], *, base_url: str, api_version: str, scope: str
) -> tuple[Any, Any]:
    """An `openai.AsyncOpenAI` whose bearer token comes from `DefaultAzureCredential`, and that
    credential (environment, workload or managed identity, Azure CLI, …)."""
    import openai

    try:
        from azure.identity.aio import DefaultAzureCredential, get_bearer_token_provider
    except ImportError:
        raise ProviderConfigError(
            f"{model} needs AZUREAI_ENDPOINT_KEY, or Microsoft Entra ID through azure-identity: "
            'pip install "inspect-run[azure]"'
        ) from None
    managed = {"api_key", "max_retries", "base_url", "http_client", "default_query"}
    check_model_args(openai.AsyncOpenAI.__init__, model_args, model, managed)
    credential = DefaultAzureCredential()
    client = openai.AsyncOpenAI(
        **model_args,
        api_key=get_bearer_token_provider(credential, scope),
        base_url=base_url,
        default_query={"api-version": api_version},
        max_retries=0,
        http_client=aiohttp_client(openai),
    )
    return client, credential


AZUREAI_API_VERSION = "2024-05-01-preview"
"""The Azure AI model-inference API version sent when `model_args.api_version` is unset."""


def create(name: str, model_args: dict[str, Any], base_url: str | None) -> ModelAPI:
    """`azureai/MODEL` on the Azure AI model-inference API: the factory `NATIVE` names."""

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
