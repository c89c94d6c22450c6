"""A composition is reused while the config files are unchanged, and only then.

`hydra_composes` (conftest) counts how often Hydra really composes.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import hydra
import pytest

from engine.config import compose_config


def _task(folder: Path, body: str) -> None:
    (folder / "conf" / "task").mkdir(parents=True, exist_ok=True)
    (folder / "conf" / "task" / "mine.yaml").write_text(
        f"name: mine\ndataset: {{path: d.jsonl}}\nscorers: [match]\n{body}"
    )


def test_the_same_composition_over_unchanged_files_is_composed_once(
    hydra_composes: list[list[str]],
) -> None:
    first = compose_config(["task=arc_easy", "model=mockllm/model", "limit=3"])
    again = compose_config(["task=arc_easy", "model=mockllm/model", "limit=3"])
    other = compose_config(["task=arc_easy", "model=openai/other", "limit=4"])
    assert hydra_composes == [["task=arc_easy"]]  # plain keys are set on the one composition
    assert again.config == first.config and again.resolved == first.resolved
    assert (other.config.limit, other.config.model) == (4, "openai/other")


def test_a_result_changed_by_its_caller_leaves_the_next_one_alone(
    hydra_composes: list[list[str]],
) -> None:
    first = compose_config(["task=arc_easy", "model=mockllm/model"])
    first.resolved["limit"] = 99
    first.resolved["task"]["name"] = "changed"
    again = compose_config(["task=arc_easy", "model=mockllm/model"])
    assert again.resolved["limit"] is None and again.resolved["task"]["name"] == "arc_easy"


def test_a_file_rewritten_with_other_content_is_composed_again(
    hydra_composes: list[list[str]], clean_environment: Path
) -> None:
    _task(clean_environment, "epochs: 2\n")
    assert compose_config(["task=mine", "model=mockllm/m"]).config.task.epochs == 2
    assert compose_config(["task=mine", "model=mockllm/m"]).config.task.epochs == 2
    assert len(hydra_composes) == 1
    _task(clean_environment, "epochs: 30\n")
    assert compose_config(["task=mine", "model=mockllm/m"]).config.task.epochs == 30
    assert len(hydra_composes) == 2


def test_a_rewrite_that_keeps_size_inode_and_times_is_seen(
    hydra_composes: list[list[str]], clean_environment: Path
) -> None:
    """File times are coarser than a fast rewrite: here the times are even set back, so only the
    content tells the versions apart."""
    _task(clean_environment, "epochs: 2\n")
    task = clean_environment / "conf" / "task" / "mine.yaml"
    times = task.stat().st_atime_ns, task.stat().st_mtime_ns
    assert compose_config(["task=mine", "model=mockllm/m"]).config.task.epochs == 2
    for epochs in (3, 4, 5):  # same size, same inode, same times
        _task(clean_environment, f"epochs: {epochs}\n")
        os.utime(task, ns=times)
        assert compose_config(["task=mine", "model=mockllm/m"]).config.task.epochs == epochs
    assert len(hydra_composes) == 4


def test_the_same_files_in_another_folder_are_composed_once(
    hydra_composes: list[list[str]], clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy of a config repo (a fresh checkout, a CI workspace) holds the same content in new
    files: what was composed from the first holds for the second."""
    _task(clean_environment / "first", "epochs: 2\n")
    shutil.copytree(clean_environment / "first", clean_environment / "second")
    for repo in ("first", "second"):
        monkeypatch.chdir(clean_environment / repo)
        assert compose_config(["task=mine", "model=mockllm/m"]).config.task.epochs == 2
    assert hydra_composes == [["task=mine"]]
    _task(clean_environment / "second", "epochs: 5\n")
    assert compose_config(["task=mine", "model=mockllm/m"]).config.task.epochs == 5
    assert len(hydra_composes) == 2


