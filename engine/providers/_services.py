"""OpenAI-compatible services are data, not classes: prefix → key env var, base-URL env var, default."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from engine.messages import Modality

StructuredOutput = Literal["json_schema", "json_object"] | None
"""How a service takes `response_schema`: OpenAI's `{type: json_schema, json_schema: {name, schema,
strict}}`, llama-cpp-python's `{type: json_object, schema}`, or not at all."""

TEXT_AND_IMAGES: frozenset[Modality] = frozenset({"text", "image"})
ALL_MODALITIES: frozenset[Modality] = frozenset({"text", "image", "audio", "video"})


@dataclass(frozen=True, slots=True)
class CompatibleService:
    key_env: str
    base_url_env: str
    default_base_url: str | None
    key_required: bool = True
    """Local servers (vLLM, Ollama, …) usually run without a key."""
    modalities: frozenset[Modality] = TEXT_AND_IMAGES
    """What the service's chat endpoint takes (whether a given model reads it is the model's
    business: a text-only model's 400 fails its samples with the server's reason)."""
    structured_output: StructuredOutput = "json_schema"
    """None: `response_schema` is reported unsupported and not sent (replies are still validated)."""
    batch: bool = False
    """The service offers OpenAI's Batch API endpoints (`batch=on` uses them)."""


COMPATIBLE_SERVICES: dict[str, CompatibleService] = {
    "grok": CompatibleService("GROK_API_KEY", "GROK_BASE_URL", "https://api.x.ai/v1"),
    "deepseek": CompatibleService(
        "DEEPSEEK_API_KEY",
        "DEEPSEEK_BASE_URL",
        "https://api.deepseek.com/v1",
        modalities=frozenset({"text"}),
        structured_output=None,  # JSON mode (`json_object`) without a schema only
    ),
    "mistral": CompatibleService(
        "MISTRAL_API_KEY", "MISTRAL_BASE_URL", "https://api.mistral.ai/v1"
    ),
    "perplexity": CompatibleService(
        "PERPLEXITY_API_KEY", "PERPLEXITY_BASE_URL", "https://api.perplexity.ai"
    ),
    "groq": CompatibleService(
        "GROQ_API_KEY", "GROQ_BASE_URL", "https://api.groq.com/openai/v1", batch=True
    ),
    "together": CompatibleService(
        "TOGETHER_API_KEY", "TOGETHER_BASE_URL", "https://api.together.xyz/v1"
    ),
    "fireworks": CompatibleService(
        "FIREWORKS_API_KEY", "FIREWORKS_BASE_URL", "https://api.fireworks.ai/inference/v1"
    ),
    "cloudflare": CompatibleService(
        "CLOUDFLARE_API_TOKEN",
        "CLOUDFLARE_BASE_URL",
        "https://api.cloudflare.com/client/v4/accounts/{CLOUDFLARE_ACCOUNT_ID}/ai/v1",
    ),
    "openrouter": CompatibleService(
        "OPENROUTER_API_KEY", "OPENROUTER_BASE_URL", "https://openrouter.ai/api/v1"
    ),
    "hf-inference-providers": CompatibleService(
        "HF_TOKEN", "HF_INFERENCE_PROVIDERS_BASE_URL", "https://router.huggingface.co/v1"
    ),
    "vllm": CompatibleService(
        "VLLM_API_KEY",
        "VLLM_BASE_URL",
        "http://localhost:8000/v1",
        key_required=False,
        modalities=ALL_MODALITIES,
    ),
    "sglang": CompatibleService(
        "SGLANG_API_KEY",
        "SGLANG_BASE_URL",
        "http://localhost:30000/v1",
        key_required=False,
        modalities=ALL_MODALITIES,
    ),
    "ollama": CompatibleService(
        "OLLAMA_API_KEY", "OLLAMA_BASE_URL", "http://localhost:11434/v1", key_required=False
    ),
    # No default URL: without LLAMA_CPP_PYTHON_BASE_URL the model is loaded in process.
    "llama-cpp-python": CompatibleService(
        "LLAMA_CPP_PYTHON_API_KEY",
        "LLAMA_CPP_PYTHON_BASE_URL",
        None,
        key_required=False,
        structured_output="json_object",  # its server refuses `json_schema`
    ),
}


def generic_service(service: str) -> CompatibleService:
    """`openai-api/SERVICE/MODEL` reads `SERVICE_BASE_URL` and `SERVICE_API_KEY`."""
    prefix = service.upper().replace("-", "_")
    return CompatibleService(f"{prefix}_API_KEY", f"{prefix}_BASE_URL", None)
