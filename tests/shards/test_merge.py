"""`inspect-run merge`: the shard logs of one job become the log an unsharded run writes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.cli import cli
from engine.compare import find_logs, read_run
from engine.logs import read_log_header
from tests.shards.helpers import content, logs_under
from tests.support.openai_server import OpenAIServer
from tests.support.quiz import answer, write_quiz

BASE = ["task=quiz", "model=openai/best", "display=none", "limit=25"]
BASE += ["epochs=2", "epochs_reducer=[mean,max]", "connection.max_connections=3"]


@pytest.fixture
def quiz(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> OpenAIServer:
    write_quiz(tmp_path)
    monkeypatch.chdir(tmp_path)
    with OpenAIServer(answer) as server:
        monkeypatch.setenv("OPENAI_API_KEY", "k")
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        yield server


def run_shards(monkeypatch: pytest.MonkeyPatch, *args: str) -> None:
    """Shards 0 and 1 as a Slurm array (`--array=1-3`), shard 2 as a Kubernetes pod."""
    for task in (1, 2):
        with monkeypatch.context() as env:
            env.setenv("SLURM_ARRAY_TASK_ID", str(task))
            env.setenv("SLURM_ARRAY_TASK_MIN", "1")
            env.setenv("SLURM_ARRAY_TASK_COUNT", "3")
            assert cli([*BASE, *args]) == 0
    with monkeypatch.context() as env:
        env.setenv("JOB_COMPLETION_INDEX", "2")
        assert cli([*BASE, *args, "shards=3"]) == 0


@pytest.mark.parametrize("log_format", ["eval", "json"])
def test_merged_shards_equal_an_unsharded_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quiz: OpenAIServer, log_format: str
) -> None:
    assert cli([*BASE, f"log_format={log_format}", "log_dir=whole"]) == 0
    run_shards(monkeypatch, f"log_format={log_format}", "log_dir=whole")
    shard_logs = [
        p
        for p in logs_under(tmp_path / "whole")
        if read_log_header(p)["eval"]["metadata"]["inspect_run"].get("shard")
    ]
    assert sorted(
        read_log_header(p)["eval"]["metadata"]["inspect_run"]["shard"]["index"] for p in shard_logs
    ) == [0, 1, 2]
    (unsharded,) = set(logs_under(tmp_path / "whole")) - set(shard_logs)

    assert cli(["merge", *map(str, shard_logs), "-o", str(tmp_path / "merged")]) == 0
    (merged,) = logs_under(tmp_path / "merged")
    assert merged.suffix == f".{log_format}"
    got, want = content(merged), content(unsharded)
    assert got["samples"] == want["samples"] and len(got["samples"]) == 50
    assert got["metrics"].keys() == want["metrics"].keys() == {"match_mean", "match_max"}
    for name, metrics in want["metrics"].items():
        assert got["metrics"][name] == pytest.approx(metrics)
    assert got["reductions"] == want["reductions"]
    assert (got["status"], got["total"], got["usage"], got["task_id"]) == (
        want["status"],
        want["total"],
        want["usage"],
        want["task_id"],
    )
    header = read_log_header(merged)
    inspect_run = header["eval"]["metadata"]["inspect_run"]
    assert "shard" not in inspect_run and inspect_run["config"]["shard"] is None
    assert (
        inspect_run["config_hash"]
        == read_log_header(unsharded)["eval"]["metadata"]["inspect_run"]["config_hash"]
    )
    assert sorted(header["eval"]["dataset"]["sample_ids"]) == sorted(
        read_log_header(unsharded)["eval"]["dataset"]["sample_ids"]
    )


def test_report_and_gate_read_a_shard_set_as_one_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quiz: OpenAIServer
) -> None:
    run_shards(monkeypatch, "log_dir=shards")
    assert cli([*BASE, "log_dir=whole"]) == 0
    (found,) = find_logs([tmp_path / "shards"])
    sharded, whole = read_run(found), read_run(*find_logs([tmp_path / "whole"]))
    assert sharded.scores == whole.scores and len(sharded.scores) == 50
    assert sharded.status == "success" and sharded.usage == whole.usage
    assert cli(["gate", str(tmp_path / "shards")]) == 0
    # Once merged, the merged log stands for the set (not counted twice).
    assert cli(["merge", str(tmp_path / "shards")]) == 0
    (found,) = find_logs([tmp_path / "shards"])
    assert found.parent.name.startswith("merged-")


def test_merge_refuses_a_missing_duplicated_or_foreign_shard(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    quiz: OpenAIServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run_shards(monkeypatch, "log_dir=a")
    assert cli([*BASE, "log_dir=b", "shard=0/3", "generation.temperature=0.5"]) == 0
    assert cli([*BASE, "log_dir=plain"]) == 0
    logs = logs_under(tmp_path / "a")
    index = {
        read_log_header(p)["eval"]["metadata"]["inspect_run"]["shard"]["index"]: p for p in logs
    }
    capsys.readouterr()

    assert cli(["merge", str(index[0]), str(index[2])]) == 2
    assert "shard 1/3 missing" in capsys.readouterr().err
    copy = tmp_path / "copy" / index[1].name
    copy.parent.mkdir()
    shutil.copy(index[1], copy)
    assert cli(["merge", str(tmp_path / "a"), str(copy)]) == 2
    assert "shard 1/3 given 2 times" in capsys.readouterr().err
    (other,) = logs_under(tmp_path / "b")
    assert cli(["merge", str(index[1]), str(index[2]), str(other)]) == 2
    assert "different jobs" in capsys.readouterr().err
    assert cli(["merge", str(tmp_path / "a"), str(tmp_path / "plain")]) == 2
    assert "is not a shard log" in capsys.readouterr().err
    assert cli(["merge", str(tmp_path / "nowhere")]) == 2
    assert not list(tmp_path.rglob("merged-*"))


def test_merged_eval_holds_the_shards_sample_entries_as_stored_and_inspect_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quiz: OpenAIServer
) -> None:
    import zipfile

    from inspect_ai.log import read_eval_log

    run_shards(monkeypatch, "log_dir=shards")
    shard_logs = logs_under(tmp_path / "shards")
    assert cli(["merge", *map(str, shard_logs), "-o", str(tmp_path / "merged")]) == 0
    (merged,) = logs_under(tmp_path / "merged")
    stored = {}
    for shard in shard_logs:
        with zipfile.ZipFile(shard) as archive:
            for info in archive.infolist():
                if info.filename.startswith("samples/"):
                    stored[info.filename] = (info.CRC, info.compress_size, archive.read(info))
    with zipfile.ZipFile(merged) as archive:
        assert archive.testzip() is None
        entries = [i for i in archive.infolist() if i.filename.startswith("samples/")]
        assert len(entries) == len(stored) == 50
        for info in entries:
            assert (info.CRC, info.compress_size, archive.read(info)) == stored[info.filename]
    log = read_eval_log(str(merged))
    assert log.status == "success" and log.samples is not None and len(log.samples) == 50
    assert log.results is not None and log.results.total_samples == 50
