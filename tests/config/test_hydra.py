"""Plain keys set on a remembered composition of the groups give Hydra's own composition."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli import cli
from engine.config._hydra import _composition, _remembered_composition


def _full(overrides: list[str]) -> object:
    try:
        return _composition(overrides)
    except Exception as error:  # Hydra's own refusal: both ways must refuse alike
        return type(error)


def _derived(overrides: list[str]) -> object:
    try:
        return _remembered_composition(overrides)
    except Exception as error:
        return type(error)


@pytest.mark.parametrize(
    "overrides",
    [
        ["task=arc_easy", "model=openai/a", "limit=3"],
        ["model=openai/b", "task=theory_of_mind", "limit=[2,5]", "seed=7"],
        ["task=arc_easy", "++task.epochs=2", "++model_args.location=eu", "tags=[a,b]"],
        ["task=arc_easy", "~model_base_url", "model=x/y"],
        ["task=arc_easy", "model_base_url=${oc.env:SOME_URL}", "preset=smollm2"],
        ["task=arc_easy", "+extra=1", "extra=2"],
        ["task=arc_easy", "model=a", "model=b", "~model"],
        ["task=arc_easy", "no_such_key=3"],
        ["task=arc_easy", "~no_such_key"],
        ["task=arc_easy", "+limit=3"],
        ["task=arc_easy", "+tags=[x]", "++limit=5", "~seed=null", "~shuffle=true"],
        ["task=arc_easy", "++task.dataset={path: other.jsonl}", "~task.epochs"],
        ["task=arc_easy", "generation.temperature=0.5", "roles.grader=openai/g"],
        ["task=arc_easy", "sample_id=[1,'2']", "metadata={team: x}"],
        ["task=arc_easy", "limit=2", "hydra.job.chdir=true", "batch=on"],
    ],
)
def test_plain_keys_set_on_the_composed_groups_give_hydras_own_composition(
    overrides: list[str], hydra_composes: list[list[str]]
) -> None:
    assert _derived(overrides) == _full(overrides)


def test_a_folder_named_like_a_key_makes_it_a_group_as_in_hydra(clean_environment: Path) -> None:
    (clean_environment / "conf" / "limit").mkdir(parents=True)
    (clean_environment / "conf" / "limit" / "small.yaml").write_text("# @package _global_\n")
    for overrides in (["task=arc_easy", "limit=3"], ["task=arc_easy", "limit=small"]):
        assert _derived(overrides) == _full(overrides)


def test_a_three_by_three_sweep_plan_composes_each_task_once(
    hydra_composes: list[list[str]], clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_environment / "d.jsonl").write_text('{"id": 1, "input": "x", "target": "A"}\n')
    for task in ("t1", "t2", "t3"):
        (clean_environment / "conf" / "task").mkdir(parents=True, exist_ok=True)
        (clean_environment / "conf" / "task" / f"{task}.yaml").write_text(
            f"name: {task}\ndataset: {{path: d.jsonl}}\nscorers: [match]\n"
        )
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-plan")
    code = cli(["plan", "-m", "task=t1,t2,t3", "model=openai/a,openai/b,openai/c", "--json"])
    assert code == 0
    assert sorted(map(tuple, hydra_composes)) == [("task=t1",), ("task=t2",), ("task=t3",)]


def test_a_composition_shares_hydras_config_store_instead_of_copying_it() -> None:
    """Hydra copies its repository on every composition; the `ConfigStore` singleton in it is
    shared, and what is registered in it later is still composed."""
    import copy

    from hydra.core.config_store import ConfigStore

    store = ConfigStore.instance()
    _composition(["task=arc_easy"])
    assert copy.deepcopy(store) is store
    store.store(group="generation", name="from_the_store", node={"temperature": 0.75})
    try:
        composed = _composition(["task=arc_easy", "generation=from_the_store"])
        assert composed.unresolved["generation"]["temperature"] == 0.75
    finally:
        del store.repo["generation"]["from_the_store.yaml"]