def test_a_file_changed_while_hydra_composes_is_not_remembered(
    hydra_composes: list[list[str]], clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hydra read the old content; what it composed must not be kept for the new one."""
    _task(clean_environment, "epochs: 2\n")
    counting = hydra.compose

    def rewriting(*args: object, **kwargs: object) -> object:
        composed = counting(*args, **kwargs)  # type: ignore[operator]
        if len(hydra_composes) == 1:
            _task(clean_environment, "epochs: 9\n")
        return composed

    monkeypatch.setattr(hydra, "compose", rewriting)
    assert compose_config(["task=mine", "model=mockllm/m"]).config.task.epochs == 2
    assert compose_config(["task=mine", "model=mockllm/m"]).config.task.epochs == 9
    assert compose_config(["task=mine", "model=mockllm/m"]).config.task.epochs == 9
    assert len(hydra_composes) == 2


def test_a_file_rewritten_moments_ago_is_keyed_by_its_content(
    hydra_composes: list[list[str]], clean_environment: Path
) -> None:
    """A rewrite of the same size within one tick keeps inode, size and times: only the content
    tells them apart."""
    _task(clean_environment, "epochs: 2\n")
    assert compose_config(["task=mine", "model=mockllm/m"]).config.task.epochs == 2
    assert compose_config(["task=mine", "model=mockllm/m"]).config.task.epochs == 2
    assert len(hydra_composes) == 1
    for epochs in (3, 4, 5):  # same size, same inode
        _task(clean_environment, f"epochs: {epochs}\n")
        assert compose_config(["task=mine", "model=mockllm/m"]).config.task.epochs == epochs
    assert len(hydra_composes) == 4


def test_a_new_file_that_shadows_a_built_in_one_is_seen(
    hydra_composes: list[list[str]], clean_environment: Path
) -> None:
    _task(clean_environment, "")
    assert compose_config(["task=arc_easy", "model=mockllm/m"]).config.task.name == "arc_easy"
    mine = clean_environment / "conf" / "task" / "arc_easy.yaml"
    mine.write_text("name: my_arc\ndataset: {path: d.jsonl}\nscorers: [match]\n")
    assert compose_config(["task=arc_easy", "model=mockllm/m"]).config.task.name == "my_arc"


def test_interpolations_are_resolved_anew_each_time(
    hydra_composes: list[list[str]], clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _task(clean_environment, "description: ${oc.env:TEAM_NOTE}\n")
    monkeypatch.setenv("TEAM_NOTE", "first")
    assert compose_config(["task=mine", "model=mockllm/m"]).config.task.description == "first"
    monkeypatch.setenv("TEAM_NOTE", "second")
    assert compose_config(["task=mine", "model=mockllm/m"]).config.task.description == "second"
    assert len(hydra_composes) == 1


def test_a_new_config_dir_that_holds_nothing_a_composition_read_reuses_it(
    hydra_composes: list[list[str]], clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each of a team's config repos (here: one per test) adds its own task; the built-in tasks'
    compositions do not read it, so they are composed once."""
    arc = compose_config(["task=arc", "model=mockllm/m"]).resolved
    for repo in ("one", "two"):
        _task(clean_environment / repo, f"description: {repo}\n")
        monkeypatch.setenv("INSPECT_RUN_CONFIG_PATH", str(clean_environment / repo / "conf"))
        assert compose_config(["task=arc", "model=mockllm/m"]).resolved == arc
        assert compose_config(["task=mine", "model=mockllm/m"]).config.task.name == "mine"
    assert hydra_composes == [["task=arc"], ["task=mine"], ["task=mine"]]


def test_a_file_a_defaults_list_names_is_watched_in_every_config_dir(
    hydra_composes: list[list[str]], clean_environment: Path
) -> None:
    """`task/arc.yaml` extends `arc_challenge` through its defaults list: a user's
    `task/arc_challenge.yaml` shadows the one it read, and `generation/default.yaml` the primary
    config's choice."""
    assert compose_config(["task=arc", "model=mockllm/m"]).config.task.name == "arc"
    conf = clean_environment / "conf"
    (conf / "task").mkdir(parents=True)
    (conf / "task" / "arc_challenge.yaml").write_text(
        "name: mine\ndataset: {path: d.jsonl}\nscorers: [match]\nepochs: 7\n"
    )
    assert compose_config(["task=arc", "model=mockllm/m"]).config.task.epochs == 7
    (conf / "generation").mkdir()
    (conf / "generation" / "default.yaml").write_text("temperature: 0.25\n")
    assert compose_config(["task=arc", "model=mockllm/m"]).config.generation.temperature == 0.25
    assert len(hydra_composes) == 3


def test_a_defaults_list_it_cannot_follow_makes_every_file_count(
    hydra_composes: list[list[str]], clean_environment: Path
) -> None:
    """A defaults entry this reading does not follow (a file named with its extension) could be
    any file: then a new file anywhere on the search path means composing again."""
    _task(clean_environment, "")
    task = clean_environment / "conf" / "task" / "mine.yaml"
    task.write_text("defaults:\n  - arc_challenge.yaml\n  - _self_\nname: mine\n")
    assert compose_config(["task=mine", "model=mockllm/m"]).config.task.name == "mine"
    (clean_environment / "conf" / "task" / "other.yaml").write_text("name: other\n")
    assert compose_config(["task=mine", "model=mockllm/m"]).config.task.name == "mine"
    assert len(hydra_composes) == 2


def test_an_option_chosen_into_another_package_is_watched(
    hydra_composes: list[list[str]], clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hydra names such a choice `group@package` (here `extra@_global_.metadata`): its file is still
    `extra/one.yaml`."""
    _task(clean_environment, "")
    conf = clean_environment / "conf"
    task = conf / "task" / "mine.yaml"
    task.write_text("defaults:\n  - /extra@_global_.metadata: one\n  - _self_\n" + task.read_text())
    (conf / "extra").mkdir()
    (conf / "extra" / "one.yaml").write_text("x: 1\n")
    assert compose_config(["task=mine", "model=mockllm/m"]).resolved["metadata"] == {"x": 1}
    (conf / "extra" / "one.yaml").write_text("x: 22\n")
    assert compose_config(["task=mine", "model=mockllm/m"]).resolved["metadata"] == {"x": 22}
    assert len(hydra_composes) == 2
