"""What a planned eval would send and cost, found without sending a request.

The task's own solvers and scorers run on the samples against dry-run models: each generate call is
counted (per model and role), its prompt is the one the provider would receive, and the response
cache is asked whether it already holds the answer; the dry-run answers with the sample's target, so
a grader's prompt has a plausible length. With the cache off only the first `RENDERED` samples are
rendered and the rest extrapolated from their input size; with it on every sample and epoch is
rendered, since a cache key needs the exact prompt.

Tokens are estimated, not counted: input tokens are characters / `CHARS_PER_TOKEN` (measured
against a BPE tokenizer by `bench/plan.py` over the built-in tasks: per prompt from -26 % to
+31 %, over a whole dataset within ±16 %; stated as ±35 %), output
tokens are each call's `max_tokens`, else `DEFAULT_OUTPUT_TOKENS` (an upper bound either way).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.config import GenerationConfig
from engine.datasets import Sample
from engine.messages import ChatMessage, Choice, ModelOutput, assistant
from engine.models import Model
from engine.providers import sample_epoch, sample_target
from engine.runner._plan import EvalPlan

CHARS_PER_TOKEN = 4
"""English text in today's BPE tokenizers: about 4 characters a token."""
DEFAULT_OUTPUT_TOKENS = 512
"""Output tokens assumed for a call without `max_tokens`."""
RENDERED = 50
"""Samples whose prompts are rendered when the cache is off (the rest are extrapolated)."""
FREE_PROVIDERS = frozenset({"mockllm", "hf", "llama-cpp-python", "vllm", "sglang", "ollama"})
"""In-process and self-hosted models: no token price unless the price table gives one."""
TOKEN_ERROR = 0.35
"""The input-token estimate's error bound per prompt (see the module docstring)."""


@dataclass
class Calls:
    """The requests of one model in one role, over a whole job."""

    model: str
    role: str
    """`model` for the model under test, else the role's name (`grader`, `critic`, …)."""
    requests: int = 0
    cached: int = 0
    """Requests the response cache already answers (nothing is sent for them)."""
    input_tokens: int = 0
    output_tokens: int = 0
    """Tokens of the requests that would be sent (cached ones excluded)."""
    batched: bool = False
    cost: float | None = None
    """US dollars at the price table's prices (batch prices when batched); None: no price."""

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class JobEstimate:
    task: str
    model: str
    samples: int
    epochs: int
    calls: list[Calls] = field(default_factory=list)
    estimated: list[str] = field(default_factory=list)
    """Why a figure is an estimate rather than a count (empty: requests are counted)."""
    label: str = ""
    done: int = 0
    """(sample, epoch) pairs an interrupted run already scored (not counted again)."""

    @property
    def requests(self) -> int:
        return sum(c.requests for c in self.calls)

    @property
    def tokens(self) -> int:
        return sum(c.input_tokens + c.output_tokens for c in self.calls)

    @property
    def cost(self) -> float | None:
        costs = [c.cost for c in self.calls if c.requests > c.cached]
        return None if any(c is None for c in costs) else sum(c or 0.0 for c in costs)

    def per_sample(self) -> tuple[float | None, float]:
        """(cost, tokens) of one (sample, epoch): what a budget sets aside for a sample."""
        units = max(1, (self.samples * self.epochs) - self.done)
        cost = self.cost
        return (None if cost is None else cost / units), self.tokens / units

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "task": self.task,
            "model": self.model,
            "samples": self.samples,
            "epochs": self.epochs,
            "already_scored": self.done,
            "requests": self.requests,
            "tokens": self.tokens,
            "cost": self.cost,
            "estimated": self.estimated,
            "calls": [c.to_json() for c in self.calls],
        }


@dataclass
class _Seen:
    requests: int = 0
    cached: int = 0
    chars: int = 0
    output_tokens: int = 0


class _Recorder:
    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], _Seen] = {}
        self.batched: set[str] = set()
        self.media = False


class _DryRun(Model):
    """A planned model that records each call it would make and answers without sending it."""

    def __init__(self, real: Model, recorder: _Recorder) -> None:
        super().__init__(real.api, real.pool, real.generation, real.cache, None)
        self.name = real.name
        self.role = real.role
        self.recorder = recorder
        if real.batcher is not None:
            recorder.batched.add(real.name)

    async def generate(
        self, messages: Sequence[ChatMessage], config: GenerationConfig | None = None
    ) -> ModelOutput:
        settings, messages = self.call_of(messages, config)
        seen = self.recorder.seen.setdefault((self.name, self.role or "model"), _Seen())
        seen.requests += 1
        store = self.cache.store if self.cache is not None else None
        key = self.cache.key(self.api, messages, settings) if store and self.cache else None
        if store is not None and key is not None and store.get(key) is not None:
            seen.cached += 1
            return _answer(self.name)
        seen.chars += sum(len(m.text) for m in messages)
        self.recorder.media |= any(m.modalities - {"text"} for m in messages)
        seen.output_tokens += settings.max_tokens or DEFAULT_OUTPUT_TOKENS
        return _answer(self.name)


def _answer(model: str) -> ModelOutput:
    target = sample_target.get() or [""]
    return ModelOutput(model, [Choice(assistant(target[0] if target else ""))])


