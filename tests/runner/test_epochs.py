"""Epoch reducers in a run: a sample with fewer scored epochs than pass_at_K's K is unscored for
that reducer (as in Inspect) and left out of its metrics and reductions, not an error."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from inspect_ai.log import read_eval_log

from engine.config import compose_config
from engine.logs import read_log
from engine.runner import run_composed
from engine.runner._display import Display
from tests.support.openai_server import OpenAIServer, Request, error


def test_a_sample_missing_an_epoch_is_left_out_of_pass_at_k(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "conf" / "task").mkdir(parents=True)
    (tmp_path / "three.jsonl").write_text(
        "".join(
            json.dumps({"id": f"q{n}", "input": f"say q{n}", "target": f"q{n}"}) + "\n"
            for n in range(3)
        )
    )
    (tmp_path / "conf" / "task" / "three.yaml").write_text(
        "name: three\ndataset: {path: three.jsonl}\nscorers: [includes]\n"
    )
    seen: Counter[str] = Counter()

    def second_try_of_q0_fails(request: Request) -> str | object:
        prompt = request.messages[-1]["content"]
        seen[prompt] += 1
        if prompt == "say q0" and seen[prompt] == 2:
            return error(400, "refused")
        return prompt.removeprefix("say ")

    monkeypatch.setenv("OPENAI_API_KEY", "k")
    with OpenAIServer(second_try_of_q0_fails) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        overrides = [
            "task=three",
            "model=openai/m",
            "epochs=2",
            "epochs_reducer=[mean,pass_at_2]",
            "fail_on_error=false",
            "connection.max_connections=1",
        ]
        result = run_composed(
            compose_config(overrides, config_dirs=[tmp_path / "conf"]), display=Display()
        )
    assert result.status == "success" and result.errors == 1
    log = read_log(result.log_path)
    scores = {s["name"]: s for s in log["results"]["scores"]}
    assert scores["includes_mean"]["metrics"]["accuracy"]["value"] == 1.0
    assert scores["includes_pass_at_2"]["metrics"]["accuracy"]["value"] == 1.0
    reductions = {
        r.reducer: r.samples for r in read_eval_log(str(result.log_path)).reductions or []
    }
    assert sorted(str(s.sample_id) for s in reductions["mean"]) == ["q0", "q1", "q2"]
    assert sorted(str(s.sample_id) for s in reductions["pass_at_2"]) == ["q1", "q2"]
