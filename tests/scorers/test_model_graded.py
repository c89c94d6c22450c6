"""model_graded_qa, and several graders reduced by majority, against a local OpenAI server."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import anyio
import pytest

from engine.config import ConnectionConfig, GenerationConfig
from engine.models import ModelHub
from engine.scorers import CORRECT, INCORRECT, PARTIAL, Score, Scorer, model_graded_qa
from engine.scorers._model_graded import majority, model_graded_fact
from engine.solvers import TaskState
from tests.scorers.test_builtins import answered
from tests.support.openai_server import OpenAIServer, Request

REPLIES = {
    "grader-c": "Looks right.\nGRADE: C",
    "grader-c2": "Agreed.\nGRADE: C",
    "grader-i": "Wrong city.\nGRADE: I",
    "grader-p": "Half of it.\nGRADE: P",
    "grader-none": "I cannot tell.",
    "grader-verdict": "VERDICT: correct",
}


def by_model(request: Request) -> str:
    return REPLIES[str(request.model)]


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIServer]:
    with OpenAIServer(responder=by_model) as running:
        monkeypatch.setenv("VLLM_BASE_URL", running.base_url)
        yield running


def graded_by(scorer: Scorer, state: TaskState, roles: dict[str, str]) -> Score:
    """Score with each role bound to vllm/<model> on the local server."""

    async def main() -> Score:
        hub = ModelHub(ConnectionConfig(max_retries=0))
        try:
            state.roles = {
                role: hub.get(f"vllm/{model}", GenerationConfig()) for role, model in roles.items()
            }
            return await scorer(state)
        finally:
            await hub.aclose()

    return anyio.run(main)


def test_model_graded_qa_reads_the_target_as_a_criterion(server: OpenAIServer) -> None:
    state = answered("Paris, the capital.", "Names Paris as the capital.")
    result = graded_by(model_graded_qa(), state, {"grader": "grader-c"})
    (request,) = server.chat_requests()
    prompt = request.messages[0]["content"]
    assert "[Criterion]: Names Paris as the capital." in prompt
    assert "[Submission]: Paris, the capital." in prompt
    assert "Does the submission meet the criterion?" in prompt
    assert result.value == CORRECT


VOTES = [
    # (graders, partial credit, majority grade)
    (["grader-c", "grader-c2", "grader-i"], False, CORRECT),
    (["grader-c", "grader-i", "grader-i"], False, INCORRECT),
    (["grader-c", "grader-i"], False, INCORRECT),  # a tie goes to the lower grade
    (["grader-c", "grader-p", "grader-p"], True, PARTIAL),
    (["grader-c", "grader-p", "grader-p"], False, INCORRECT),  # P counts as I without credit
    (["grader-c", "grader-c2", "grader-none"], False, CORRECT),  # a reply without a grade is I
]


@pytest.mark.parametrize(("graders", "partial_credit", "grade"), VOTES)
@pytest.mark.parametrize("factory", [model_graded_fact, model_graded_qa])
def test_several_graders_vote(
    server: OpenAIServer,
    factory: Callable[..., Scorer],
    graders: list[str],
    partial_credit: bool,
    grade: str,
) -> None:
    roles = {f"judge{number}": model for number, model in enumerate(graders)}
    scorer = factory(role=list(roles), partial_credit=partial_credit)
    result = graded_by(scorer, answered("Paris", "Paris"), roles)
    assert result.value == grade
    assert len(server.chat_requests()) == len(graders)
    assert result.metadata is not None
    assert [vote["grader_model"] for vote in result.metadata["votes"]] == [
        f"vllm/{model}" for model in graders
    ]
    assert result.explanation is not None and result.explanation.startswith(
        f"majority of {len(graders)} graders"
    )


def test_majority_of_one_is_that_grade() -> None:
    assert majority([Score(CORRECT, answer="x")]).value == CORRECT


def test_a_grade_pattern_with_alternative_groups_reads_the_group_that_matched(
    server: OpenAIServer,
) -> None:
    scorer = model_graded_fact(grade_pattern=r"(?i)GRADE\s*:\s*([CI])|VERDICT\s*:\s*(\w+)")
    result = graded_by(scorer, answered("Paris", "Paris"), {"grader": "grader-verdict"})
    # The group as written; like Inspect's value_to_float, only C/I/P/N, yes/no, true/false and
    # numbers count, so "correct" is 0 in the metrics (a grade_pattern should capture a letter).
    assert result.value == "correct" and result.as_float() == 0.0
