import json

import jsonschema

from engine._assets import schemas_dir
from engine.config._jsonschema import build_schemas, drifted, schema_text


def test_committed_schemas_match_the_models() -> None:
    assert drifted() == [], "run `inspect-run schemas` and commit schemas/"


def test_drift_is_detected(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for name, schema in build_schemas().items():
        (tmp_path / f"{name}.schema.json").write_text(schema_text(schema))
    assert drifted(tmp_path) == []
    (tmp_path / "generation.schema.json").write_text("{}\n")
    assert drifted(tmp_path) == ["generation.schema.json"]


def test_schemas_reject_unknown_generation_keys() -> None:
    schema = json.loads((schemas_dir() / "generation.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    assert not list(validator.iter_errors({"temperature": 0.5, "max_tokens": 10}))
    errors = list(validator.iter_errors({"temprature": 0.5}))
    assert errors and errors[0].validator == "additionalProperties"


def test_every_schema_file_the_configs_and_readme_name_exists() -> None:
    import re

    from engine._assets import conf_dir

    texts = [p.read_text() for p in conf_dir().rglob("*.yaml")]
    texts.append((schemas_dir().parent / "README.md").read_text())
    named = {name for text in texts for name in re.findall(r"schemas/([\w.-]+\.json)", text)}
    assert named and {n for n in named if not (schemas_dir() / n).is_file()} == set()
