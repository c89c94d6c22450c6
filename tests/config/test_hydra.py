"""Plain keys set on a remembered composition of the groups give Hydra's own composition."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.cli import cli
from engine.config import compose_config
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
        ["+sweep=providers", "limit=3", "seed=1"],  # a sweep kept in config
        ["+sweep=red_blue", "+roles.red_team=openai/r", "task=arc_easy", "limit=2"],  # its job
        ["task=arc_easy", "gate=ci", "limit=4"],  # a group that is not a whole global file
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


@pytest.mark.parametrize(
    "overrides",
    [
        ["task=theory_of_mind", "preset=smollm2", "limit=5"],  # a run with no model
        ["task=arc_easy", "generation.max_tokens=32", "preset=smollm2"],  # the command line wins
        ["preset=smollm2"],
        ["task=arc_easy", "preset=gpt-4o-mini", "model=openai/other"],
        ["task=arc_easy", "preset=smollm2", "gate=ci"],  # two overlays: Hydra composes
        ["task=arc_easy", "preset=[smollm2]"],
        ["task=arc_easy", "preset=nothing_here"],
        ["task=arc_easy", "+preset=smollm2"],
        ["+sweep=providers", "preset=smollm2", "limit=5"],
        ["task=arc_easy", "gate=default", "model=openai/m"],  # `gate` is no global file
    ],
)
def test_an_overlay_merged_on_the_composed_groups_gives_hydras_own_composition(
    overrides: list[str], hydra_composes: list[list[str]]
) -> None:
    derived, full = _derived(overrides), _full(overrides)
    assert derived == full
    if not isinstance(full, type):  # the choices in Hydra's order, as the run's files keep them
        assert list(derived.choices.items()) == list(full.choices.items())  # type: ignore[attr-defined]


OVERLAYS = {
    "shadowing": "# @package _global_\nmodel: openai/mine\ngeneration: {seed: 3}\n",
    "not global": "model: openai/mine\n",  # Hydra puts it under `preset`
    "a defaults list": "# @package _global_\ndefaults: [/generation/default]\nmodel: openai/m\n",
    "a comment first": "# mine\n# @package _global_\nmodel: openai/mine\n",
}


@pytest.mark.parametrize("text", OVERLAYS.values(), ids=OVERLAYS.keys())
def test_a_users_own_preset_merges_as_hydra_merges_it(
    text: str, clean_environment: Path, hydra_composes: list[list[str]]
) -> None:
    (clean_environment / "conf" / "preset").mkdir(parents=True)
    (clean_environment / "conf" / "preset" / "smollm2.yaml").write_text(text)
    (clean_environment / "conf" / "local").mkdir()
    (clean_environment / "conf" / "local" / "mine.yaml").write_text(
        "# @package _global_\ngeneration: {seed: 9}\n"
    )
    for overrides in (
        ["task=arc_easy", "preset=smollm2", "limit=5"],
        ["task=arc_easy", "preset=smollm2", "local=mine"],  # `local` comes after the preset
        ["task=arc_easy", "local=mine"],
    ):
        assert _derived(overrides) == _full(overrides)


def _as_hydra_composes(overrides: list[str]) -> dict[str, Any]:
    """The derived composition's config, once it is shown to be Hydra's own."""
    derived = _derived(overrides)
    assert derived == _full(overrides)
    return derived.unresolved  # type: ignore[attr-defined, no-any-return]


def test_a_config_the_primary_config_lists_after_the_preset_still_wins_over_it(
    clean_environment: Path, hydra_composes: list[list[str]]
) -> None:
    from engine._assets import conf_dir

    primary = (conf_dir() / "config.yaml").read_text()
    assert "  - preset: null\n" in primary
    (clean_environment / "conf").mkdir()
    (clean_environment / "conf" / "config.yaml").write_text(
        primary.replace("  - preset: null\n", "  - preset: null\n  - later\n")
    )
    (clean_environment / "conf" / "later.yaml").write_text("generation: {seed: 5}\n")
    assert _as_hydra_composes(["task=arc_easy", "preset=smollm2"])["generation"]["seed"] == 5


def test_a_group_the_command_line_appends_still_wins_over_the_preset(
    clean_environment: Path, hydra_composes: list[list[str]]
) -> None:
    (clean_environment / "conf" / "experiment").mkdir(parents=True)
    (clean_environment / "conf" / "experiment" / "short.yaml").write_text(
        "# @package _global_\ngeneration: {max_tokens: 7}\n"
    )
    composed = _as_hydra_composes(["task=arc_easy", "+experiment=short", "preset=smollm2"])
    assert composed["generation"]["max_tokens"] == 7


def test_a_run_with_no_model_composes_once(
    clean_environment: Path, hydra_composes: list[list[str]]
) -> None:
    """The embedded default's preset is merged on the composition that found no model, not
    composed again."""
    composed = compose_config(["task=arc_easy", "generation.max_tokens=32"])
    assert composed.config.model == "llama-cpp-python/SmolLM2-135M-Instruct"
    assert composed.choices["preset"] == "smollm2"
    assert composed.config.generation.max_tokens == 32 and composed.config.generation.seed == 0
    assert hydra_composes == [["task=arc_easy"]]


def test_an_overlay_group_hydra_merges_otherwise_is_composed_once_with_the_others(
    clean_environment: Path, hydra_composes: list[list[str]]
) -> None:
    """`gate=ci` is no global file to merge on top: the groups are composed with it, once, and
    the plain keys set on that composition."""
    composed = compose_config(["task=arc_easy", "gate=ci", "model=openai/m", "limit=2"])
    assert composed.choices["gate"] == "ci" and composed.config.limit == 2
    assert hydra_composes == [["task=arc_easy", "gate=ci"]]


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


def test_a_sweep_param_that_refers_to_a_key_is_resolved_as_hydra_resolves_it(
    clean_environment: Path, hydra_composes: list[list[str]]
) -> None:
    """Its text, resolved when composed, follows a key set on the command line: such a
    composition is not derived from one made without that key."""
    (clean_environment / "conf" / "sweep").mkdir(parents=True)
    (clean_environment / "conf" / "sweep" / "mine.yaml").write_text(
        "# @package _global_\nhydra:\n  sweeper:\n    params:\n      seed: ${limit},7\n"
    )
    composed = [_as_hydra_composes(["+sweep=mine", f"limit={n}"]) for n in (3, 4)]
    derived = _derived(["+sweep=mine", "limit=4"])
    assert derived.sweep_params == {"seed": "4,7"}  # type: ignore[attr-defined]
    assert composed[0]["limit"] == 3 and composed[1]["limit"] == 4


def test_a_sweep_param_read_from_the_environment_follows_the_environment(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Such a composition is not remembered: the same overrides and files, composed after the
    variable changed, give the new value (as a new Hydra composition would)."""
    (clean_environment / "conf" / "sweep").mkdir(parents=True)
    (clean_environment / "conf" / "sweep" / "env.yaml").write_text(
        "# @package _global_\nhydra:\n  sweeper:\n    params:\n      seed: ${oc.env:SEEDS}\n"
    )
    for seeds in ("1,2", "3,4,5"):
        monkeypatch.setenv("SEEDS", seeds)
        for overrides in (["+sweep=env"], ["+sweep=env", "limit=2"]):
            assert _derived(overrides).sweep_params == {"seed": seeds}  # type: ignore[attr-defined]


