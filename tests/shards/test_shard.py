"""`shard=I/N` and the scheduler variables: which samples a shard runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli import cli
from engine.logs import read_log
from engine.shards import Shard, env_shard, parse_shard
from tests.shards.helpers import logs_under
from tests.support.openai_server import OpenAIServer
from tests.support.quiz import answer, write_quiz


class Config:
    def __init__(self, shard: str | None = None, shards: int | None = None) -> None:
        self.shard, self.shards = shard, shards


def test_shard_text_is_zero_based_i_of_n() -> None:
    assert parse_shard("0/3") == Shard(0, 3) and str(parse_shard("2/3")) == "2/3"
    for bad in ("3/3", "-1/3", "1", "a/3", "1/0"):
        with pytest.raises(ValueError, match="0 <= I < N"):
            parse_shard(bad)


def test_a_slurm_array_counts_from_its_first_task_in_its_steps() -> None:
    env = {"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_COUNT": "3"}
    env |= {"SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_STEP": "2"}  # --array=1-5:2
    assert env_shard(Config(), env) == Shard(2, 3)
    assert env_shard(
        Config(), {"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "2"}
    ) == Shard(0, 2)


def test_kubernetes_gives_the_index_and_the_config_the_count() -> None:
    assert env_shard(Config(shards=4), {"JOB_COMPLETION_INDEX": "3"}) == Shard(3, 4)
    with pytest.raises(ValueError, match="set shards=N"):
        env_shard(Config(), {"JOB_COMPLETION_INDEX": "1"})


def test_an_explicit_shard_wins_and_no_scheduler_means_no_shard() -> None:
    assert env_shard(Config("1/2"), {"JOB_COMPLETION_INDEX": "0"}) is None
    assert env_shard(Config(), {}) is None


def run_ids(tmp_path: Path, *args: str) -> list[str]:
    before = set(logs_under(tmp_path / "logs"))
    assert cli(["task=quiz", "model=openai/best", "display=none", *args]) == 0
    (log,) = set(logs_under(tmp_path / "logs")) - before
    return [str(s["id"]) for s in read_log(log)["samples"]]


@pytest.mark.parametrize(
    "selection",
    [["limit=[3,20]"], ["sample_id=[q01,q05,q06,q09,q30,q31,q40]"], ["shuffle=true", "seed=7"]],
)
def test_the_shards_partition_the_selected_samples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, selection: list[str]
) -> None:
    write_quiz(tmp_path)
    monkeypatch.chdir(tmp_path)
    with OpenAIServer(answer) as server:
        monkeypatch.setenv("OPENAI_API_KEY", "k")
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        whole = run_ids(tmp_path, *selection, "connection.max_connections=1")
        shards = [
            run_ids(tmp_path, *selection, f"shard={i}/3", "connection.max_connections=1")
            for i in range(3)
        ]
    assert sorted(i for ids in shards for i in ids) == sorted(whole)
    for index, ids in enumerate(shards):  # position modulo N in the selected order
        assert ids == whole[index::3]


def test_a_shard_with_nothing_to_run_or_an_unseeded_shuffle_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_quiz(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9")  # nothing may be sent
    base = ["task=quiz", "model=openai/best", "display=none"]
    assert cli([*base, "limit=2", "shard=2/3"]) == 2
    assert "use at most 2 shards" in capsys.readouterr().err
    assert cli([*base, "shuffle=true", "shard=0/2"]) == 2
    assert "need a seed" in capsys.readouterr().err
    assert cli([*base, "shard=3/3"]) == 2
    assert "0 <= I < N" in capsys.readouterr().err
    monkeypatch.setenv("JOB_COMPLETION_INDEX", "1")
    assert cli(base) == 2
    assert "set shards=N" in capsys.readouterr().err
    assert not (tmp_path / "logs").exists()
