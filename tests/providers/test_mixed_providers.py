"""The seed's first command: a model from one lab graded by a model from another."""

from __future__ import annotations

from pathlib import Path

from inspect_ai.log import read_eval_log

from tests.support import anthropic_server, bedrock_server, gemini_server, openai_server
from tests.support.files import found_in
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


def test_a_bedrock_model_graded_by_an_azure_ai_model(tmp_path: Path) -> None:
    """`bedrock/…` (boto3 Converse, SigV4) graded by `azureai/…` (openai SDK, `api-key`), from the
    CLI; neither cloud credential lands in any file or output."""
    aws_secret = "cli/Secret+Access0Key0123456789abcdefghij"
    azure_key = "azure-ai-cli-key-0123456789abcdef"
    with (
        bedrock_server.BedrockServer(
            bedrock_server.fixed("the basket"), access_key="AKIDCLITEST000000001"
        ) as nova,
        openai_server.OpenAIServer(
            openai_server.fixed("Same container.\nGRADE: C"), api_key=azure_key
        ) as llama,
    ):
        done = run_cli(
            "task=theory_of_mind",
            "model=bedrock/amazon.nova-pro-v1:0",
            "roles.grader=azureai/Llama-3.3-70B-Instruct",
            "limit=3",
            "display=none",
            cwd=tmp_path,
            env={
                "AWS_ACCESS_KEY_ID": "AKIDCLITEST000000001",
                "AWS_SECRET_ACCESS_KEY": aws_secret,
                "AWS_REGION": "us-west-2",
                "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": nova.base_url,
                "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
                "AZUREAI_ENDPOINT_URL": f"{llama.url}/models",
                "AZUREAI_ENDPOINT_KEY": azure_key,
            },
        )
        answered = nova.converse_requests()
        graded = llama.chat_requests()
    assert done.returncode == 0, done.stderr
    assert len(answered) == 3 and len(graded) == 3
    assert all(r.headers["authorization"].startswith("AWS4-HMAC-SHA256 ") for r in answered)
    assert all(r.headers["api-key"] == azure_key for r in graded)
    assert all("the basket" in r.messages[-1]["content"] for r in graded)
    log = read_eval_log(str(the_log(tmp_path / "logs")))
    assert log.eval.model == "bedrock/amazon.nova-pro-v1:0"
    assert log.eval.model_roles is not None
    assert log.eval.model_roles["grader"].model == "azureai/Llama-3.3-70B-Instruct"
    assert log.results is not None and log.results.scores[0].metrics["accuracy"].value == 1.0
    assert set(log.stats.model_usage) == {
        "bedrock/amazon.nova-pro-v1:0",
        "azureai/Llama-3.3-70B-Instruct",
    }
    for secret in (aws_secret, azure_key):
        assert secret not in done.stdout + done.stderr
        assert found_in(secret, tmp_path.rglob("*")) == []
