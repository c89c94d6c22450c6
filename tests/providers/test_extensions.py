"""Providers from installed packages (entry points), run from the CLI.

Each test lays out real installed-package shapes — a module plus a `*.dist-info` folder with
METADATA and entry_points.txt — in a folder put on the CLI subprocess's PYTHONPATH, which is how
`importlib.metadata` finds any installed distribution.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from inspect_ai.log import read_eval_log

from engine.providers import ProviderConfigError, create_api, provider_names
from tests.support.cli import run_cli_process
from tests.support.openai_server import OpenAIServer, Request
from tests.test_cli import the_log

EXTENSION = '''
"""A third-party provider: OpenAI's wire protocol through the openai SDK, its own env vars."""

import os

import openai

from engine.providers import (
    Choice, Classified, ErrorKind, ModelAPI, ModelOutput, ModelUsage, assistant,
)


class MyProviderAPI(ModelAPI):
    provider = "myprov"

    def __init__(self, model_name, model_args, base_url):
        self.model_name = model_name
        self.base_url = base_url or os.environ["MYPROV_BASE_URL"]
        self.greeting = model_args.get("greeting", "")
        self.client = openai.AsyncOpenAI(
            base_url=self.base_url, api_key=os.environ["MYPROV_API_KEY"], max_retries=0
        )

    async def generate(self, messages, config, timeout):
        reply = await self.client.chat.completions.create(
            model=self.model_name,
            messages=[{"role": m.role, "content": self.greeting + m.text} for m in messages],
            timeout=timeout,
        )
        usage = ModelUsage(reply.usage.prompt_tokens, reply.usage.completion_tokens,
                           reply.usage.total_tokens)
        return ModelOutput(reply.model, [Choice(assistant(reply.choices[0].message.content))], usage)

    def classify(self, error):
        return Classified(ErrorKind.FATAL, f"myprov failed: {error}")

    def unsupported(self, config):
        return ["top_k"] if config.top_k is not None else []

    async def aclose(self):
        await self.client.close()


def create(name, model_args, base_url):
    """The factory shape: the same client, under the prefix the entry point names."""
    api = MyProviderAPI(name, model_args, base_url)
    api.provider = "myfactory"
    return api
'''


def install(site: Path, distribution: str, module: str, source: str, entry_points: str) -> None:
    """A wheel-installed distribution's shape: the module and its dist-info."""
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{module}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[inspect_run.providers]\n{entry_points}\n")


def grade_or_answer(request: Request) -> str:
    prompt = request.messages[-1]["content"]
    return "GRADE: C" if "GRADE" in prompt else f"[{request.model}] the basket"


def test_an_installed_package_adds_a_provider(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    install(
        site,
        "myprov-ext",
        "myprov_ext",
        EXTENSION,
        "myprov = myprov_ext:MyProviderAPI\nmyfactory = myprov_ext:create",
    )
    with OpenAIServer(grade_or_answer) as server:
        done = run_cli_process(
            "model=myprov/tiny-1",
            "model_args.greeting='Hi! '",
            "roles.grader=myfactory/judge-2",
            "generation.top_k=3",
            "limit=2",
            "display=plain",
            cwd=tmp_path,
            env={
                "PYTHONPATH": str(site),
                "MYPROV_BASE_URL": server.base_url,
                "MYPROV_API_KEY": "sk-test",
            },
        )
        sent = server.chat_requests()

    assert done.returncode == 0, done.stderr
    assert "myprov/tiny-1 ignores generation settings: top_k" in done.stderr
    assert sorted(r.model or "" for r in sent) == ["judge-2", "judge-2", "tiny-1", "tiny-1"]
    for request in sent:  # model_args reach the model under test's provider, not the grader's
        greeted = request.messages[-1]["content"].startswith("Hi! ")
        assert greeted == (request.model == "tiny-1")
    assert all(r.headers["authorization"] == "Bearer sk-test" for r in sent)
    log = read_eval_log(str(the_log(tmp_path / "logs")))
    assert log.eval.model == "myprov/tiny-1"
    assert log.eval.model_roles is not None
    assert log.eval.model_roles["grader"].model == "myfactory/judge-2"
    assert log.results is not None and log.results.scores[0].metrics["accuracy"].value == 1.0
    assert log.samples is not None
    assert log.samples[0].output.completion == "[tiny-1] the basket"


BROKEN = """
from pathlib import Path

Path(__file__).with_name("imported").touch()
raise ImportError("brokenprov needs libfoo, which is not installed")

def create(name, model_args, base_url):
    raise AssertionError("never reached")
"""


def test_a_broken_extension_is_a_config_error_naming_the_package(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    install(site, "broken-ext", "broken_ext", BROKEN, "brokenprov = broken_ext:create")

    done = run_cli_process(
        "model=brokenprov/x", "display=none", cwd=tmp_path, env={"PYTHONPATH": str(site)}
    )

    assert done.returncode == 2
    assert (
        "provider 'brokenprov' from package 'broken-ext' (entry point broken_ext:create) "
        "failed to load: ImportError: brokenprov needs libfoo, which is not installed"
    ) in done.stderr
    assert "Traceback" not in done.stderr


def test_extensions_are_not_imported_for_built_in_providers(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    install(site, "broken-ext", "broken_ext", BROKEN, "brokenprov = broken_ext:create")

    with OpenAIServer(lambda request: "GRADE: C") as server:
        done = run_cli_process(
            "model=openai/m",
            "limit=1",
            "display=none",
            cwd=tmp_path,
            env={
                "PYTHONPATH": str(site),
                "OPENAI_API_KEY": "sk-test",
                "OPENAI_BASE_URL": server.base_url,
            },
        )
    assert done.returncode == 0, done.stderr
    assert not (site / "imported").exists()

    # A misspelt prefix reads the entry points' names (not their code) for the suggestion.
    done = run_cli_process("model=brokenpov/x", cwd=tmp_path, env={"PYTHONPATH": str(site)})
    assert done.returncode == 2
    assert "unknown provider 'brokenpov'" in done.stderr
    assert "did you mean 'brokenprov'?" in done.stderr
    assert not (site / "imported").exists()


def test_a_factory_that_returns_no_model_api_names_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    install(
        site,
        "wrong-ext",
        "wrong_ext",
        "def create(name, model_args, base_url):\n    return f'a string for {name}'\n",
        "wrongprov = wrong_ext:create",
    )
    monkeypatch.syspath_prepend(str(site))

    assert "wrongprov" in provider_names()
    with pytest.raises(ProviderConfigError) as caught:
        create_api("wrongprov/x", {}, None)
    assert str(caught.value) == (
        "provider 'wrongprov' from package 'wrong-ext' (entry point wrong_ext:create) "
        "returned a str, not an engine.providers.ModelAPI"
    )
