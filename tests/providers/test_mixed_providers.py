"""The seed's first command: a model from one lab graded by a model from another."""

from __future__ import annotations

from pathlib import Path

from inspect_ai.log import read_eval_log

from tests.support import anthropic_server, gemini_server
from tests.test_cli import run_cli, the_log


def test_anthropic_model_graded_by_google(tmp_path: Path) -> None:
    with (
        anthropic_server.AnthropicServer(anthropic_server.fixed("the basket")) as claude,
        gemini_server.GeminiServer(gemini_server.fixed("Same container.\nGRADE: C")) as gemini,
    ):
        done = run_cli(
            "task=theory_of_mind",
            "model=anthropic/claude-3-5-haiku-latest",
            "roles.grader=google/gemini-2.5-flash",
            "limit=3",
            "display=none",
            cwd=tmp_path,
            env={
                "ANTHROPIC_API_KEY": "sk-ant-test",
                "ANTHROPIC_BASE_URL": claude.base_url,
                "GOOGLE_API_KEY": "google-test",
                "GOOGLE_BASE_URL": gemini.base_url,
            },
        )
        answered = claude.message_requests()
        graded = [r for r in gemini.requests if r.path.endswith(":generateContent")]
    assert done.returncode == 0, done.stderr
    assert len(answered) == 3 and len(graded) == 3
    assert all("the basket" in " ".join(gemini_server.contents_text(r)) for r in graded)
    log = read_eval_log(str(the_log(tmp_path / "logs")))
    assert log.eval.model == "anthropic/claude-3-5-haiku-latest"
    assert log.eval.model_roles is not None
    assert log.eval.model_roles["grader"].model == "google/gemini-2.5-flash"
    assert log.results is not None and log.results.scores[0].metrics["accuracy"].value == 1.0
    assert set(log.stats.model_usage) == {
        "anthropic/claude-3-5-haiku-latest",
        "google/gemini-2.5-flash",
    }
