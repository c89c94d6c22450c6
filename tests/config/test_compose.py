from pathlib import Path

import pytest

from engine.config import ConfigError, compose_config, load_dotenv
from engine.config._compose import DEFAULT_LIMIT, expand_sweep


def problems_of(overrides: list[str], config_dirs: list[Path] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        compose_config(overrides, config_dirs or [])
    return [str(problem) for problem in caught.value.problems]


def test_no_model_falls_back_to_the_embedded_default_on_a_small_limit() -> None:
    composed = compose_config([])
    assert composed.config.model == "llama-cpp-python/SmolLM2-135M-Instruct"
    assert composed.config.limit == DEFAULT_LIMIT
    assert composed.config.task.name == "theory_of_mind"
    assert any("embedded default" in note for note in composed.notes)


def test_the_embedded_default_keeps_an_explicit_limit() -> None:
    assert compose_config(["limit=2"]).config.limit == 2


def test_model_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INSPECT_EVAL_MODEL", "groq/llama-3.3-70b")
    composed = compose_config([])
    assert composed.config.model == "groq/llama-3.3-70b"
    assert composed.config.limit is None


def test_model_from_dotenv_found_upward(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_environment / ".env").write_text("INSPECT_EVAL_MODEL=mistral/mistral-large\n")
    nested = clean_environment / "a" / "b"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    assert load_dotenv() == clean_environment / ".env"
    assert compose_config([]).config.model == "mistral/mistral-large"


def test_model_string_is_plain_and_keeps_slashes_and_suffixes() -> None:
    model = "hf-inference-providers/openai/gpt-oss-120b:cerebras"
    assert compose_config([f"model={model}"]).config.model == model


def test_every_problem_is_reported_at_once_with_did_you_mean() -> None:
    problems = problems_of(
        ["generation.temprature=0.5", "task=theory_of_mnd", "limit=abc", "modle=x"]
    )
    text = "\n".join(problems)
    assert len(problems) == 4
    assert "did you mean 'temperature'" in text
    assert "did you mean 'theory_of_mind'" in text
    assert "did you mean 'model'" in text
    assert "limit [command line: limit=abc]" in text


def test_wrong_types_name_key_and_expectation() -> None:
    problems = problems_of(["epochs=zero", "fail_on_error=2.5", "roles.grader=3"])
    text = "\n".join(problems)
    assert "epochs" in text and "valid integer" in text
    assert "fail_on_error" in text and "a proportion between 0 and 1" in text
    assert "roles.grader" in text and "model string" in text


def test_unknown_keys_deep_in_roles_are_caught() -> None:
    (problem,) = problems_of(["+roles.red_team.generation.temprature=1"])
    assert "roles.red_team.generation" in problem and "did you mean 'temperature'" in problem


def test_model_args_accept_any_key_but_never_a_secret() -> None:
    composed = compose_config(["model=openai/gpt-4o", "model_args.location=us-east5"])
    assert composed.config.model_args == {"location": "us-east5"}
    (problem,) = problems_of(["model=openai/gpt-4o", "model_args.api_key=sk-secret-123"])
    assert "environment" in problem
    assert "sk-secret-123" not in problem


def test_roles_from_strings_mappings_and_new_names() -> None:
    composed = compose_config(
        [
            "model=openai/gpt-4o",
            "roles.grader=anthropic/claude-3-5-haiku-latest",
            "roles.red_team=openai/gpt-4o-mini",
            "+roles.critic.model=groq/llama",
            "+roles.critic.generation.temperature=0.7",
        ]
    )
    roles = composed.config.roles
    assert (
        roles["grader"] is not None and roles["grader"].model == "anthropic/claude-3-5-haiku-latest"
    )
    assert roles["red_team"] is not None and roles["red_team"].model == "openai/gpt-4o-mini"
    assert roles["critic"] is not None and roles["critic"].generation.temperature == 0.7


def test_preset_overlays_and_command_line_wins() -> None:
    preset = compose_config(["preset=gpt-4o-mini"]).config
    assert preset.model == "openai/gpt-4o-mini" and preset.generation.temperature == 0.0
    both = compose_config(["preset=gpt-4o-mini", "model=openai/gpt-4o", "generation.temperature=1"])
    assert both.config.model == "openai/gpt-4o" and both.config.generation.temperature == 1


def test_generation_group_and_limit_range() -> None:
    config = compose_config(["model=openai/x", "generation=deterministic", "limit=[10,20]"]).config
    assert config.generation.temperature == 0.0 and config.generation.seed == 42
    assert config.limit == (10, 20)
    (problem,) = problems_of(["model=openai/x", "limit=[20,10]"])
    assert "start < end" in problem


def test_batch_group_on_and_off() -> None:
    assert compose_config(["model=openai/x"]).config.batch.enabled is False
    on = compose_config(["model=openai/x", "batch=on"]).config.batch
    # Inspect's defaults (BatchConfig: size 100, send_delay and tick 15, 50 batches in flight).
    assert on.enabled is True and (on.size, on.send_delay, on.tick) == (100, 15.0, 15.0)
    assert on.max_batches == 50 and on.max_size is None


@pytest.mark.parametrize(
    ("form", "enabled", "size"),
    [("batch=true", True, 100), ("batch=false", False, 100), ("batch=1000", True, 1000)],
)
def test_inspects_batch_forms(form: str, enabled: bool, size: int) -> None:
    batch = compose_config(["model=openai/x", form]).config.batch
    assert (batch.enabled, batch.size) == (enabled, size)


def test_a_batch_settings_file_named_on_the_command_line(clean_environment: Path) -> None:
    (clean_environment / "nightly.yaml").write_text("size: 7\nsend_delay: 2\n")
    batch = compose_config(["model=openai/x", "batch=nightly.yaml"]).config.batch
    assert batch.enabled and (batch.size, batch.send_delay) == (7, 2)
    (clean_environment / "typo.yaml").write_text("sise: 7\n")
    (typo,) = problems_of(["model=openai/x", "batch=typo.yaml"])
    assert "batch.sise [typo.yaml]" in typo and "did you mean 'size'" in typo
    (missing,) = problems_of(["model=openai/x", "batch=absent.yaml"])
    assert "cannot read batch settings file" in missing


def test_a_batch_setting_alone_turns_batching_on() -> None:
    sized = compose_config(["model=openai/x", "batch.size=500"]).config.batch
    assert sized.enabled is True and sized.size == 500 and sized.max_batches == 50
    kept_off = compose_config(["model=openai/x", "batch.size=500", "batch.enabled=false"])
    assert kept_off.config.batch.enabled is False


def test_a_batch_file_of_yours_and_bad_batch_settings(clean_environment: Path) -> None:
    folder = clean_environment / "conf" / "batch"
    folder.mkdir(parents=True)
    (folder / "nightly.yaml").write_text("size: 5000\nsend_delay: 60\ntick: 300\n")
    nightly = compose_config(["model=openai/x", "batch=nightly"]).config.batch
    assert nightly.enabled and (nightly.size, nightly.send_delay, nightly.tick) == (5000, 60, 300)
    problems = problems_of(["model=openai/x", "batch=on", "batch.size=10", "batch.max_size=5"])
    assert "batch" in problems[0] and "max_size (5) must be at least size (10)" in problems[0]
    (typo,) = problems_of(["model=openai/x", "batch.tik=1"])
    assert "did you mean 'tick'" in typo
    (zero,) = problems_of(["model=openai/x", "batch.tick=0"])
    assert "batch.tick" in zero and "greater than 0" in zero


def test_user_config_dir_overrides_and_adds(clean_environment: Path) -> None:
    user = clean_environment / "conf" / "task"
    user.mkdir(parents=True)
    (user / "theory_of_mind.yaml").write_text(
        "name: theory_of_mind\ndescription: mine\ndataset: {path: data.jsonl}\n"
    )
    (user / "extra.yaml").write_text("name: extra\ndataset: {path: extra.jsonl}\n")
    assert compose_config(["model=openai/x"]).config.task.description == "mine"
    assert compose_config(["model=openai/x", "task=extra"]).config.task.name == "extra"


def test_config_path_env_and_explicit_dirs(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("from_env", "explicit"):
        folder = clean_environment / name / "task"
        folder.mkdir(parents=True)
        (folder / f"{name}.yaml").write_text(f"name: {name}\ndataset: {{path: x.jsonl}}\n")
    monkeypatch.setenv("INSPECT_RUN_CONFIG_PATH", str(clean_environment / "from_env"))
    assert compose_config(["model=openai/x", "task=from_env"]).config.task.name == "from_env"
    explicit = compose_config(["model=openai/x", "task=explicit"], [clean_environment / "explicit"])
    assert explicit.config.task.name == "explicit"


def test_errors_name_the_yaml_file_they_came_from(clean_environment: Path) -> None:
    folder = clean_environment / "conf" / "task"
    folder.mkdir(parents=True)
    (folder / "broken.yaml").write_text("name: broken\ndataset: {path: 3, formt: csv}\n")
    problems = problems_of(["model=openai/x", "task=broken"])
    text = "\n".join(problems)
    assert "task.dataset.formt [conf/task/broken.yaml:2]" in text
    assert "did you mean 'format'" in text


def test_expand_sweep_is_the_cartesian_product() -> None:
    sweep = expand_sweep(["task=theory_of_mind", "model=openai/a,openai/b", "epochs=1,2"])
    assert len(sweep.jobs) == 4 and sweep.swept == ["model", "epochs"]
    assert sweep.jobs[0] == ["task=theory_of_mind", "model=openai/a", "epochs=1"]
    assert sweep.launcher == "basic" and sweep.name is None


def test_a_sweep_file_gives_axes_and_the_command_line_replaces_one(
    clean_environment: Path,
) -> None:
    folder = clean_environment / "conf" / "sweep"
    folder.mkdir(parents=True)
    (folder / "grid.yaml").write_text(
        "# @package _global_\nhydra:\n  sweeper:\n    params:\n"
        "      model: openai/a,openai/b\n      epochs: 1,2\nlimit: 3\n"
    )
    sweep = expand_sweep(["+sweep=grid", "epochs=5"])
    assert sweep.name == "grid" and sweep.swept == ["model"]
    assert sweep.jobs == [
        ["model=openai/a", "+sweep=grid", "epochs=5"],
        ["model=openai/b", "+sweep=grid", "epochs=5"],
    ]
    assert sweep.first.config.limit == 3
    assert expand_sweep(["sweep=grid"]).jobs[0] == ["model=openai/a", "epochs=1", "sweep=grid"]


def test_yaml_is_loaded_safely_and_bad_yaml_is_a_config_error(clean_environment: Path) -> None:
    folder = clean_environment / "conf" / "task"
    folder.mkdir(parents=True)
    marker = clean_environment / "pwned"
    (folder / "evil.yaml").write_text(
        f'name: evil\ndataset: !!python/object/apply:os.system ["touch {marker}"]\n'
    )
    (folder / "broken.yaml").write_text("name: broken\ndataset: {path: [x\n")
    (evil,) = problems_of(["model=openai/x", "task=evil"])
    assert "conf/task/evil.yaml:2" in evil and "python/object" in evil
    assert not marker.exists()
    (broken,) = problems_of(["model=openai/x", "task=broken"])
    assert "conf/task/broken.yaml" in broken and "not valid YAML" in broken


def test_a_credential_on_the_command_line_is_refused_and_masked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live-abcdef123456")
    (problem,) = problems_of(
        ["model=openai/x", "generation.extra_headers.Authorization=sk-live-abcdef123456"]
    )
    assert "never passed on the command line" in problem
    assert "sk-live-abcdef123456" not in problem


def test_a_schema_key_the_task_yaml_leaves_out_is_set_without_a_plus() -> None:
    composed = compose_config(
        ["task=math_word_problems", "model=none", "task.dataset.limit=2", "task.dataset.seed=3"]
    )
    assert composed.config.task.dataset.limit == 2
    assert composed.config.task.dataset.seed == 3
    with pytest.raises(ConfigError, match="did you mean 'limit'"):
        compose_config(["task=math_word_problems", "model=none", "task.dataset.limitt=2"])
