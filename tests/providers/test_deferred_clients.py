"""A plan sends nothing, so it imports no provider SDK: the SDK clients are made on first use
(`Deferred`), and a run makes them before it starts. Checked in a fresh interpreter, since this
test process has imported every SDK already."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.config import ConnectionConfig, GenerationConfig
from engine.models import ModelHub
from engine.providers import ProviderConfigError
from tests.support.openai_server import OpenAIServer, fixed

SDKS = ("openai", "anthropic", "google.genai", "httpx2", "aiohttp")
MODELS = "openai/a,anthropic/b,google/c,azureai/d,groq/e"
ENV = {
    "OPENAI_API_KEY": "sk-plan-test",
    "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
    "ANTHROPIC_API_KEY": "sk-ant-plan-test",
    "GOOGLE_API_KEY": "plan-test",
    "AZUREAI_ENDPOINT_URL": "http://127.0.0.1:9/models",
    "AZUREAI_ENDPOINT_KEY": "plan-test",
    "GROQ_API_KEY": "plan-test",
}


@pytest.fixture
def task_dir(tmp_path: Path) -> Path:
    (tmp_path / "conf" / "task").mkdir(parents=True)
    lines = [
        json.dumps({"id": n, "input": f"What is {n} + {n}?", "target": str(2 * n)})
        for n in range(5)
    ]
    (tmp_path / "sums.jsonl").write_text("\n".join(lines) + "\n")
    (tmp_path / "conf" / "task" / "sums.yaml").write_text(
        "name: sums\ndataset: {path: sums.jsonl}\nscorers: [model_graded_qa]\n"
        "roles:\n  grader: {model: anthropic/g}\n"
    )
    return tmp_path


def loaded_after(folder: Path, words: list[str]) -> tuple[int, set[str]]:
    """Exit code of `cli(words)` run in a fresh interpreter in `folder`, and the SDKs it left in
    `sys.modules`."""
    code = (
        "import sys, contextlib, io\n"
        "from engine.cli import cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    code = cli({words!r})\n"
        f"print(code, *[m for m in {SDKS!r} if m in sys.modules])\n"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(folder), **ENV}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=folder, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    exit_code, *loaded = done.stdout.split()
    return int(exit_code), set(loaded)


def test_a_sweep_plan_imports_no_provider_sdk(task_dir: Path) -> None:
    words = ["plan", "-m", "task=sums", f"model={MODELS}", "--json"]
    assert loaded_after(task_dir, words) == (0, set())


def test_a_plan_in_batches_imports_no_provider_sdk(task_dir: Path) -> None:
    """The batch adapters are made (the plan says which requests are batched), their SDKs not."""
    words = ["plan", "-m", "task=sums", "model=openai/a,anthropic/b,google/c", "batch=on"]
    assert loaded_after(task_dir, words) == (0, set())


def test_a_single_plan_and_plan_true_import_no_provider_sdk(task_dir: Path) -> None:
    words = ["plan", "task=sums", "model=openai/a", "roles.grader=google/g"]
    assert loaded_after(task_dir, words) == (0, set())
    assert loaded_after(task_dir, ["task=sums", "model=groq/x", "plan=true"]) == (0, set())


def test_a_bad_model_arg_still_fails_the_plan(task_dir: Path) -> None:
    """`model_args` are checked against the SDK client's signature before any request (the SDK is
    imported for that, only when there are some)."""
    words = ["plan", "task=sums", "model=openai/a", "+model_args.organisation=x"]
    code, _ = loaded_after(task_dir, words)
    assert code == 2


def test_the_client_is_made_once_on_first_use_or_connect(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-plan-test")
    with OpenAIServer(fixed("4")) as server:
        model = ModelHub(ConnectionConfig()).get(
            "openai/a", GenerationConfig(), base_url=server.base_url
        )
        assert model.api.made_client is None
        model.api.connect()
        client = model.api.made_client
        assert client is not None and model.api.client is client  # made once
        assert str(client.base_url).rstrip("/") == server.base_url.rstrip("/")
        assert client.max_retries == 0


def test_unknown_model_args_fail_before_the_client_is_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-plan-test")
    with pytest.raises(ProviderConfigError, match="did you mean"):
        ModelHub(ConnectionConfig()).get(
            "anthropic/b", GenerationConfig(), model_args={"default_header": {}}
        )


def test_a_deferred_client_names_the_sdk_making_it_imports(tmp_path: Path) -> None:
    """`workers=K` imports `sdk_modules()` once before it forks its workers: once they are
    imported, making the client imports no provider SDK of its own (and a made client names
    none). In a fresh interpreter, which has imported none yet."""
    code = (
        "import importlib, sys\n"
        "from engine.config import ConnectionConfig, GenerationConfig\n"
        "from engine.models import ModelHub\n"
        "hub = ModelHub(ConnectionConfig())\n"
        f"for name in {MODELS!r}.split(','):\n"
        "    api = hub.get(name, GenerationConfig()).api\n"
        "    named = api.sdk_modules()\n"
        "    for module in named:\n"
        "        importlib.import_module(module)\n"
        "    before = set(sys.modules)\n"
        "    api.connect()\n"
        f"    new = [m for m in {SDKS[:3]!r} if m in sys.modules and m not in before]\n"
        "    print(name, ','.join(named) or '-', ','.join(new) or '-', len(api.sdk_modules()))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **ENV}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:-1] == [
        "openai/a openai - 0",
        "anthropic/b anthropic - 0",
        "google/c google.genai - 0",
        "azureai/d openai - 0",
        "groq/e openai - 0",
    ]
