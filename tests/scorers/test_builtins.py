"""Built-in scorers: text and numeric matching, and a model grader on a local OpenAI server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import pytest

from engine.config import ConnectionConfig, GenerationConfig
from engine.datasets import Sample
from engine.messages import ChatMessage, Choice, ModelOutput, assistant, user
from engine.models import ModelHub
from engine.registry import RegistryError
from engine.scorers import (
    CORRECT,
    INCORRECT,
    PARTIAL,
    Score,
    Scorer,
    includes,
    match,
    model_graded_fact,
    scorers,
)
from engine.solvers import RoleUnboundError, TaskState
from tests.support.openai_server import OpenAIServer, Request, fixed

QUESTION = "What is the capital of France?"


def answered(completion: str | None, target: str | list[str], **sample: Any) -> TaskState:
    """A state after generation: the sample plus the model's `completion` (None: no generation)."""
    state = TaskState.start(Sample(QUESTION, target, **sample), 1, None, {})
    if completion is not None:
        state.output = ModelOutput("test-model", [Choice(assistant(completion))])
    return state


def score(scorer: Scorer, state: TaskState) -> Score:
    async def main() -> Score:
        return await scorer(state)

    return anyio.run(main)


# ── match ────────────────────────────────────────────────────────────────────────────────────────

MATCH_CASES: list[tuple[dict[str, Any], str, str | list[str], bool]] = [
    # (scorer arguments, completion, target, correct?)
    ({}, "The answer is Paris.", "Paris", True),
    ({}, "The answer is   PARIS!!", "paris", True),
    ({}, "  The answer is\n\tParis  ", "Paris", True),
    ({}, "The answer is **Paris**.", "Paris", True),
    ({}, "Answer: `Paris`", "Paris", True),
    ({}, "Paris is the answer.", "Paris", False),
    ({}, "The answer is 14", "4", False),
    ({}, "The answer is newyork", "York", False),
    ({}, "The answer is New York.", "new   york", False),  # as Inspect: spaces are not folded
    ({}, "The answer is 3.4", "4", False),  # a whole number, not its last digit
    ({}, "答案是东京", "东京", True),  # no word boundary inside unspaced scripts
    ({"numeric": True}, "It is 4.2e1 exactly", "42", True),
    ({"numeric": True}, "It is 1e3", "1,000", True),
    ({"numeric": True}, "It is −5", "-5", True),
    ({"numeric": True}, "It is 2½", "2.5", True),
    ({"numeric": True, "location": "exact"}, "1 000 000", "1000000", True),
    ({"numeric": True}, "It is 3.14159", "3.1416", False),  # exact values, not 5 digits
    ({"numeric": True}, "It is 42km", "42", False),  # a number is a whole word, as in Inspect
    ({}, "The answer is Lyon", ["Marseille", "Lyon"], True),
    ({}, "", "Paris", False),
    ({}, "anything", "", False),
    ({"ignore_case": False}, "The answer is paris", "Paris", False),
    ({"ignore_case": False}, "The answer is Paris", "Paris", True),
    ({"location": "begin"}, "Paris, of course.", "paris", True),
    ({"location": "begin"}, "Parisian food", "Paris", False),
    ({"location": "begin"}, "It is Paris", "Paris", False),
    ({"location": "any"}, "I think Paris is right", "paris", True),
    ({"location": "any"}, "Parisian food", "Paris", False),
    ({"location": "any"}, "costs $5 (approx.)", "(approx.)", True),
    ({"location": "exact"}, " paris. ", "Paris", True),
    ({"location": "exact"}, "Paris, France", "Paris", False),
    # numeric
    ({"numeric": True}, "The total is 1,000.", "1000", True),
    ({"numeric": True}, "The total is $1000", "1000", True),
    ({"numeric": True}, "The total is 1000.0", "1000", True),
    ({"numeric": True}, "The total is 1000", "$1,000", True),
    ({"numeric": True}, "The total is 1000", "1000.00", True),
    ({"numeric": True}, "It is -3.5 degrees", "-3.5", True),
    ({"numeric": True}, "It is 3.5 degrees", "-3.5", False),
    ({"numeric": True}, "The total is 10000", "1000", False),
    ({"numeric": True}, "The total is 1000 or 2000", "1000", False),
    ({"numeric": True}, "no numbers here", "1000", False),
    ({"numeric": True, "location": "begin"}, "1000 or 2000", "1,000", True),
    ({"numeric": True, "location": "any"}, "maybe 5, maybe 1,000, maybe 7", "1000", True),
    ({"numeric": True, "location": "exact"}, "$1,000.", "1000", True),
    ({"numeric": True, "location": "exact"}, "1000 dollars", "1000", False),
    ({"numeric": True}, "The answer is Paris", "Paris", True),  # a non-number target: text match
]


