"""A team's own solver, scorer, metric and reducer, from a file beside its config or from an
installed package, run end to end through `inspect-run` (in process) against a local OpenAI server.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from inspect_ai.log import read_eval_log

from engine.cli import cli
from tests.support.openai_server import OpenAIServer, Request
from tests.test_cli import the_log

COMPONENTS = '''\
"""A team's components: a two-turn solver (Inspect's form), two scorers, a metric, a reducer."""
import re

from engine import CORRECT, INCORRECT, Score, get_model, metric, reducer, scorer, solver, user


@solver
def ask_then_confirm(follow_up: str = "Are you sure? Give only the final answer."):
    async def solve(state, generate):  # Inspect's calling convention
        state = await generate(state)
        state.messages.append(user(follow_up))
        return await generate(state)

    return solve


@scorer
def keyword_overlap(min_overlap: float = 0.5):
    async def score(state):
        words = set(re.findall(r"[a-z]+", state.output.completion.lower()))
        wanted = set(re.findall(r"[a-z]+", state.target.text.lower()))
        share = len(words & wanted) / len(wanted)
        value = CORRECT if share >= min_overlap else INCORRECT
        return Score(value, answer=state.output.completion, metadata={"overlap": share})

    return score


@scorer(name="judge")
def judged_by(role: str = "grader"):
    async def score(state, target):
        verdict = await get_model(role=role).generate(
            [user(f"Is '{state.output.completion}' right for '{target.text}'? yes or no")]
        )
        return Score(1.0 if "yes" in verdict.completion.lower() else 0.0, explanation=verdict.completion)

    return score


@metric
def share_at_least(threshold: float = 0.5):
    return lambda values: sum(v >= threshold for v in values) / len(values) if values else 0.0


@reducer
def worst():
    return min
'''

TASK = """\
name: capitals
description: Capitals, graded by the team's own components.
dataset:
  path: capitals.jsonl
solvers:
  - team/components.py:ask_then_confirm
scorers:
  - team/components.py:keyword_overlap: {min_overlap: 0.5}
  - team/components.py:judge
metrics:
  - accuracy
  - team/components.py:share_at_least: {threshold: 1.0}
epochs: 2
epochs_reducer: team/components.py:worst
"""

ROWS = [
    {"id": "fr", "input": "Capital of France?", "target": "Paris"},
    {"id": "it", "input": "Capital of Italy?", "target": "Rome"},
]


@pytest.fixture
def team_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder holding only a user's conf/ and tasks/; the working directory of the run."""
    (tmp_path / "conf" / "task").mkdir(parents=True)
    (tmp_path / "conf" / "task" / "capitals.yaml").write_text(TASK)
    (tmp_path / "tasks" / "team").mkdir(parents=True)
    (tmp_path / "tasks" / "team" / "components.py").write_text(COMPONENTS)
    (tmp_path / "tasks" / "capitals.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    monkeypatch.chdir(tmp_path)
    for name in ("INSPECT_RUN_CONFIG_PATH", "INSPECT_EVAL_MODEL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def answer(request: Request) -> str:
    last = request.messages[-1]["content"]
    if request.body["model"] == "judge":
        return "yes" if "Paris" in last else "no"
    if "Are you sure" in last:
        return "Paris" if "France" in request.messages[0]["content"] else "Milan"
    return "I think it is Paris." if "France" in last else "Probably Milan."


def run(monkeypatch: pytest.MonkeyPatch, server: OpenAIServer, *args: str) -> int:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("VLLM_BASE_URL", server.base_url)
    return cli(["task=capitals", "model=openai/gpt-4o-mini", "display=none", *args])


def test_a_teams_components_run_end_to_end(
    team_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with OpenAIServer(answer) as server:
        assert run(monkeypatch, server, "roles.grader=vllm/judge") == 0
        sent = server.chat_requests()
    tested = [r for r in sent if r.body["model"] == "gpt-4o-mini"]
    judged = [r for r in sent if r.body["model"] == "judge"]
    assert len(tested) == 2 * 2 * 2  # two samples × two epochs × two turns
    assert len(judged) == 2 * 2
    second_turns = [r for r in tested if len(r.messages) == 3]
    assert len(second_turns) == 4
    assert all(r.messages[1]["role"] == "assistant" for r in second_turns)

    log = read_eval_log(str(the_log(team_repo / "logs")))
    assert log.status == "success"
    assert log.eval.config.epochs_reducer == ["worst"]
    assert log.results is not None
    scores = {s.name: s for s in log.results.scores}
    assert set(scores) == {"keyword_overlap", "judge"}
    assert scores["keyword_overlap"].reducer == "worst"
    assert scores["keyword_overlap"].metrics["accuracy"].value == 0.5  # Paris yes, Milan no
    assert scores["keyword_overlap"].metrics["share_at_least"].value == 0.5
    assert scores["judge"].metrics["accuracy"].value == 0.5
    assert log.samples is not None
    france = next(s for s in log.samples if s.id == "fr")
    assert france.scores is not None
    assert france.scores["keyword_overlap"].value == "C"
    assert france.scores["keyword_overlap"].metadata == {"overlap": 1.0}
    assert france.scores["judge"].explanation == "yes"
    assert [m.role for m in france.messages] == ["user", "assistant", "user", "assistant"]
    assert log.plan.steps[0].solver == "ask_then_confirm"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "team/components.py:keyword_overlap: {min_overlp: 0.5}",
            "has no argument 'min_overlp'; did you mean 'min_overlap'?",
        ),
        (
            "team/components.py:keyword_overlap: {min_overlap: lots}",
            "argument 'min_overlap' expects float, got 'lots'",
        ),
        (
            "team/components.py:keyword_overlp",
            "has no function 'keyword_overlp'; did you mean 'keyword_overlap'?",
        ),
        ("team/components.py:ask_then_confirm", "is a solver, not a scorer"),
        ("team/scorers.py:keyword_overlap", "file 'team/scorers.py' not found"),
        ("../outside.py:keyword_overlap", "is outside the task directories: it climbs out of"),
        ("match: {numeric: perhaps}", "scorer 'match': argument 'numeric' expects bool"),
    ],
)
def test_a_bad_component_entry_is_exit_2_before_any_request(
    team_repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    entry: str,
    message: str,
) -> None:
    (team_repo / "outside.py").write_text("def keyword_overlap():\n    return print\n")
    task = team_repo / "conf" / "task" / "capitals.yaml"
    task.write_text(TASK.replace("team/components.py:keyword_overlap: {min_overlap: 0.5}", entry))
    with OpenAIServer(answer) as server:
        assert run(monkeypatch, server) == 2
        assert server.requests == []
    errors = capsys.readouterr().err
    assert "task.scorers.0" in errors and message in errors


