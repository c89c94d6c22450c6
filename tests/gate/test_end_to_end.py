"""End to end: sweeps graded by a two-grader panel (local OpenAI-protocol servers that disagree on
known samples) report the expected κ, and a gate against the baseline sweep gives its verdict."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from engine.cli import cli
from tests.support.openai_server import OpenAIServer, Request
from tests.support.quiz import quiz_env, quiz_servers, write_quiz

DISPUTED = {5, 6}
"""Questions where grader g2 says the opposite of the truth (g1 is always right)."""


def grader(name: str) -> object:
    def respond(request: Request) -> str:
        prompt = request.messages[-1]["content"]
        number = int(re.search(r"\[Question\]: Question (\d+):", prompt)[1])  # type: ignore[index]
        submitted = re.search(r"\[Submission\]: (\w)", prompt)[1]  # type: ignore[index]
        right = submitted == "A"
        if name == "g2" and number in DISPUTED:
            right = not right
        return f"Checked.\nGRADE: {'C' if right else 'I'}"

    return respond


@pytest.fixture
def servers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    write_quiz(tmp_path)
    (tmp_path / "conf" / "task" / "graded_quiz.yaml").write_text(
        "name: graded_quiz\ndataset:\n  path: quiz.jsonl\nsolvers: [generate]\n"
        "scorers: [model_graded_fact]\n"
    )
    (tmp_path / "conf" / "gate").mkdir()
    (tmp_path / "conf" / "gate" / "panel.yaml").write_text(
        "checks: ['grader.kappa >= 0.5', '*.error_rate <= 0.05']\njunit: gate.xml\n"
        "markdown: gate.md\nhtml: gate.html\n"
    )
    monkeypatch.chdir(tmp_path)
    for key in ("INSPECT_EVAL_MODEL", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(key, raising=False)
    with quiz_servers() as models, ExitStack() as stack:
        for name in ("g1", "g2"):
            server = stack.enter_context(OpenAIServer(grader(name)))  # type: ignore[arg-type]
            monkeypatch.setenv(f"{name.upper()}_BASE_URL", server.base_url)
            monkeypatch.setenv(f"{name.upper()}_API_KEY", "k")
        for key, value in quiz_env(models).items():
            monkeypatch.setenv(key, value)
        yield


def sweep(model: str, folder: str, *extra: str) -> int:
    return cli([
        "-m", "task=graded_quiz", f"model={model}", "limit=20", "display=none",
        "roles.grader=[openai-api/g1/judge,openai-api/g2/judge]", f"hydra.sweep.dir={folder}",
        "gate=panel", *extra,
    ])  # fmt: skip


def test_a_panel_sweep_reports_kappa_and_gates_against_its_baseline(
    servers: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # best answers A (right) on q05–q20. g1 grades truly; g2 flips q05, q06:
    # g1 C on 16, g2 C on 14; both C 14, g1 only 2, both I 4 → pₒ = 0.9.
    # Fleiss: pooled C share 30/40 = 0.75, pₑ = 0.625 → κ = 0.275 / 0.375 = 0.7333.
    # Cohen: pₑ = 0.8·0.7 + 0.2·0.3 = 0.62 → κ = 0.28 / 0.38 = 0.7368.
    assert sweep("openai-api/fast/best", "logs/base") == 0
    out = capsys.readouterr().out
    assert "gate: PASS" in out
    assert "Fleiss' κ (panel: openai-api/g1/judge, openai-api/g2/judge): 0.733 [" in out
    assert "Cohen's κ openai-api/g1/judge vs openai-api/g2/judge: 0.737 [" in out
    assert "grader.kappa >= 0.5" in Path("gate.md").read_text()

    # weak answers B (wrong) everywhere: g1 I on all 20, g2 C on q05 and q06 only.
    # Fleiss: C share 2/40, pₑ = 0.0025 + 0.9025 = 0.905 → κ = (0.9 − 0.905) / 0.095 = −0.0526.
    # Against the baseline: best scored C (both graders) on q07–q20, weak on none → Δ = −0.7.
    code = sweep("openai-api/slow/weak", "logs/pr", "gate.baseline=logs/base")
    assert code == 1
    out = capsys.readouterr().out
    assert "gate: FAIL" in out
    assert "Fleiss' κ (panel: openai-api/g1/judge, openai-api/g2/judge): -0.053 [" in out
    assert "Δ = -0.7000 (0.7000 → 0.0000)" in out
    cases = {c.get("name"): c for c in ET.parse("gate.xml").getroot().iter("testcase")}
    assert (
        cases["grader.kappa >= 0.5 [graded_quiz / openai-api/slow/weak]"].find("failure")
        is not None
    )
    markdown = Path("gate.md").read_text()
    assert "14 samples got worse" in markdown and "| q07 | C→I |" in markdown
    html = Path("gate.html").read_text()
    assert "Gate: ❌ FAIL" in html and "Grader reliability" in html

    # The same verdict from the gate command, on the logs alone.
    assert cli(["gate", "logs/pr", "baseline=logs/base", "gate=panel", "gate.checks=[]"]) == 1
    assert "FAIL         graded_quiz vs baseline" in capsys.readouterr().out


def test_a_single_run_with_a_gate_exits_with_its_verdict(
    servers: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # The quiz with a person's grade on each answer (they disagree with the scorer on q03) and a
    # cluster per five questions, both read from dataset fields into the log.
    lines = [
        json.dumps({"id": f"q{i:02d}", "input": f"Question {i}: answer A or B.", "target": "A",
                    "human": "C" if i > 4 or i == 3 else "I", "passage": f"p{(i - 1) // 5}"})
        for i in range(1, 21)
    ]  # fmt: skip
    Path("people.jsonl").write_text("\n".join(lines) + "\n")
    Path("conf/task/people.yaml").write_text(
        "name: people\ndataset:\n  path: people.jsonl\n"
        "  fields: {cluster: passage, human_grade: human}\nscorers: [{match: {location: exact}}]\n"
    )
    checks = "gate.checks=['people.grader.human_agreement >= 0.9','people.accuracy >= 0.9']"
    code = cli(["task=people", "model=openai-api/fast/best", "display=none", "gate=panel", checks])
    out = capsys.readouterr().out
    # best is wrong on q01–q04: 16/20 = 0.8 < 0.9 → FAIL; agreement with people 19/20 → PASS.
    assert code == 1
    assert "PASS         people.grader.human_agreement >= 0.9" in out
    assert "FAIL         people.accuracy >= 0.9" in out
    assert "agreement with people: 0.950" in out
    # Four passages of five: the score's interval is clustered.
    assert cli(["report", "logs", "-o", "report.html"]) == 0
    assert "(4 clusters)" in capsys.readouterr().out