def _dry_plan(plan: EvalPlan, recorder: _Recorder) -> EvalPlan:
    """The plan with every model swapped for its dry run (one dry run per real model)."""
    made: dict[int, _DryRun] = {}

    def dry(model: Model) -> _DryRun:
        return made.setdefault(id(model), _DryRun(model, recorder))

    return dataclasses.replace(
        plan,
        model=dry(plan.model) if plan.model is not None else None,
        roles={role: dry(m) for role, m in plan.roles.items()},
        role_lists={role: [dry(m) for m in ms] for role, ms in plan.role_lists.items()},
    )


def input_chars(sample: Sample) -> int:
    if isinstance(sample.input, str):
        return len(sample.input)
    return sum(len(message.text) for message in sample.input)


async def estimate_job(
    plan: EvalPlan, done: int = 0, label: str = "", *, lookup: bool = True
) -> JobEstimate:
    """Render the plan's prompts against dry-run models and total what would be sent.

    Without `lookup`, only the first samples are rendered even with the cache on (a budget only
    needs the cost of a typical sample)."""
    from engine.runner._run import _attempt

    config = plan.config
    epochs = config.epochs
    every = lookup and plan.hub.response_cache is not None
    recorder = _Recorder()
    dry = _dry_plan(plan, recorder)
    scorer_names = [component.name for component, _ in plan.scorers]
    failed: list[str] = []
    rendered_units = rendered_chars = total_chars = 0
    samples = iter(plan.samples)
    head = list(itertools.islice(samples, None if every else RENDERED))
    for sample in head:
        rendered_chars += input_chars(sample) * (epochs if every else 1)
        for epoch in range(1, (epochs if every else 1) + 1):
            sample_epoch.set(epoch)
            _, _, error, _ = await _attempt(dry, sample, epoch, scorer_names)
            rendered_units += 1
            if error is not None and len(failed) < 3:
                failed.append(f"sample {sample.id!r}: {type(error).__name__}: {error}")
    total_chars = plan.samples.input_chars * epochs  # counted when the plan read the samples
    units = len(plan.samples) * epochs
    estimate = JobEstimate(config.task.name, plan.model_name, len(plan.samples), epochs)
    estimate.label, estimate.done = label, done
    share = 1.0 - done / units if units else 1.0
    for (name, role), seen in recorder.seen.items():
        per_unit = seen.requests / rendered_units
        overhead = (seen.chars - per_unit * rendered_chars) / rendered_units
        chars = seen.chars + per_unit * (total_chars - rendered_chars)
        chars += overhead * (units - rendered_units)
        scale = units / rendered_units
        calls = Calls(
            name,
            role,
            requests=round(seen.requests * scale * share),
            cached=round(seen.cached * share) if every else 0,
            input_tokens=math.ceil(max(0.0, chars) * share / CHARS_PER_TOKEN),
            output_tokens=round(seen.output_tokens * scale * share),
            batched=name in recorder.batched,
        )
        calls.cost = _cost(calls, config.prices)
        estimate.calls.append(calls)
    _explain(estimate, plan, rendered_units < units, failed, recorder.media)
    return estimate


def _explain(
    estimate: JobEstimate, plan: EvalPlan, extrapolated: bool, failed: list[str], media: bool
) -> None:
    notes = estimate.estimated
    notes.append(
        f"input tokens are characters / {CHARS_PER_TOKEN} (about ±{TOKEN_ERROR:.0%} per prompt); "
        f"output tokens are max_tokens (else {DEFAULT_OUTPUT_TOKENS}), an upper bound"
    )
    if extrapolated:
        notes.append(
            f"prompts of the first {RENDERED} samples rendered, the rest extrapolated from their "
            "input size (cache=on renders every one)"
        )
    if media:
        notes.append("images, audio and video in prompts are not counted as tokens")
    own = [
        component.registered
        for component, _ in [*plan.solvers, *plan.scorers]
        if ":" in component.registered or "." in component.registered
    ]
    if own:
        notes.append(
            f"requests of your own components ({', '.join(own)}) are counted on a placeholder "
            "answer (the sample's target): calls that depend on real answers may differ"
        )
    for reason in failed:
        notes.append(f"{reason} on the placeholder answer: its later requests are not counted")


def price_of(prices: dict[str, Any], model: str) -> dict[str, Any] | None:
    """The model's price (a free provider's is zero unless the table gives one); None: none."""
    from engine._prices import find_price

    found = find_price({k: _plain(v) for k, v in prices.items()}, model)
    if found is None and model.split("/", 1)[0] in FREE_PROVIDERS:
        return {"input": 0.0, "output": 0.0}
    return found


def _plain(price: Any) -> dict[str, Any]:
    return price.model_dump() if hasattr(price, "model_dump") else dict(price)


def _cost(calls: Calls, prices: dict[str, Any]) -> float | None:
    from engine._prices import usage_cost

    price = price_of(prices, calls.model)
    if price is None:
        return None
    used = {"input_tokens": calls.input_tokens, "output_tokens": calls.output_tokens}
    return usage_cost(used, price, calls.batched)
