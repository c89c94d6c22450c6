"""Built-in solvers, run against a real `Model` talking to a local OpenAI-compatible server."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import anyio
import pytest

from engine.config import ConnectionConfig, GenerationConfig
from engine.datasets import Sample
from engine.messages import ChatMessage, assistant, system, user
from engine.models import Model, ModelHub
from engine.registry import RegistryError
from engine.solvers import (
    RoleUnboundError,
    Solver,
    TaskState,
    format_template,
    generate,
    prompt_template,
    solvers,
    system_message,
)
from tests.support.openai_server import OpenAIServer, Request, echo

T = TypeVar("T")


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIServer]:
    with OpenAIServer(responder=echo) as running:
        monkeypatch.setenv("VLLM_BASE_URL", running.base_url)
        yield running


def with_model(body: Callable[[Model], Awaitable[T]]) -> T:
    """Run `body` with a fresh vllm/test-model (pointed at the server by VLLM_BASE_URL)."""

    async def main() -> T:
        hub = ModelHub(ConnectionConfig(max_retries=0))
        try:
            return await body(hub.get("vllm/test-model", GenerationConfig()))
        finally:
            await hub.aclose()

    return anyio.run(main)


def start(sample: Sample, model: Model | None = None) -> TaskState:
    return TaskState.start(sample, 1, model, {})


def run(solver: Solver, state: TaskState) -> TaskState:
    async def main() -> TaskState:
        return await solver(state)

    return anyio.run(main)


# ── templates ────────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Hello {name}", "Hello Ada"),
        ("{missing} stays", "{missing} stays"),
        ("{missing!r:>4} and {obj.attr} stay", "{missing!r:>4} and {obj.attr} stay"),
        ('JSON like {"a": 1} survives', 'JSON like {"a": 1} survives'),
        ("{{escaped}} {name}", "{escaped} Ada"),
        ("{count:03d}", "007"),
    ],
)
def test_format_template(template: str, expected: str) -> None:
    assert format_template(template, {"name": "Ada", "count": 7}) == expected


@pytest.mark.parametrize("name", ["system_message", "prompt_template"])
def test_unparseable_template_fails_at_planning(name: str) -> None:
    with pytest.raises(RegistryError, match=r"cannot be parsed .*literal braces as \{\{ \}\}"):
        solvers.create({name: {"template": "oops { here"}})


# ── system_message ───────────────────────────────────────────────────────────────────────────────


def test_system_message_inserted_first_with_metadata() -> None:
    state = start(Sample("What now?", metadata={"persona": "a pirate"}))
    run(system_message("You are {persona}. Keep {unknown} as is."), state)
    assert state.messages == [
        system("You are a pirate. Keep {unknown} as is."),
        user("What now?"),
    ]


def test_system_messages_keep_chain_order_after_existing_ones() -> None:
    state = start(Sample([system("from dataset"), user("hi")]))
    run(system_message("first"), state)
    run(system_message("second"), state)
    assert [m.content for m in state.messages] == ["from dataset", "first", "second", "hi"]


# ── prompt_template ──────────────────────────────────────────────────────────────────────────────


def test_prompt_template_rewrites_last_user_message() -> None:
    state = start(Sample("2+2?", metadata={"style": "tersely"}))
    run(prompt_template("Answer {style}: {prompt}\nEnd with ANSWER: {answer}"), state)
    assert state.messages == [user("Answer tersely: 2+2?\nEnd with ANSWER: {answer}")]


def test_prompt_template_leaves_the_sample_input_alone() -> None:
    conversation = [user("first question"), assistant("an answer"), user("follow-up")]
    sample = Sample(list(conversation))
    state = start(sample)
    run(prompt_template("Q: {prompt}"), state)
    assert [m.content for m in state.messages] == ["first question", "an answer", "Q: follow-up"]
    assert sample.input == conversation
    assert sample.input_text == "follow-up"


def test_prompt_template_without_user_message() -> None:
    state = start(Sample([system("only a system message")]))
    with pytest.raises(ValueError, match="no user message"):
        run(prompt_template("{prompt}"), state)


# ── generate ─────────────────────────────────────────────────────────────────────────────────────


def test_generate_appends_the_reply(server: OpenAIServer) -> None:
    server.responder = lambda request: "four"

    async def body(model: Model) -> TaskState:
        return await generate()(start(Sample("What is 2+2?"), model))

    state = with_model(body)
    assert state.output is not None and state.output.completion == "four"
    assert state.messages == [user("What is 2+2?"), assistant("four")]
    (request,) = server.chat_requests()
    assert request.model == "test-model"
    assert request.messages == [{"role": "user", "content": "What is 2+2?"}]
    assert "temperature" not in request.body


def test_generate_sends_overrides(server: OpenAIServer) -> None:
    async def body(model: Model) -> TaskState:
        solver = generate(temperature=0.0, max_tokens=5, stop_seqs=["\n"])
        return await solver(start(Sample("hi"), model))

    with_model(body)
    (request,) = server.chat_requests()
    assert request.body["temperature"] == 0.0
    assert request.body["max_tokens"] == 5
    assert request.body["stop"] == ["\n"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"temprature": 0.5}, "temprature\n  Extra inputs are not permitted"),
        ({"max_tokens": 0}, "max_tokens\n  Input should be greater than or equal to 1"),
    ],
)
def test_generate_rejects_bad_settings_at_planning(args: dict[str, Any], message: str) -> None:
    with pytest.raises(RegistryError, match="solver 'generate': 1 validation error") as raised:
        solvers.create({"generate": args})
    assert message in str(raised.value)


def test_generate_without_model_under_test() -> None:
    with pytest.raises(RoleUnboundError, match="needs a model under test"):
        run(generate(), start(Sample("hi")))


def test_generate_with_a_role_needs_no_model_under_test(server: OpenAIServer) -> None:
    server.responder = lambda request: "from the role"

    async def body(model: Model) -> TaskState:
        state = TaskState.start(Sample("hi"), 1, None, {"red_team": model})
        return await generate(role="red_team")(state)

    state = with_model(body)
    assert state.output is not None and state.output.completion == "from the role"
    assert len(server.chat_requests()) == 1


def test_chain_from_specs(server: OpenAIServer) -> None:
    """The way a task config builds its chain: specs through the registry, run in order."""
    seen: list[Request] = []

    def responder(request: Request) -> str:
        seen.append(request)
        return "Paris"

    server.responder = responder
    specs: list[Any] = [
        {"system_message": {"template": "You answer {topic} questions."}},
        {"prompt_template": {"template": "Question: {prompt}"}},
        {"generate": {"temperature": 0}},
    ]
    chain = [solvers.create(spec)[2] for spec in specs]

    async def body(model: Model) -> TaskState:
        state = start(Sample("Capital of France?", "Paris", metadata={"topic": "geography"}), model)
        for solver in chain:
            state = await solver(state)
        return state

    state = with_model(body)
    assert seen[0].messages == [
        {"role": "system", "content": "You answer geography questions."},
        {"role": "user", "content": "Question: Capital of France?"},
    ]
    assert state.messages[-1] == ChatMessage("assistant", "Paris", "generate")


def test_registry_names_and_did_you_mean() -> None:
    assert {"generate", "prompt_template", "system_message"} <= set(solvers.names())
    with pytest.raises(RegistryError, match="unknown solver 'generat'; did you mean 'generate'"):
        solvers.get("generat")
    with pytest.raises(RegistryError, match="has no argument 'templat'; did you mean 'template'"):
        solvers.create({"system_message": {"templat": "x"}})
