"""Hugging Face models in process through `transformers` (the optional `hf` extra).

`hf/ORG/MODEL` is loaded from `model_args.path`, from MODEL when it names a directory, or from the
local Hugging Face cache (`HF_HOME` / `HF_HUB_CACHE`); never from the hub: every load passes
`local_files_only=True`, and a model that is not on disk is a config error before the run.
The config is read at plan time (cheap: it proves the folder holds a model); weights and tokenizer
load on the first request, in a worker thread (`InProcessAPI`), one request at a time.

Mapping: the tokenizer's chat template builds the prompt (without one, as for a base model, the
messages' texts joined by blank lines); `max_tokens` → `max_new_tokens` (256 when
unset); `temperature` 0 or unset → greedy, > 0 → sampling with `temperature`, `top_p`, `top_k`;
`seed` → `transformers.set_seed` before the call; `stop_seqs` → `stop_strings` and the reply is cut
before the first one; `num_choices` → `num_return_sequences` (sampling; greedy answers repeat).
Usage counts the prompt's tokens and each reply's generated tokens.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.config import GenerationConfig
from engine.messages import ChatMessage, Choice, ModelOutput, ModelUsage, assistant
from engine.providers._api import ModelAPI
from engine.providers._errors import ProviderConfigError
from engine.providers._local import DEFAULT_MAX_TOKENS, InProcessAPI
from engine.providers._settings import check_model_args

__all__ = ["HuggingFaceAPI", "locate_model"]


def _model_args(
    path: str | None = None,
    device: str = "cpu",
    dtype: str = "auto",
    revision: str | None = None,
    trust_remote_code: bool = False,
) -> None:
    """What `model_args` an `hf/` model takes (checked against this signature, did-you-mean)."""


def locate_model(name: str, path: str | None, revision: str | None = None) -> Path:
    """The folder holding the model: `path`, NAME as a directory, or its local HF cache snapshot."""
    model = f"hf/{name}"
    if path is not None:
        folder = Path(path).expanduser()
        if not (folder / "config.json").is_file():
            raise ProviderConfigError(
                f"{model}: model_args.path {path} is not a model folder (no config.json)"
            )
        return folder.resolve()
    as_dir = Path(name).expanduser()
    if (as_dir / "config.json").is_file():
        return as_dir.resolve()
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(name, revision=revision, local_files_only=True))
    except (LocalEntryNotFoundError, ValueError, OSError):
        raise ProviderConfigError(
            f"{model}: not in the local Hugging Face cache ({constants.HF_HUB_CACHE}) and no "
            "model_args.path given; inspect-run never downloads models (fetch it first, e.g. "
            f"`hf download {name}`, or point model_args.path at a saved model)"
        ) from None


class HuggingFaceAPI(InProcessAPI):
    provider = "hf"
    label = "transformers"

    def __init__(self, name: str, model_args: dict[str, Any]) -> None:
        model = f"hf/{name}"
        if importlib.util.find_spec("transformers") is None:
            raise ProviderConfigError(f"{model} needs transformers: pip install 'inspect-run[hf]'")
        check_model_args(_model_args, model_args, model, set())
        self.model_name = name
        self.device = str(model_args.get("device", "cpu"))
        self.dtype = str(model_args.get("dtype", "auto"))
        self.revision = model_args.get("revision")
        self.trust_remote_code = bool(model_args.get("trust_remote_code", False))
        self.path = locate_model(name, model_args.get("path"), self.revision)
        self.base_url = f"file://{self.path}"
        import torch
        from transformers import AutoConfig

        if self.dtype != "auto" and not isinstance(getattr(torch, self.dtype, None), torch.dtype):
            raise ProviderConfigError(
                f"{model}: model_args.dtype '{self.dtype}' is not a torch dtype "
                "(e.g. auto, float32, bfloat16, float16)"
            )
        try:
            torch.device(self.device)
        except RuntimeError as error:
            raise ProviderConfigError(f"{model}: model_args.device: {error}") from None

        try:  # reading the config proves the folder holds a model transformers knows
            AutoConfig.from_pretrained(
                self.path, local_files_only=True, trust_remote_code=self.trust_remote_code
            )
        except (OSError, ValueError, KeyError) as error:
            raise ProviderConfigError(
                f"{model}: cannot read the model in {self.path}: {error}"
            ) from None
        super().__init__()

    def load(self) -> tuple[Any, Any]:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # its bars would tear through our display
        options: dict[str, Any] = {
            "local_files_only": True,
            "trust_remote_code": self.trust_remote_code,
        }
        tokenizer = AutoTokenizer.from_pretrained(self.path, **options)
        dtype = self.dtype if self.dtype == "auto" else getattr(torch, self.dtype)
        model: Any = AutoModelForCausalLM.from_pretrained(self.path, dtype=dtype, **options)
        model.to(self.device)
        model.eval()
        return tokenizer, model

    def complete(
        self, loaded: tuple[Any, Any], messages: Sequence[ChatMessage], config: GenerationConfig
    ) -> ModelOutput:
        import torch
        import transformers

        tokenizer, model = loaded
        prompt = _prompt(tokenizer, messages).to(model.device)
        prompt_length = int(prompt["input_ids"].shape[1])
        settings = generation_settings(config)
        if config.seed is not None:
            transformers.set_seed(config.seed)
        stops = config.stop_seqs or []
        if stops:
            settings["stop_strings"] = stops
            settings["tokenizer"] = tokenizer  # stop_strings needs it
        pad = (
            tokenizer.pad_token_id
            if tokenizer.pad_token_id is not None
            else model.config.eos_token_id
        )
        with torch.inference_mode():
            generated = model.generate(**prompt, **settings, pad_token_id=pad)
        eos = _token_ids(model.generation_config.eos_token_id)
        choices, output_tokens = [], 0
        for sequence in generated[:, prompt_length:].tolist():
            tokens = _until_eos(sequence, eos)  # what follows is padding
            output_tokens += len(tokens)
            text, cut = _cut_at_stop(tokenizer.decode(tokens, skip_special_tokens=True), stops)
            # Fewer tokens than allowed: the model ended its answer, or a stop string ended it.
            finished = cut or len(tokens) < settings["max_new_tokens"]
            choices.append(Choice(assistant(text), "stop" if finished else "max_tokens"))
        if len(choices) < (config.num_choices or 1):  # greedy: every choice is the same answer
            choices *= config.num_choices or 1
        usage = ModelUsage(prompt_length, output_tokens, prompt_length + output_tokens)
        return ModelOutput(self.model_name, choices, usage)

    def unsupported(self, config: GenerationConfig) -> list[str]:
        names = (
            "frequency_penalty",
            "presence_penalty",
            "logprobs",
            "top_logprobs",
            "reasoning_effort",
            "reasoning_tokens",
            "response_schema",
            "extra_headers",
            "extra_body",
        )
        # logprobs off (and a zero penalty or budget) asks for nothing
        return [name for name in names if getattr(config, name) not in (None, False)]


def _prompt(tokenizer: Any, messages: Sequence[ChatMessage]) -> Any:
    """The chat template applied (text only); a base model without one gets the texts joined by
    blank lines, as a plain continuation prompt."""
    if tokenizer.chat_template is None:
        return tokenizer("\n\n".join(m.text for m in messages), return_tensors="pt")
    chat = [{"role": m.role, "content": m.text} for m in messages]
    return tokenizer.apply_chat_template(
        chat, add_generation_prompt=True, return_dict=True, return_tensors="pt"
    )


def generation_settings(config: GenerationConfig) -> dict[str, Any]:
    """`model.generate` keyword arguments for our settings (see the module docstring)."""
    settings: dict[str, Any] = {"max_new_tokens": config.max_tokens or DEFAULT_MAX_TOKENS}
    sampling = config.temperature is not None and config.temperature > 0
    settings["do_sample"] = sampling
    if sampling:
        settings["temperature"] = config.temperature
        if config.top_p is not None:
            settings["top_p"] = config.top_p
        if config.top_k is not None:
            settings["top_k"] = config.top_k
        if config.num_choices is not None and config.num_choices > 1:
            settings["num_return_sequences"] = config.num_choices
    else:  # the model's own generation_config may ask for sampling: greedy means greedy
        settings.update(temperature=None, top_p=None, top_k=None)
    return settings


def _token_ids(value: Any) -> set[int]:
    if value is None:
        return set()
    return {int(v) for v in value} if isinstance(value, list | tuple) else {int(value)}


def _until_eos(sequence: list[int], eos: set[int]) -> list[int]:
    """The generated tokens up to and including the first end-of-sequence (then padding)."""
    for index, token in enumerate(sequence):
        if token in eos:
            return sequence[: index + 1]
    return sequence


def _cut_at_stop(text: str, stops: list[str]) -> tuple[str, bool]:
    """The text before the first stop sequence (generation stops on one but keeps it)."""
    found = [text.index(stop) for stop in stops if stop and stop in text]
    return (text[: min(found)], True) if found else (text, False)


def create(name: str, model_args: dict[str, Any], base_url: str | None) -> ModelAPI:
    """`hf/MODEL` in process with transformers: the factory `NATIVE` names."""

    return HuggingFaceAPI(name, model_args)
