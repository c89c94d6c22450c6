"""user_message, chain_of_thought, multiple_choice, self_critique and chain, on a local server."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest

from engine.config import ConnectionConfig, GenerationConfig
from engine.datasets import Sample
from engine.messages import ContentImage, ContentText, user
from engine.models import ModelHub
from engine.registry import RegistryError
from engine.solvers import (
    TaskState,
    answer_letters,
    chain_of_thought,
    multiple_choice,
    self_critique,
    solvers,
    user_message,
)
from tests.solvers.test_builtins import run, start
from tests.support.openai_server import OpenAIServer, Request, echo

CHOICES = ["Lyon", "Paris", "Nice", "Lille"]


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIServer]:
    with OpenAIServer(responder=echo) as running:
        monkeypatch.setenv("VLLM_BASE_URL", running.base_url)
        yield running


def solve_with(solver: object, state: TaskState, roles: dict[str, str] | None = None) -> TaskState:
    """Run `solver` with vllm/test-model under test and `roles` bound to vllm/<name>."""

    async def main() -> TaskState:
        hub = ModelHub(ConnectionConfig(max_retries=0))
        try:
            state.model = hub.get("vllm/test-model", GenerationConfig())
            state.roles = {
                role: hub.get(f"vllm/{name}", GenerationConfig())
                for role, name in (roles or {}).items()
            }
            return await solver(state)  # type: ignore[operator, no-any-return]
        finally:
            await hub.aclose()

    return anyio.run(main)


def test_user_message_appends_from_metadata() -> None:
    state = start(Sample("Hi", metadata={"name": "Ada"}))
    state = run(user_message("Also greet {name}, {unknown}."), state)
    assert [m.text for m in state.messages] == ["Hi", "Also greet Ada, {unknown}."]
    assert state.messages[-1].role == "user"


def test_chain_of_thought_asks_for_steps_and_an_answer_line() -> None:
    state = run(chain_of_thought(), start(Sample("What is 6 x 7?")))
    (message,) = state.messages
    assert message.text.startswith("What is 6 x 7?\n\nBefore answering, reason in a step-by-step")
    assert '"ANSWER: $ANSWER"' in message.text


def test_chain_of_thought_keeps_images() -> None:
    image = ContentImage("data:image/png;base64,AAAA")
    sample = Sample([user([ContentText("Count them."), image])])
    (message,) = run(chain_of_thought("{prompt} Think."), start(sample)).messages
    assert message.content == [ContentText("Count them. Think."), image]


LETTER_CASES = [
    # (reply, choices, multiple_correct, letters): Inspect's parse_answers
    ("ANSWER: B", 4, False, ["B"]),
    ("answer: b", 4, False, ["B"]),
    ("**ANSWER: C**", 4, False, ["C"]),
    ("ANSWER: (C)", 4, False, ["C"]),
    ("ANSWER: A, C", 4, True, ["A", "C"]),
    ("ANSWER: AC", 4, True, ["A", "C"]),
    ("ANSWER: C A", 4, True, ["A", "C"]),
    ("ANSWER: A, C", 4, False, []),  # two letters where one was asked for
    ("ANSWER: A\nANSWER: D", 4, False, ["D"]),
    ("ANSWER: E", 4, False, []),
    ("ANSWER: A, E", 4, True, []),  # an invalid letter spoils the answer
    ("I think it is ANSWER: B) Paris", 4, False, ["B"]),
    ("ANSWER: 3", 30, False, ["3"]),  # past Z the choices are numbered
    ("B", 4, False, []),  # no ANSWER: line
    ("", 4, False, []),
]


@pytest.mark.parametrize(("text", "count", "multiple", "letters"), LETTER_CASES)
def test_answer_letters(text: str, count: int, multiple: bool, letters: list[str]) -> None:
    assert answer_letters(text, count, multiple) == letters


def test_multiple_choice_cot_asks_for_steps_and_a_last_answer_line(server: OpenAIServer) -> None:
    server.responder = lambda request: "Paris is the capital.\nANSWER: B"
    sample = Sample("Capital of France?", "B", choices=CHOICES)
    state = solve_with(multiple_choice(cot=True, max_tokens=64), start(sample))
    (request,) = server.chat_requests()
    assert "Think step by step before answering." in request.messages[-1]["content"]
    assert request.body["max_tokens"] == 64
    assert state.selected_choices == ["B"]


def test_multiple_choice_shows_lettered_choices(server: OpenAIServer) -> None:
    server.responder = lambda request: "ANSWER: B"
    sample = Sample("Capital of France?", "B", choices=CHOICES)
    state = solve_with(multiple_choice(), start(sample))
    (request,) = server.chat_requests()
    prompt = request.messages[-1]["content"]
    assert "Capital of France?\n\nA) Lyon\nB) Paris\nC) Nice\nD) Lille" in prompt
    assert "one of A,B,C,D" in prompt
    assert state.selected_choices == ["B"]
    assert state.output is not None and state.output.completion == "ANSWER: B"


def test_multiple_choice_shuffle_maps_letters_back(server: OpenAIServer) -> None:
    def pick_paris(request: Request) -> str:
        prompt = request.messages[-1]["content"]
        line = next(line for line in prompt.splitlines() if line.endswith(") Paris"))
        return f"ANSWER: {line[0]}"

    server.responder = pick_paris
    orders = set()
    for sample_id in range(8):
        sample = Sample("Capital of France?", "B", id=sample_id, choices=CHOICES)
        state = solve_with(multiple_choice(shuffle=True), start(sample))
        assert state.selected_choices == ["B"]  # Paris, in the sample's own order
        prompt = server.chat_requests()[-1].messages[-1]["content"]
        orders.add(tuple(line[3:] for line in prompt.splitlines() if line[1:3] == ") "))
    assert len(orders) > 1  # the order really changes between samples
    again = solve_with(
        multiple_choice(shuffle=True), start(Sample("Q", "B", id=3, choices=CHOICES))
    )
    assert again.selected_choices == ["B"]


def test_multiple_choice_multiple_correct(server: OpenAIServer) -> None:
    server.responder = lambda request: "ANSWER: D, A"
    state = solve_with(
        multiple_choice(multiple_correct=True), start(Sample("Q", ["A", "D"], choices=CHOICES))
    )
    assert "one or more of A,B,C,D" in server.chat_requests()[0].messages[-1]["content"]
    assert state.selected_choices == ["A", "D"]


def test_multiple_choice_needs_choices(server: OpenAIServer) -> None:
    with pytest.raises(ValueError, match="sample 'q1' has no choices"):
        solve_with(multiple_choice(), start(Sample("Q", "A", id="q1")))


def test_self_critique_uses_the_critic_then_revises(server: OpenAIServer) -> None:
    def responder(request: Request) -> str:
        prompt = request.messages[-1]["content"]
        if request.model == "critic-model":
            return "CRITIQUE: it is Paris, not Lyon."
        if "[Critique]: CRITIQUE: it is Paris, not Lyon." in prompt:
            return "Answer: Paris"
        return "Lyon"

    server.responder = responder
    state = start(Sample("Capital of France?", "Paris"))
    state = solve_with(solvers.create("generate")[2], state)
    state = solve_with(self_critique(), state, roles={"critic": "critic-model"})
    models = [request.model for request in server.chat_requests()]
    assert models == ["test-model", "critic-model", "test-model"]
    critique_prompt = server.chat_requests()[1].messages[0]["content"]
    assert "[Question]: Capital of France?" in critique_prompt
    assert "[Answer]: Lyon" in critique_prompt
    assert state.output is not None and state.output.completion == "Answer: Paris"
    assert [m.role for m in state.messages] == ["user", "assistant", "user", "assistant"]


def test_self_critique_needs_an_answer_first(server: OpenAIServer) -> None:
    with pytest.raises(ValueError, match="put `generate` before it"):
        solve_with(self_critique(), start(Sample("Q")))


def test_chain_runs_its_solvers_in_order(server: OpenAIServer) -> None:
    _, _, chained = solvers.create(
        {
            "chain": {
                "solvers": [
                    {"system_message": {"template": "Be brief."}},
                    {"prompt_template": {"template": "Q: {prompt}"}},
                    "generate",
                ]
            }
        }
    )
    state = solve_with(chained, start(Sample("Capital of France?")))
    assert [(m.role, m.text) for m in state.messages] == [
        ("system", "Be brief."),
        ("user", "Q: Capital of France?"),
        ("assistant", "Q: Capital of France?"),
    ]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"chain": {"solvers": ["generat"]}}, "unknown solver 'generat'; did you mean 'generate'"),
        ({"multiple_choice": {"shufle": True}}, "did you mean 'shuffle'"),
        ({"self_critique": {"critique_template": "{question"}}, "cannot be parsed"),
        ({"user_message": {}}, r"missing required argument 'template' \(str\)"),
    ],
)
def test_bad_arguments_fail_at_planning(spec: dict[str, object], message: str) -> None:
    with pytest.raises(RegistryError, match=message):
        solvers.create(spec)  # type: ignore[arg-type]
