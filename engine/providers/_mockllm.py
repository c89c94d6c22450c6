"""`mockllm/model`: a model that answers without any network, for dry runs of a config repo in CI.

It answers with the sample's target (default; several targets are joined with ", "), with a fixed
`reply` (`{target}` in it is the target), or with what a reply function in a task directory
returns (`reply_fn: FILE.py:FUNCTION`, called with the conversation and the target list; sync or
async, returning text). Usage numbers are plausible (about four characters per token), so cost
columns and usage totals are exercised too.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any

from engine.config import GenerationConfig
from engine.messages import ChatMessage, Choice, ModelOutput, ModelUsage, assistant
from engine.providers._api import ModelAPI
from engine.providers._errors import Classified, ErrorKind, ProviderConfigError
from engine.providers._sample import sample_target

ReplyFunction = Callable[[list[ChatMessage], list[str]], Any]


def _tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4)) if text else 0


class MockLLMAPI(ModelAPI):
    provider = "mockllm"
    modalities = frozenset({"text", "image", "audio", "video"})

    def __init__(
        self, model_name: str, reply: str | None = None, reply_fn: str | None = None
    ) -> None:
        if reply is not None and reply_fn is not None:
            raise ProviderConfigError(
                f"mockllm/{model_name}: give model_args.reply or model_args.reply_fn, not both"
            )
        self.model_name = model_name
        self.reply = reply
        self.function = _load_reply_function(reply_fn) if reply_fn is not None else None

    async def generate(
        self, messages: Sequence[ChatMessage], config: GenerationConfig, timeout: float | None
    ) -> ModelOutput:
        target = sample_target.get() or []
        if self.function is not None:
            text = self.function(list(messages), list(target))
            if inspect.isawaitable(text):
                text = await text
            text = str(text)
        elif self.reply is not None:
            text = self.reply.replace("{target}", ", ".join(target))
        else:
            text = ", ".join(target)
        prompt = sum(_tokens(message.text) + 4 for message in messages)
        completion = _tokens(text)
        usage = ModelUsage(prompt, completion, prompt + completion)
        return ModelOutput(f"mockllm/{self.model_name}", [Choice(assistant(text))], usage)

    def classify(self, error: BaseException) -> Classified:
        return Classified(ErrorKind.FATAL, f"mockllm failed: {type(error).__name__}: {error}")


def _load_reply_function(reference: str) -> ReplyFunction:
    from engine._usercode import UserCodeError, load_user_module, split_reference

    what = f"mockllm model_args.reply_fn {reference!r}"
    try:
        file, name = split_reference(reference, "mockllm model_args.reply_fn")
        module, path = load_user_module(file, what)
    except UserCodeError as error:
        raise ProviderConfigError(str(error)) from None
    function = getattr(module, name or "reply", None)
    if not callable(function):
        raise ProviderConfigError(f"{what}: {path} has no function {name or 'reply'!r}")
    found: ReplyFunction = function
    return found


def create_mockllm(name: str, model_args: dict[str, Any], base_url: str | None) -> ModelAPI:
    from engine.providers._settings import check_model_args

    check_model_args(MockLLMAPI.__init__, model_args, f"mockllm/{name}", {"model_name"})
    for key in ("reply", "reply_fn"):
        if key in model_args and not isinstance(model_args[key], str):
            raise ProviderConfigError(
                f"mockllm/{name}: model_args.{key} must be a string, "
                f"got {type(model_args[key]).__name__}"
            )
    return MockLLMAPI(name, **model_args)
