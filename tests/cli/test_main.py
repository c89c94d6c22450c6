"""`engine.cli` in process: help for every subcommand, --version, --cfg job, unknown words."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from engine import __version__
from engine.cli import COMMANDS, cli
from engine.config import RunConfig
from tests.support.openai_server import OpenAIServer, fixed

SECRET = "sk-test-NEVER-PRINT-ME-7878"


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_subcommand_answers_help_with_exit_0(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: inspect-run")
    assert "-h, --help" in out


@pytest.mark.parametrize("words", [["--help"], ["-h"], ["help"], ["task=arc_easy", "--help"]])
def test_main_help_lists_commands_keys_and_groups(
    words: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(words) == 0
    out = capsys.readouterr().out
    assert "keys: " in out and "exit status:" in out
    assert any(
        line.startswith("  task: ") and "theory_of_mind" in line for line in out.splitlines()
    )


def test_help_names_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["help", "gate"]) == 0
    assert capsys.readouterr().out.startswith("usage: inspect-run gate")


def test_the_key_list_is_every_field_of_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    """Generated, not written: a key added to RunConfig shows up (after `inspect-run schemas`)."""
    cli(["--help"])
    out = capsys.readouterr().out
    start = out.index("keys: ")
    listed = out[start : out.index("\nmodel strings:", start)].removeprefix("keys: ")
    names = [item.strip().split(" ")[0].split(".")[0] for item in listed.split(",")]
    assert sorted(names) == sorted(RunConfig.model_fields)
    assert "generation.*" in listed and "metadata.KEY" in listed
    assert "display (auto|rich|plain|none)" in listed


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["--version"]) == 0
    assert capsys.readouterr().out == f"inspect-run {__version__}\n"


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["valdate"], "unknown command 'valdate'; did you mean 'validate'?"),
        (["repotr", "logs"], "did you mean 'report'?"),
        (["--frobnicate"], "unknown option --frobnicate"),
        (["list", "extra"], "unexpected argument extra"),
        (["schemas", "--chek"], "unknown option --chek"),
        (["report"], "the following arguments are required: PATH"),
        (["--cfg", "all"], "invalid choice: 'all'"),
    ],
)
def test_bad_usage_exits_2_with_the_reason(
    words: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(words) == 2
    assert expected in capsys.readouterr().err


def test_cfg_job_prints_the_resolved_config_and_sends_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    with OpenAIServer(fixed("the basket")) as server:
        monkeypatch.setenv("OPENAI_API_KEY", SECRET)
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("GATEWAY_TOKEN", SECRET)
        status = cli(
            [
                "--cfg",
                "job",
                "model=openai/gpt-4o-mini",
                "generation.temperature=0.25",
                "+generation.extra_headers.X-Gateway-Token=${oc.env:GATEWAY_TOKEN}",
                "limit=3",
            ]
        )
        out, err = capsys.readouterr()
        assert status == 0, err
        assert server.requests == []
    assert "model: openai/gpt-4o-mini" in out
    assert "temperature: 0.25" in out and "limit: 3" in out
    assert "task:" in out and "connection:" in out  # resolved: every group, with defaults
    assert "X-Gateway-Token: ***" in out  # resolved from the environment, then masked
    assert SECRET not in out and SECRET not in err
    assert not (tmp_path / "logs").exists()


def test_cfg_job_on_a_bad_config_prints_every_problem_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli(["--cfg", "job", "modle=x", "generation.top_k=zero"]) == 2
    err = capsys.readouterr().err
    assert "2 problems" in err and "did you mean 'model'" in err


def test_cfg_job_checks_names_a_plan_would_reject(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli(["--cfg", "job", "model=opnai/gpt-4o"]) == 2
    assert "did you mean 'openai'" in capsys.readouterr().err


def test_options_may_follow_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli(["model=openai/gpt-4o-mini", "limit=2", "--cfg", "job"]) == 0
    assert "limit: 2" in capsys.readouterr().out


def test_help_imports_no_sdk_hydra_or_pydantic() -> None:
    """Start-up stays instant: the modules a `--help` loads, in a fresh interpreter."""
    code = (
        "import sys\nfrom engine.cli import cli\n"
        "for words in (['--help'], ['list', '--help'], ['validate', '--help'], ['gate', '--help'],"
        " ['report', '--help'], ['score', '--help'], ['schemas', '--help'], ['cache', '--help'],"
        " ['--version'], ['valdate']):\n"
        "    cli(words)\n"
        "print(' '.join(sorted(sys.modules)), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(done.stderr.split("\n")[-2].split())
    heavy = {"hydra", "omegaconf", "pydantic", "openai", "anthropic", "google.genai", "yaml"}
    heavy |= {"anyio", "httpx", "engine.runner", "engine.compare", "engine.gate", "engine.cache"}
    assert loaded & heavy == set()
