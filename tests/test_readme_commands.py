"""Every `inspect-run` command in the README, and the design card's, works as written.

The commands are read from the README's code blocks; the README's example config files
(`# conf/task/capitals.yaml` …) are written into a fresh working directory, and the provider
endpoints point at local servers through their base-URL environment variables. Commands whose
models need infrastructure no test can have here (cloud platforms, in-process weights, provider
batch APIs) are composed and planned the way `inspect-run validate` does, without requests.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from engine.cli import cli
from engine.config import compose_config
from engine.runner import build_plan
from tests.support.anthropic_server import AnthropicServer
from tests.support.anthropic_server import fixed as anthropic_fixed
from tests.support.gemini_server import GeminiServer
from tests.support.gemini_server import fixed as gemini_fixed
from tests.support.hub_fixtures import arc_repo
from tests.support.hub_server import HubServer
from tests.support.openai_server import OpenAIServer, fixed

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DESIGN_CARD_COMMAND = "inspect-run model=openai/gpt-4o task=arc roles.grader=openai/gpt-4o-mini"
"""The design card's `inspect-run model=openai/gpt-4o task=arc roles.grader=...`, grader filled in."""

REPLY = "ANSWER: A\nThe submission is right.\nGRADE: C"
"""Answers a multiple-choice question and grades a model-graded one."""

DRY = re.compile(
    r"(?:^|[=,\s])(?:bedrock/|azureai/|hf/|llama-cpp-python/|anthropic/vertex/|google/vertex/)"
    r"|\bbatch(?:=|\.)"
)
"""Cloud platforms, in-process models and provider batch APIs: composed and planned only."""


def code_blocks() -> list[tuple[str, str]]:
    """(language, text) of each fenced block of the README."""
    blocks, language, lines = [], None, []
    for line in README.read_text().splitlines():
        if line.startswith("```"):
            if language is None:
                language, lines = line[3:].strip(), []
            else:
                blocks.append((language, "\n".join(lines)))
                language = None
        elif language is not None:
            lines.append(line)
    return blocks


def readme_commands() -> list[str]:
    """`inspect-run …` lines of the README's code blocks (YAML `- run:` steps too), in order."""
    commands = []
    for _, block in code_blocks():
        for line in block.splitlines():
            line = line.strip().removeprefix("- run: ")
            if re.match(r"inspect-run(\s|$)", line):
                commands.append(re.sub(r"\s+#.*$", "", line))
    return commands


def readme_files() -> dict[str, str]:
    """The README's example files, named by their first line (`# conf/task/capitals.yaml`,
    `# tasks/team/components.py`)."""
    files = {}
    for _, block in code_blocks():
        first = block.partition("\n")[0].strip()
        match = re.fullmatch(r"# (conf/\S+\.yaml|tasks/\S+\.py)(?: .*)?", first)
        if match:
            files[match.group(1)] = block
    return files


