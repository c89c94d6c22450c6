"""Planning: generation settings a provider cannot honour are warned once and logged once."""

from __future__ import annotations

from pathlib import Path

from inspect_ai.log import read_eval_log

from tests.support.openai_server import OpenAIServer, fixed
from tests.test_cli import run_cli, the_log


def test_unsupported_settings_are_warned_once_per_model_and_field_and_logged(
    tmp_path: Path,
) -> None:
    (tmp_path / "conf" / "task").mkdir(parents=True)
    (tmp_path / "qa.jsonl").write_text(
        '{"input": "2+2?", "target": "4"}\n{"input": "3+3?", "target": "6"}\n'
    )
    # The `generate` step overrides a setting for the model under test.
    (tmp_path / "conf" / "task" / "qa.yaml").write_text(
        "name: qa\ndataset: {path: qa.jsonl}\n"
        "solvers: [{generate: {top_k: 3}}]\nscorers: [model_graded_fact]\n"
    )
    with OpenAIServer(fixed("4\nGRADE: C")) as server:
        done = run_cli(
            "task=qa",
            "model=openai/m",
            "generation.reasoning_tokens=64",
            # The grader is the same model with its own settings: the same (model, field) pairs.
            "roles.grader={model: 'openai/m', generation: {reasoning_tokens: 64, top_k: 2}}",
            "roles.critic={model: 'deepseek/judge', generation: "
            "{response_schema: {name: verdict, json_schema: {type: object}}}}",
            "display=plain",
            cwd=tmp_path,
            env={
                "OPENAI_API_KEY": "sk-test",
                "OPENAI_BASE_URL": server.base_url,
                "DEEPSEEK_API_KEY": "sk-test",
                "DEEPSEEK_BASE_URL": server.base_url,
            },
        )
        sent = server.chat_requests()

    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if "ignores generation settings" in line]
    assert warnings == [
        "openai/m ignores generation settings: reasoning_tokens, top_k",
        "deepseek/judge ignores generation settings: response_schema",
    ]
    assert len(sent) == 4  # two answers, two grades: run, not stopped by the warnings
    assert not any({"top_k", "reasoning_effort", "reasoning_tokens"} & set(r.body) for r in sent)

    log = read_eval_log(str(the_log(tmp_path / "logs")))
    assert log.eval.metadata is not None
    assert log.eval.metadata["inspect_run"]["unsupported_generation"] == {
        "openai/m": ["reasoning_tokens", "top_k"],
        "deepseek/judge": ["response_schema"],
    }


def test_nothing_unsupported_logs_an_empty_mapping(tmp_path: Path) -> None:
    with OpenAIServer(fixed("GRADE: C")) as server:
        done = run_cli(
            "model=openai/m",
            "limit=1",
            "display=none",
            cwd=tmp_path,
            env={"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.base_url},
        )
    assert done.returncode == 0, done.stderr
    assert "ignores generation settings" not in done.stderr
    log = read_eval_log(str(the_log(tmp_path / "logs")))
    assert log.eval.metadata is not None
    assert log.eval.metadata["inspect_run"]["unsupported_generation"] == {}
