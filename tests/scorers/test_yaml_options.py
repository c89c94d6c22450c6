"""Every option the reference's scorers and `multiple_choice` have runs from a task's YAML, driven
through the CLI in process against the local OpenAI server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from inspect_ai.scorer._classification import max_f1_score

from engine.cli import cli
from engine.logs import read_log
from tests.support.openai_server import OpenAIServer, Request

QUESTIONS = [
    {
        "id": "france",
        "question": "Capital of France?",
        "choices": ["Lyon", "Paris", "Nice"],
        "target": "B",
    },
    {"id": "primes", "question": "Which are prime?", "choices": ["2", "4", "5"], "target": "A,C"},
]


def reply(request: Request) -> str:
    prompt = request.messages[-1]["content"]
    if "Think step by step" not in prompt:
        return "no reasoning asked for"
    if "Which are prime?" in prompt:
        return "2 and 5 are prime.\nANSWER: A C"
    if "Capital of France?" in prompt:
        return "It is Paris.\nANSWER: B"
    return "The capital is Paris, the answer is well known.\nANSWER: Paris"


def request_for(prompt: str) -> Request:
    return Request("POST", "/v1/chat/completions", {}, {}, {"messages": [{"content": prompt}]})


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[OpenAIServer]:
    with OpenAIServer(reply) as running:
        for key in ("OPENAI_API_KEY", "INSPECT_EVAL_MODEL"):
            monkeypatch.delenv(key, raising=False)
        monkeypatch.setenv("VLLM_BASE_URL", running.base_url)
        monkeypatch.chdir(tmp_path)
        yield running


def write_task(tmp_path: Path, name: str, records: list[dict[str, Any]], body: str) -> None:
    (tmp_path / "conf" / "task").mkdir(parents=True, exist_ok=True)
    (tmp_path / "tasks").mkdir(exist_ok=True)
    (tmp_path / "tasks" / f"{name}.jsonl").write_text(
        "".join(json.dumps(record) + "\n" for record in records)
    )
    (tmp_path / "conf" / "task" / f"{name}.yaml").write_text(
        f"name: {name}\n"
        f"dataset: {{path: {name}.jsonl, fields: {{input: question, target: target, "
        f"choices: choices, id: id}}}}\n" + body
    )


def scores_of(tmp_path: Path) -> dict[str, dict[str, Any]]:
    (log,) = [p for p in (tmp_path / "logs").rglob("*.eval") if not p.name.startswith(".")]
    samples = read_log(log)["samples"]
    return {sample["id"]: sample["scores"] for sample in samples}


def test_multiple_choice_cot_and_multiple_correct_from_yaml(
    tmp_path: Path, server: OpenAIServer
) -> None:
    write_task(
        tmp_path,
        "mc",
        QUESTIONS,
        "solvers: [{multiple_choice: {cot: true, multiple_correct: true, max_tokens: 200}}]\n"
        "scorers: [choice]\n",
    )
    assert cli(["task=mc", "model=vllm/test-model", "display=none"]) == 0
    scores = scores_of(tmp_path)
    assert scores["france"]["choice"]["value"] == "C"
    assert scores["primes"]["choice"]["value"] == "C"  # "A C" read as two letters, target "A,C"
    assert "read 'A C' after the last ANSWER:" in scores["primes"]["choice"]["explanation"]
    assert {request.body["max_tokens"] for request in server.chat_requests()} == {200}


def test_f1_stop_words_and_other_scorer_options_from_yaml(
    tmp_path: Path, server: OpenAIServer
) -> None:
    records = [
        {"id": "q", "question": "Think step by step: capital?", "target": "Paris", "choices": None}
    ]
    write_task(
        tmp_path,
        "text",
        records,
        "solvers: [generate]\n"
        "scorers:\n"
        "  - f1: {stop_words: [the, capital, is, answer, well, known, an]}\n"
        "  - answer: {pattern: word}\n"
        "  - pattern: {pattern: 'ANSWER: (\\w+)', ignore_case: false, match_all: true}\n"
        "  - match: {location: any, ignore_case: false, numeric: false}\n"
        "  - includes: {ignore_case: false}\n"
        "  - exact\n",
    )
    assert cli(["task=text", "model=vllm/test-model", "display=none"]) == 0
    scores = scores_of(tmp_path)["q"]
    completion = reply(request_for("Think step by step: capital?"))
    stop_words = ["the", "capital", "is", "answer", "well", "known", "an"]
    assert scores["f1"]["value"] == max_f1_score(completion, ["Paris"], stop_words)
    assert scores["f1"]["value"] != max_f1_score(completion, ["Paris"])  # the option took effect
    assert scores["answer"]["value"] == "C"
    assert scores["pattern"]["value"] == "C"
    assert scores["match"]["value"] == "C"
    assert scores["includes"]["value"] == "C"
    assert scores["exact"]["value"] == "I"
