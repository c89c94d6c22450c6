"""`inspect-run gate`: each verdict on logs with known per-sample scores, exit codes, the JUnit
file against the JUnit schema, the Markdown summary, and baselines committed in git."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from engine.cli import cli
from engine.compare import read_run
from tests.gate.logs import ids, right, write_log

SCHEMA = Path(__file__).with_name("junit.xsd")
QUESTIONS = ids(40)


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


def logs(folder: str, wrong: set[str], questions: list[str] = QUESTIONS, **kwargs: object) -> Path:
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    write_log(path, right(questions, wrong), **kwargs)  # type: ignore[arg-type]
    return path


def gate(*args: str) -> int:
    return cli(["gate", *args])


def wrong_up_to(n: int) -> set[str]:
    return set(QUESTIONS[:n])


def test_a_clear_regression_fails(capsys: pytest.CaptureFixture[str]) -> None:
    logs("base", wrong_up_to(4))  # 36/40
    logs("pr", wrong_up_to(20))  # 20/40: 16 lost, none won
    assert gate("pr", "baseline=base", "--markdown", "gate.md") == 1
    out = capsys.readouterr().out
    assert "gate: FAIL" in out and "Δ = -0.4000" in out and "mcnemar" in out
    markdown = Path("gate.md").read_text()
    assert "❌ inspect-run gate: **FAIL**" in markdown
    assert "16 samples got worse" in markdown
    # Each flipped sample, C→I, with a link to the log it comes from.
    log = next(Path("pr").glob("*.json"))
    for sample in QUESTIONS[4:20]:
        assert f"| {sample} | C→I | [log]({log}) |" in markdown
    assert f"| {QUESTIONS[0]} |" not in markdown  # wrong in both: not a flip


def test_a_clear_improvement_passes(capsys: pytest.CaptureFixture[str]) -> None:
    logs("base", wrong_up_to(10))  # 30/40
    logs("pr", set())  # 40/40
    assert gate("pr", "baseline=base") == 0
    assert "gate: PASS" in capsys.readouterr().out


def test_no_change_on_enough_samples_passes_within_the_margin() -> None:
    questions = ids(400)
    logs("base", set(questions[:40]), questions)
    logs("pr", set(questions[:40]), questions)
    assert gate("pr", "baseline=base", "gate.margin=0.02") == 0


def test_a_tiny_sample_is_inconclusive(capsys: pytest.CaptureFixture[str]) -> None:
    logs("base", set(), QUESTIONS[:3])
    logs("pr", set(), QUESTIONS[:3])
    assert gate("pr", "baseline=base", "gate.min_samples=1") == 3
    out = capsys.readouterr().out
    assert "gate: INCONCLUSIVE" in out and "too few samples to tell" in out
    assert gate("pr", "baseline=base") == 3  # below min_samples (10) as well
    assert "only 3 shared samples" in capsys.readouterr().out


def test_a_threshold_miss_fails_and_a_met_threshold_passes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logs("pr", wrong_up_to(4), errors=["q99"])  # 36/40 scored, 1 of 41 failed
    assert gate("pr", "gate.checks=['quiz.accuracy >= 0.95']") == 1
    assert "accuracy = 0.9 [" in capsys.readouterr().out
    assert gate("pr", "gate.checks=['quiz.accuracy >= 0.8','*.error_rate <= 0.05']") == 0
    assert gate("pr", "gate.checks=['*.error_rate <= 0.01']") == 1
    assert gate("pr", "gate.checks=['*.latency_p95 <= 1','*.samples >= 41']") == 0


def test_interval_thresholds_are_inconclusive_when_the_interval_straddles() -> None:
    logs("pr", wrong_up_to(4))  # 0.9, Wilson 95 % ≈ [0.77, 0.96]
    assert gate("pr", "gate.checks=['quiz.accuracy >= 0.85']") == 0
    assert gate("pr", "gate.checks=['quiz.accuracy >= 0.85']", "gate.thresholds=interval") == 3
    assert gate("pr", "gate.checks=['quiz.accuracy >= 0.7']", "gate.thresholds=interval") == 0
    assert gate("pr", "gate.checks=['quiz.accuracy >= 0.97']", "gate.thresholds=interval") == 1


def test_cost_uses_the_price_table(capsys: pytest.CaptureFixture[str]) -> None:
    logs("pr", set(), usage={"input_tokens": 1_000_000, "output_tokens": 0, "total_tokens": 1})
    Path("conf/prices").mkdir(parents=True)
    Path("conf/prices/default.yaml").write_text("openai/m: {input: 0.01, output: 1}\n")
    # 40 samples × 1M input tokens at $0.01 per million = $0.40.
    assert gate("pr", "gate.checks=['*.cost <= 0.5']") == 0
    assert gate("pr", "gate.checks=['*.cost <= 0.3']") == 1
    assert "cost = 0.4" in capsys.readouterr().out


def test_junit_has_one_valid_test_case_per_check() -> None:
    logs("base", wrong_up_to(4))
    logs("pr", wrong_up_to(20), errors=["q99"])
    code = gate(
        "pr", "baseline=base", "--junit", "out/gate.xml",
        "gate.checks=['quiz.accuracy >= 0.8','*.error_rate <= 0.05','grader.kappa >= 0.6']",
    )  # fmt: skip
    assert code == 1
    xmlschema.XMLSchema(SCHEMA).validate("out/gate.xml")
    root = ET.parse("out/gate.xml").getroot()
    cases = {case.get("name"): case for case in root.iter("testcase")}
    assert len(cases) == 4  # three checks and the baseline comparison
    assert cases["quiz.accuracy >= 0.8 [quiz / openai/m]"].find("failure") is not None
    assert cases["*.error_rate <= 0.05 [quiz / openai/m]"].find("failure") is None
    baseline = cases["quiz vs baseline (margin 0.02) [quiz / openai/m]"].find("failure")
    assert baseline is not None and "Δ = -0.4000" in (baseline.get("message") or "")
    # No panel in this run: a grader check with nothing to measure fails, saying why.
    kappa = cases["grader.kappa >= 0.6 [*]"].find("failure")
    assert kappa is not None and "no runs that measure it" in (kappa.get("message") or "")
    assert root.get("tests") == "4" and root.get("failures") == "3"


def test_inconclusive_is_a_junit_error_and_validates() -> None:
    logs("base", set(), QUESTIONS[:3])
    logs("pr", set(), QUESTIONS[:3])
    assert gate("pr", "baseline=base", "--junit", "gate.xml") == 3
    xmlschema.XMLSchema(SCHEMA).validate("gate.xml")
    cases = list(ET.parse("gate.xml").getroot().iter("testcase"))
    assert [c.get("classname") for c in cases] == ["gate.threshold", "gate.baseline"]
    error = cases[1].find("error")
    assert error is not None and error.get("type") == "INCONCLUSIVE"


def test_bad_gate_config_exits_2_naming_the_problem(capsys: pytest.CaptureFixture[str]) -> None:
    logs("pr", set())
    assert gate("pr", "gate.checks=['quiz.accuracy => 0.8']") == 2
    assert "expected TASK.METRIC OP NUMBER" in capsys.readouterr().err
    assert gate("pr", "gate.checks=['grader.kapa >= 0.6']") == 2
    assert "did you mean 'kappa'" in capsys.readouterr().err
    assert gate("pr", "gate=nightly") == 2
    assert "unknown gate 'nightly'" in capsys.readouterr().err
    assert gate("pr", "gate.checks=['quiz.acuracy >= 0.8']") == 2
    assert "did you mean 'accuracy'" in capsys.readouterr().err
    assert gate("pr", "baseline=no-such-ref") == 2
    assert "neither a file or folder nor a git ref" in capsys.readouterr().err
    assert gate("missing") == 2


def test_a_gate_file_in_the_users_conf_is_composed(capsys: pytest.CaptureFixture[str]) -> None:
    logs("pr", wrong_up_to(4))
    Path("conf/gate").mkdir(parents=True)
    Path("conf/gate/nightly.yaml").write_text(
        "checks: ['quiz.accuracy >= 0.95']\njunit: reports/nightly.xml\n"
    )
    assert gate("pr", "gate=nightly") == 1
    assert Path("reports/nightly.xml").exists()


def git(*args: str) -> None:
    subprocess.run(["git", *args], check=True, capture_output=True)


def test_a_baseline_committed_at_a_git_ref_is_read_without_a_checkout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    git("init", "-q", "-b", "main")
    git("config", "user.email", "ci@example.com")
    git("config", "user.name", "ci")
    logs("baselines", wrong_up_to(4))
    git("add", "baselines")
    git("commit", "-qm", "nightly baseline")
    # The pull request's run overwrites the folder in the work tree (not committed).
    for old in Path("baselines").glob("*.json"):
        old.unlink()
    logs("baselines", wrong_up_to(20))
    assert gate("baselines", "baseline=main") == 1  # the same path, as committed on main
    assert "Δ = -0.4000" in capsys.readouterr().out
    logs("pr", wrong_up_to(4))
    assert gate("pr", "baseline=main:baselines", "gate.margin=0.1") == 0  # another path
    # The work tree is untouched: the pull request's logs are still there, uncommitted.
    (log,) = Path("baselines").glob("*.json")
    assert sum(v == 0 for v in read_run(log).scores.values()) == 20
    assert " M baselines/" in git_status()
    assert gate("pr", "baseline=main:nowhere") == 2
    assert "no nowhere at main" in capsys.readouterr().err


def git_status() -> str:
    return subprocess.run(
        ["git", "status", "--porcelain"], check=True, capture_output=True, text=True
    ).stdout