def test_a_wrong_type_for_a_built_in_solver_is_exit_2(
    team_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    task = team_repo / "conf" / "task" / "capitals.yaml"
    task.write_text(
        TASK.replace("team/components.py:ask_then_confirm", "multiple_choice: {shuffle: maybe}")
    )
    with OpenAIServer(answer) as server:
        assert run(monkeypatch, server) == 2
        assert server.requests == []
    errors = capsys.readouterr().err
    assert "solver 'multiple_choice': argument 'shuffle' expects bool, got 'maybe'" in errors


def test_validate_checks_a_teams_components(
    team_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["validate"]) == 0
    task = team_repo / "conf" / "task" / "capitals.yaml"
    task.write_text(TASK.replace("{threshold: 1.0}", "{treshold: 1.0}"))
    assert cli(["validate"]) == 2
    errors = capsys.readouterr().err
    assert "metric 'team/components.py:share_at_least' has no argument 'treshold'" in errors
    assert "did you mean 'threshold'?" in errors


def test_list_shows_a_teams_components_beside_the_built_ins(
    team_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["list"]) == 0
    rows = {tuple(line.split()[:3]) for line in capsys.readouterr().out.splitlines() if line}
    source = str(Path("tasks/team/components.py"))
    assert ("team/components.py:keyword_overlap", "scorer", source) in rows
    assert ("team/components.py:judged_by", "scorer", source) in rows
    assert ("team/components.py:ask_then_confirm", "solver", source) in rows
    assert ("team/components.py:share_at_least", "metric", source) in rows
    assert ("team/components.py:worst", "reducer", source) in rows
    assert ("match", "scorer", "built-in") in rows
    assert ("pass_at", "reducer", "built-in") in rows


def build_wheel(folder: Path) -> Path:
    """A wheel of a one-module package registering a scorer by entry point (no build backend
    needed: a wheel is a zip with its metadata)."""
    module = textwrap.dedent(
        """\
        from engine import CORRECT, INCORRECT, Score, scorer


        @scorer
        def shouted(min_letters: int = 1):
            async def score(state):
                text = state.output.completion if state.output else ""
                loud = sum(c.isupper() for c in text) >= min_letters and text == text.upper()
                return Score(CORRECT if loud else INCORRECT, answer=text)

            return score
        """
    )
    info = "team_scorers-1.0.dist-info"
    files = {
        "team_scorers/__init__.py": module,
        f"{info}/METADATA": "Metadata-Version: 2.1\nName: team-scorers\nVersion: 1.0\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
        f"{info}/entry_points.txt": "[inspect_run.scorers]\nshouted = team_scorers:shouted\n",
    }
    records = [f"{name},," for name in files] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = "\n".join(records) + "\n"
    wheel = folder / "team_scorers-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return wheel


def test_an_installed_package_adds_a_scorer_by_entry_point(
    team_repo: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import importlib

    site = tmp_path_factory.mktemp("site")
    wheel = build_wheel(tmp_path_factory.mktemp("wheel"))
    pip = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet"]
    subprocess.run([*pip, "--target", str(site), str(wheel)], check=True)
    monkeypatch.syspath_prepend(str(site))  # installed for this test only
    importlib.invalidate_caches()

    assert cli(["list"]) == 0
    rows = {tuple(line.split()[:4]) for line in capsys.readouterr().out.splitlines() if line}
    assert ("shouted", "scorer", "package", "team-scorers") in rows

    task = team_repo / "conf" / "task" / "capitals.yaml"
    task.write_text(
        TASK.replace("team/components.py:keyword_overlap: {min_overlap: 0.5}", "shouted")
    )
    with OpenAIServer(lambda request: "PARIS") as server:
        assert run(monkeypatch, server, "roles.grader=vllm/judge", "epochs=1") == 0
    log = read_eval_log(str(the_log(team_repo / "logs")))
    assert log.results is not None
    assert {s.name: s.metrics["accuracy"].value for s in log.results.scores}["shouted"] == 1.0

    task.write_text(task.read_text().replace("shouted", "shouted: {min_leters: 2}"))
    with OpenAIServer(lambda request: "PARIS") as server:
        assert run(monkeypatch, server) == 2
        assert server.requests == []
    assert "did you mean 'min_letters'?" in capsys.readouterr().err


def test_editing_a_component_file_is_a_new_run_identity(team_repo: Path) -> None:
    from engine.config._compose import compose_config
    from engine.runner._plan import identity_of

    def identity() -> str:
        return identity_of(compose_config(["task=capitals", "model=openai/gpt-4o-mini"]))

    first = identity()
    assert identity() == first
    components = team_repo / "tasks" / "team" / "components.py"
    components.write_text(components.read_text().replace("return min", "return max"))
    assert identity() != first