def test_a_sweep_kept_in_config_composes_once_for_all_its_jobs(
    hydra_composes: list[list[str]], clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its jobs differ only in keys the sweep file adds (`+roles.red_team=…`): they are set on
    the sweep's one composition, not composed again."""
    (clean_environment / "d.jsonl").write_text('{"id": 1, "input": "x", "target": "A"}\n')
    (clean_environment / "conf" / "task").mkdir(parents=True)
    (clean_environment / "conf" / "task" / "t.yaml").write_text(
        "name: t\ndataset: {path: d.jsonl}\nscorers: [match]\n"
    )
    for name in ("OPENAI", "ANTHROPIC", "GOOGLE"):
        monkeypatch.setenv(f"{name}_API_KEY", "sk-test-plan")
    code = cli(["plan", "-m", "+sweep=red_blue", "task=t", "preset=smollm2", "limit=1", "--json"])
    assert code == 0
    assert hydra_composes == [["+sweep=red_blue", "task=t", "preset=smollm2"]]


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


def test_a_config_text_is_parsed_once_and_a_changed_text_anew(clean_environment: Path) -> None:
    """Hydra reads every file on each composition; a text parsed before is not parsed again, and
    what is composed from it is Hydra's all the same (nodes built from a copy of the parse, so
    nothing one composition does reaches the next)."""
    from engine.config._hydra import _parse_yaml

    task = clean_environment / "conf" / "task" / "t.yaml"
    task.parent.mkdir(parents=True)
    task.write_text("name: t\ndataset: {path: d.jsonl}\nscorers: [match]\nlimit: 3\n")
    first = _composition(["task=t"])
    parsed = _parse_yaml.cache_info().misses
    second = _composition(["task=t"])
    assert _parse_yaml.cache_info().misses == parsed  # every file of it was seen before
    assert second == first and second.unresolved["task"]["name"] == "t"
    second.unresolved["task"]["scorers"].append("changed")
    assert _composition(["task=t"]).unresolved["task"]["scorers"] == ["match"]

    task.write_text("name: t\ndataset: {path: d.jsonl}\nscorers: [includes]\nlimit: 3\n")
    assert _composition(["task=t"]).unresolved["task"]["scorers"] == ["includes"]
    assert _parse_yaml.cache_info().misses == parsed + 1


def test_a_config_that_does_not_parse_is_named_with_its_line(clean_environment: Path) -> None:
    from omegaconf import OmegaConf
    from yaml import YAMLError

    from engine.config._hydra import _remember_yaml_parses

    _remember_yaml_parses()  # as a composition does
    broken = clean_environment / "broken.yaml"
    broken.write_text("name: t\nscorers: [match\n")
    for _ in range(2):  # the error is not remembered in place of a parse
        with broken.open() as stream, pytest.raises(YAMLError) as raised:
            OmegaConf.load(stream)
        assert f'"{broken}", line 3' in str(raised.value)


def test_a_large_yaml_is_loaded_as_omegaconf_loads_it_and_not_kept(tmp_path: Path) -> None:
    from omegaconf import OmegaConf

    from engine.config._hydra import _parse_yaml, _remember_yaml_parses

    _remember_yaml_parses()  # as a composition does
    large = tmp_path / "large.yaml"
    large.write_text("".join(f"key_{index}: {index}\n" for index in range(10_000)))
    seen = _parse_yaml.cache_info()
    with large.open() as stream:
        loaded = OmegaConf.load(stream)
    assert loaded["key_9999"] == 9999 and len(loaded) == 10_000
    assert _parse_yaml.cache_info() == seen