@pytest.mark.parametrize(("args", "completion", "target", "correct"), MATCH_CASES)
def test_match(
    args: dict[str, Any], completion: str, target: str | list[str], correct: bool
) -> None:
    result = score(match(**args), answered(completion, target))
    assert result.value == (CORRECT if correct else INCORRECT)


def test_match_records_the_answer() -> None:
    assert score(match(), answered("It is Paris.", "Paris")).answer == "It is Paris."
    numeric = match(numeric=True)
    assert score(numeric, answered("About $1,000 in total.", "1000")).answer == "1000"
    assert score(numeric, answered("Maybe 3, or 4.", "5")).answer == "4"


def test_match_without_generation() -> None:
    result = score(match(), answered(None, "Paris"))
    assert (result.value, result.answer) == (INCORRECT, "")


def test_match_explains_what_it_read_and_compared() -> None:
    result = score(match(numeric=True), answered("Maybe 3, or 4.", "5"))
    assert result.explanation == (
        "read '4' (the last number) and compared it with the number 5: not equal"
    )
    result = score(match(), answered("The answer is 14", "4"))
    assert (
        result.explanation == "looked for '4' as whole words at the end of 'the answer is 14': "
        "not found"
    )


def test_match_rejects_unknown_location() -> None:
    with pytest.raises(RegistryError, match="location must be one of begin, end, any, exact"):
        scorers.create({"match": {"location": "middle"}})


# ── includes ─────────────────────────────────────────────────────────────────────────────────────

INCLUDES_CASES: list[tuple[dict[str, Any], str, str | list[str], bool]] = [
    ({}, "Sally will look in the basket first.", "the basket", True),
    ({}, "Sally will look in THE BASKET", "the basket", True),
    ({}, "Sally will look in the\nbasket", "the basket", False),  # a plain substring, as Inspect
    ({}, "It is -5 degrees", "-5", True),
    ({}, "It is 5 degrees", "-5", False),  # the sign is part of the target
    ({}, "Sally will look in the box", "the basket", False),
    ({}, "Sally will look in the box", ["the basket", "the box"], True),
    ({}, "anything", "", False),
    ({"ignore_case": False}, "The Basket", "the basket", False),
    ({"ignore_case": False}, "in the basket", "the basket", True),
]


@pytest.mark.parametrize(("args", "completion", "target", "correct"), INCLUDES_CASES)
def test_includes(
    args: dict[str, Any], completion: str, target: str | list[str], correct: bool
) -> None:
    result = score(includes(**args), answered(completion, target))
    assert (result.value, result.answer) == (CORRECT if correct else INCORRECT, completion)


# ── model_graded_fact ────────────────────────────────────────────────────────────────────────────


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIServer]:
    with OpenAIServer(responder=fixed("The facts agree.\nGRADE: C")) as running:
        monkeypatch.setenv("VLLM_BASE_URL", running.base_url)
        yield running


def graded(
    scorer: Scorer, state: TaskState, *, as_role: str | None = "grader", as_model: bool = False
) -> Score:
    """Score with vllm/test-model bound to `as_role` and/or as the model under test."""

    async def main() -> Score:
        hub = ModelHub(ConnectionConfig(max_retries=0))
        try:
            model = hub.get("vllm/test-model", GenerationConfig())
            state.roles = {as_role: model} if as_role else {}
            state.model = model if as_model else None
            return await scorer(state)
        finally:
            await hub.aclose()

    return anyio.run(main)


def grader_prompt(server: OpenAIServer) -> str:
    (request,) = server.chat_requests()
    (message,) = request.messages
    assert message["role"] == "user"
    return str(message["content"])


def test_grader_gets_question_answer_and_criterion(server: OpenAIServer) -> None:
    state = answered("I believe it is Paris.", "Paris")
    result = graded(model_graded_fact(), state)
    prompt = grader_prompt(server)
    assert f"[Question]: {QUESTION}" in prompt
    assert "[Submission]: I believe it is Paris." in prompt
    assert "[Expert]: Paris" in prompt
    assert "LETTER is one of CI." in prompt and '"P" for' not in prompt
    assert "{" not in prompt
    reply = "The facts agree.\nGRADE: C"
    assert result == Score(
        CORRECT,
        answer="I believe it is Paris.",
        explanation=reply,
        metadata={
            "grader_model": "vllm/test-model",
            "grading": [
                user(prompt).to_log(),
                ChatMessage("assistant", reply, "generate").to_log(),
            ],
        },
    )