def test_the_readme_carries_the_commands_and_files_this_test_runs() -> None:
    commands = readme_commands()
    assert len(commands) >= 20
    assert any(
        c.startswith("inspect-run model=openai/gpt-4o task=arc roles.grader=") for c in commands
    )
    assert {"conf/task/capitals.yaml", "conf/task/my_arc.yaml", "conf/sweep/providers.yaml"} <= set(
        readme_files()
    )


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name, text in readme_files().items():
        if name == "conf/sweep/providers.yaml":
            continue  # the built-in one is the README's file, with its own models
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / "conf" / "batch").mkdir(parents=True, exist_ok=True)
    (tmp_path / "conf" / "batch" / "nightly.yaml").write_text("size: 500\nsend_delay: 60\n")
    (tmp_path / "conf" / "sweep").mkdir(parents=True, exist_ok=True)
    (tmp_path / "conf" / "sweep" / "nightly.yaml").write_text(  # the CI recipe's "your sweep"
        "# @package _global_\nhydra:\n  sweeper:\n    params:\n      task: capitals\n"
        "      model: openai/gpt-4o-mini,openai/gpt-4o\n"
    )
    (tmp_path / "capitals.jsonl").write_text(
        '{"id": 1, "question": "Capital of France?", "answer": "Paris"}\n'
        '{"id": 2, "question": "Capital of Peru?", "answer": "Lima"}\n'
    )
    for name in ("INSPECT_EVAL_MODEL", "INSPECT_RUN_CONFIG_PATH", "HF_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def dry_run(args: list[str]) -> None:
    """Compose and plan as `inspect-run validate` does (no request, no download, no key needed).
    `hf/…` models are only composed: planning one loads its weights, which no test has here."""
    composed = compose_config(args)
    if not any(a.startswith("model=hf/") for a in args):
        build_plan(composed, fetch=False, connect=False)


def reads_earlier_output(command: str) -> bool:
    """The command reads what an earlier one wrote: the newest log, a sweep's folder."""
    return "…" in command or command.startswith("inspect-run report ")


def halves() -> tuple[list[str], list[str]]:
    """Every command (the design card's first) in README order, in two halves of about equal
    length; the second never starts with a command that reads the first half's output."""
    commands = [DESIGN_CARD_COMMAND, *readme_commands()]
    split = len(commands) // 2
    while split < len(commands) and reads_earlier_output(commands[split]):
        split += 1
    return commands[:split], commands[split:]


def test_the_commands_run_against_local_servers_include_the_card_and_a_report() -> None:
    """What the two halves below run, between them: the design card's command, the report of the
    README's sweep, at least 12 real runs and some that are only planned."""
    first, second = halves()
    ran = [command for command in first + second if not DRY.search(command)]
    assert DESIGN_CARD_COMMAND in ran
    assert "inspect-run report logs/sweep-providers" in ran
    assert len(ran) >= 12 and len(ran) < len(first + second), ran
    assert first and second


def run_commands(commands: list[str], workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run each command in order (planning the `DRY` ones): every failure is reported at once."""
    failures = []
    with (
        OpenAIServer(fixed(REPLY)) as openai,
        AnthropicServer(anthropic_fixed(REPLY)) as anthropic,
        GeminiServer(gemini_fixed(REPLY)) as gemini,
        HubServer({"allenai/ai2_arc": arc_repo()}) as hub,
    ):
        for name in ("OPENAI", "GROQ", "HF_INFERENCE_PROVIDERS", "VLLM", "TOGETHER"):
            monkeypatch.setenv(f"{name}_BASE_URL", openai.base_url)
        monkeypatch.setenv("AZUREAI_OPENAI_BASE_URL", openai.base_url.removesuffix("/v1"))
        for key in ("OPENAI_API_KEY", "GROQ_API_KEY", "HF_TOKEN", "AZUREAI_OPENAI_API_KEY"):
            monkeypatch.setenv(key, "test-key")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", anthropic.base_url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
        monkeypatch.setenv("GOOGLE_BASE_URL", gemini.base_url)
        monkeypatch.setenv("GOOGLE_API_KEY", "google-test")
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.setenv("HF_HOME", str(workdir / "hf"))
        for command in commands:
            text = command.replace("http://gpu-box:8000/v1", openai.base_url)
            if "…" in text:  # a log named by its folder: the newest log the commands wrote
                newest = max(workdir.glob("logs/*/*.eval"), key=lambda p: p.stat().st_mtime_ns)
                text = re.sub(r"logs/…/…\.eval", str(newest.relative_to(workdir)), text)
            args = shlex.split(text)[1:]
            try:
                if DRY.search(text):
                    dry_run(args)
                    continue
                if args and args[0] not in ("report", "validate", "list", "cache", "schemas"):
                    args += ["display=none"]
                    if not any(a.startswith("limit=") for a in args):
                        args.append("limit=2")
                code = cli(args)
                if code != 0:
                    failures.append(f"{command}: exit {code}")
            except Exception as error:  # every command's failure is reported, not only the first
                failures.append(f"{command}: {type(error).__name__}: {error}")
    assert not failures, "\n".join(failures)


# Two classes: xdist's `--dist loadscope` keeps a class's tests on one worker, so the halves can
# run side by side.


@pytest.mark.slow
class TestTheFirstHalfOfTheCommands:
    def test_every_command_runs_against_local_servers(
        self, workdir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        run_commands(halves()[0], workdir, monkeypatch)


@pytest.mark.slow
class TestTheSecondHalfOfTheCommands:
    def test_every_command_runs_against_local_servers(
        self, workdir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        run_commands(halves()[1], workdir, monkeypatch)