GRADE_CASES = [
    # (grader reply, partial_credit, expected grade)
    ("Matches the expert answer.\nGRADE: C", False, CORRECT),
    ("It names Lyon instead.\nGRADE: I", False, INCORRECT),
    ("grade:c", False, CORRECT),
    ("Half of it.\nGRADE: P", True, PARTIAL),
    ("Half of it.\nGRADE: P", False, INCORRECT),  # P was not offered: no grade (Inspect: unscored)
    ("GRADE: Correct", False, CORRECT),
    ("GRADE: CI", False, INCORRECT),  # not a grade
    ("First GRADE: I, but on reflection...\nGRADE: C", False, CORRECT),
]


@pytest.mark.parametrize(("reply", "partial_credit", "grade"), GRADE_CASES)
def test_grades(server: OpenAIServer, reply: str, partial_credit: bool, grade: str) -> None:
    server.responder = fixed(reply)
    result = graded(model_graded_fact(partial_credit=partial_credit), answered("Paris", "Paris"))
    assert result.value == grade
    assert result.explanation is not None and result.explanation.endswith(reply)


def test_partial_credit_instructions_offer_p(server: OpenAIServer) -> None:
    graded(model_graded_fact(partial_credit=True), answered("Paris", "Paris"))
    assert '"P" for partially correct answers' in grader_prompt(server)


def test_reply_without_grade_scores_incorrect(server: OpenAIServer) -> None:
    server.responder = fixed("I cannot decide.")
    result = graded(model_graded_fact(), answered("Paris", "Paris"))
    assert result.value == INCORRECT
    assert result.explanation == (
        "no grade the instructions offered in the grader's reply: I cannot decide."
    )
    assert result.metadata is not None and result.metadata["grader_model"] == "vllm/test-model"


def test_unbound_role_falls_back_to_model_under_test(server: OpenAIServer) -> None:
    result = graded(model_graded_fact(), answered("Paris", "Paris"), as_role=None, as_model=True)
    assert result.value == CORRECT
    assert len(server.chat_requests()) == 1


def test_custom_role(server: OpenAIServer) -> None:
    result = graded(model_graded_fact(role="judge"), answered("Paris", "Paris"), as_role="judge")
    assert result.value == CORRECT


def test_no_grader_and_no_model_under_test() -> None:
    with pytest.raises(RoleUnboundError, match="role 'grader' is not bound"):
        score(model_graded_fact(), answered("Paris", "Paris"))


def test_custom_template_instructions_and_pattern(server: OpenAIServer) -> None:
    def responder(request: Request) -> str:
        return "VERDICT=partial" if "lenient" in request.messages[0]["content"] else "?"

    server.responder = responder
    scorer = model_graded_fact(
        template="Topic {topic}. Q: {question} A: {answer} Want: {criterion}. {instructions}",
        instructions="Be lenient.",
        grade_pattern=r"VERDICT=(\w)",
        partial_credit=True,
    )  # an explicit pattern's group is the grade as written (Inspect): "p" is upper-cased below
    result = graded(scorer, answered("Lyon", ["Paris", "Paris, France"], metadata={"topic": "geo"}))
    assert grader_prompt(server) == (
        f"Topic geo. Q: {QUESTION} A: Lyon Want: ParisParis, France. Be lenient."
    )
    assert result.value == "p"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"grade_pattern": "GRADE: ("}, "grade_pattern 'GRADE: (' is not a valid regex"),
        ({"template": "{question"}, "grading template cannot be parsed"),
    ],
)
def test_bad_arguments_fail_at_planning(args: dict[str, Any], message: str) -> None:
    with pytest.raises(RegistryError, match=message.replace("(", r"\(")):
        scorers.create({"model_graded_fact": args})


def test_registry() -> None:
    assert {"includes", "match", "model_graded_fact"} <= set(scorers.names())
    name, args, scorer = scorers.create({"match": {"numeric": True}})
    assert (name, args) == ("match", {"numeric": True})
    assert score(scorer, answered("It is 1,000", "1000")).value == CORRECT
    with pytest.raises(RegistryError, match="unknown scorer 'incudes'; did you mean 'includes'"):
        scorers.create("incudes")
