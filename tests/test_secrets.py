"""A recognisable fake key, runs that succeed and fail, a sweep and the cache: the key is nowhere."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.support.files import found_in
from tests.support.openai_server import OpenAIServer, Request, error
from tests.test_cli import run_cli

FAKE_KEY = "sk-proj-FAKE-KEY-DO-NOT-LEAK-0123456789"


def echo_key_in_errors(request: Request) -> str | object:
    """Like OpenAI's 401 ("Incorrect API key provided: sk-…"), this provider echoes the key."""
    prompt = request.messages[-1]["content"]
    if "Anne" in prompt and "[Expert]:" not in prompt:
        key = request.headers["authorization"].removeprefix("Bearer ")
        return error(401, f"Incorrect API key provided: {key}")
    return "the basket\nGRADE: C"


def test_the_key_lands_in_no_file(tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    with OpenAIServer(echo_key_in_errors) as server:
        env = {
            "OPENAI_API_KEY": FAKE_KEY,
            "OPENAI_BASE_URL": server.base_url,
            "INSPECT_RUN_CACHE_DIR": str(cache_dir),
        }
        # Some samples are refused, some answered: the auth breaker must not stop these runs.
        lenient = ["fail_on_error=false", "connection.auth_failures_stop=0"]
        single = run_cli("model=openai/m", "limit=6", "cache=on", *lenient, cwd=tmp_path, env=env)
        assert single.returncode == 0, single.stderr
        failing = run_cli("model=openai/m", "limit=6", cwd=tmp_path, env=env)
        assert failing.returncode == 1
        sweep = run_cli("-m", "model=openai/a,openai/b", "limit=3", *lenient, cwd=tmp_path, env=env)
        assert sweep.returncode == 0, sweep.stderr
        typed = run_cli("model=openai/m", f"metadata.note={FAKE_KEY}", cwd=tmp_path, env=env)
        assert typed.returncode == 2
    outputs = [single, failing, sweep, typed]
    assert all(FAKE_KEY not in done.stdout + done.stderr for done in outputs)
    assert "Incorrect API key provided: ***" in failing.stderr
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".eval" for p in files)
    assert any(p.name == "comparison.md" for p in files)  # the sweep's outputs are checked too
    assert found_in(FAKE_KEY, files) == []
    assert os.environ.get("OPENAI_API_KEY") != FAKE_KEY


# ── credentials that do not come from a known variable: by meaning, wherever they are ────────────

import inspect  # noqa: E402
import json  # noqa: E402
from collections.abc import Callable  # noqa: E402

import pytest  # noqa: E402

from engine.cli import cli  # noqa: E402

LITERAL = "gw-LITERAL-9f8e7d6c"
"""A credential that looks like nothing in particular: only its place says it is one."""


def nowhere(root: Path, value: str, *outputs: str) -> None:
    """`value` is in no file under `root` (logs, saved configs, sweep folder, cache) nor output."""
    for output in outputs:
        assert value not in output
    written = [p for p in root.rglob("*") if not p.is_relative_to(root / "conf")]  # not the YAML
    assert found_in(value, written) == []


@pytest.fixture
def user_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The working directory: a user's conf/ with a task over a two-line dataset."""
    (tmp_path / "conf" / "task").mkdir(parents=True)
    (tmp_path / "conf" / "task" / "mine.yaml").write_text(
        "name: mine\ndataset: {path: mine.jsonl}\nscorers: [includes]\n"
    )
    lines = [{"input": "Say hi", "target": "hi"}, {"input": "Say yo", "target": "yo"}]
    (tmp_path / "mine.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("INSPECT_RUN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("INSPECT_RUN_CONFIG_PATH", raising=False)
    return tmp_path


def headers_task(repo: Path, headers: str) -> None:
    (repo / "conf" / "task" / "mine.yaml").write_text(
        "name: mine\ndataset: {path: mine.jsonl}\nscorers: [includes]\n"
        f"generation:\n  extra_headers:\n    {headers}\n"
    )


PLACES: list[tuple[str, list[str], Callable[[Path], None] | None]] = [
    ("model_args header", [f"model_args.default_headers.Authorization='Bearer {LITERAL}'"], None),
    ("generation header", [f"generation.extra_headers.x-api-key={LITERAL}"], None),
    ("role header", [f"+roles.grader.model_args.default_headers.Cookie='s={LITERAL}'"], None),
    ("URL userinfo", [f"model_base_url=https://me:{LITERAL}@127.0.0.1:9/v1"], None),
    ("URL parameter", [f"model_base_url='https://127.0.0.1:9/v1?key={LITERAL}'"], None),
    ("task YAML", [], lambda repo: headers_task(repo, f"x-goog-api-key: {LITERAL}")),
    (
        "sweep",
        ["-m", "model=openai/a,openai/b", f"generation.extra_headers.api-key={LITERAL}"],
        None,
    ),
    ("metadata", [f"metadata.client_secret={LITERAL}"], None),
]


@pytest.mark.parametrize(("place", "args", "setup"), PLACES, ids=[p[0] for p in PLACES])
def test_a_credential_written_into_the_config_is_refused_before_anything_is_saved(
    user_repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    place: str,
    args: list[str],
    setup: Callable[[Path], None] | None,
) -> None:
    if setup is not None:
        setup(user_repo)
    with OpenAIServer(fixed_answer("hi")) as server:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-for-literal-credentials")
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        code = cli(["task=mine", "model=openai/m", "display=none", *args])
        assert server.requests == []
    out, err = capsys.readouterr()
    assert code == 2, err
    assert "${oc.env:YOUR_VARIABLE}" in err
    nowhere(user_repo, LITERAL, out, err)


def fixed_answer(text: str) -> Callable[[Request], str]:
    return lambda request: text


def test_credentials_from_the_environment_are_sent_but_land_in_no_file(
    user_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`${oc.env:…}` headers under names that do not look like credentials: masked by meaning."""
    gateway, other = "gw-from-env-1a2b3c", "hdr-from-env-4d5e6f"
    monkeypatch.setenv("MY_GATEWAY", gateway)
    monkeypatch.setenv("MY_HEADER", other)
    headers_task(user_repo, "Authorization: Bearer ${oc.env:MY_GATEWAY}")
    with OpenAIServer(fixed_answer("hi")) as server:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-for-env-credentials")
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        header = "model_args.default_headers.x-api-key=${oc.env:MY_HEADER}"
        single = cli(["task=mine", "model=openai/m", "cache=on", "display=none", header])
        sweep = cli(["-m", "task=mine", "model=openai/a,openai/b", "display=none", header])
        sent = server.chat_requests()
    out, err = capsys.readouterr()
    assert (single, sweep) == (0, 0), err
    assert {r.headers["authorization"] for r in sent} == {f"Bearer {gateway}"}
    assert {r.headers["x-api-key"] for r in sent} == {other}
    saved = (next(user_repo.rglob("config.yaml"))).read_text()
    assert "Authorization: '***'" in saved or "Authorization: ***" in saved
    for value in (gateway, other):
        nowhere(user_repo, value, out, err)


def test_a_short_key_echoed_by_a_401_is_masked(
    user_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    short = "k3y5z"

    def refuse(request: Request) -> object:
        key = request.headers["authorization"].removeprefix("Bearer ")
        return error(401, f"Incorrect API key provided: {key}. Find your key at the dashboard.")

    with OpenAIServer(refuse) as server:
        monkeypatch.setenv("OPENAI_API_KEY", short)
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        code = cli(["task=mine", "model=openai/m", "display=none"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "Incorrect API key provided: ***." in err
    nowhere(user_repo, short, out, err)


# ── no false positives ─────────────────────────────────────────────────────────────────────────────


def test_token_counts_are_not_secrets_and_their_values_are_shown() -> None:
    from engine.config import ConfigError, compose_config

    composed = compose_config(
        ["model=llama-cpp-python/SmolLM2-135M-Instruct", "model_args.last_n_tokens_size=64"]
    )
    assert composed.config.model_args == {"last_n_tokens_size": 64}
    with pytest.raises(ConfigError) as raised:
        compose_config(["model=openai/m", "generation.max_tokens=-5"])
    assert "generation.max_tokens=-5" in str(raised.value)
    assert "got -5" in str(raised.value)


def _sdk_parameters() -> dict[str, inspect.Parameter]:
    """Every keyword the SDK clients behind our providers accept (their `model_args`)."""
    import anthropic
    import boto3.session
    import botocore.session
    import huggingface_hub
    import llama_cpp
    import openai
    from google import genai

    clients: list[Callable[..., object]] = [
        openai.AsyncOpenAI,
        openai.AsyncAzureOpenAI,
        anthropic.AsyncAnthropic,
        anthropic.AsyncAnthropicBedrock,
        anthropic.AsyncAnthropicVertex,
        genai.Client,
        llama_cpp.Llama,
        botocore.session.Session.create_client,
        boto3.session.Session,
        huggingface_hub.AsyncInferenceClient,
    ]
    found: dict[str, inspect.Parameter] = {}
    for client in clients:
        for name, parameter in inspect.signature(client).parameters.items():
            if name != "self" and parameter.kind is not inspect.Parameter.VAR_KEYWORD:
                found.setdefault(name, parameter)
    return found


CREDENTIALS = {
    "api_key", "admin_api_key", "auth_token", "webhook_secret", "webhook_key", "azure_ad_token",
    "credentials", "access_token", "aws_secret_key", "aws_access_key", "aws_session_token",
    "aws_secret_access_key", "token", "cookies",
}  # fmt: skip
"""What really is a credential among those keywords (and so is refused in `model_args`)."""


def test_only_the_sdk_arguments_that_are_credentials_are_refused() -> None:
    from pydantic import ValidationError

    from engine.config import RoleConfig

    parameters = _sdk_parameters()
    assert {"last_n_tokens_size", "max_retries", "n_ctx", "aws_access_key_id"} <= set(parameters)
    refused = set()
    for name, parameter in parameters.items():
        # The value a user would write: the SDK's own boolean flags stay booleans.
        value = parameter.default if isinstance(parameter.default, bool) else "x1"
        try:
            RoleConfig(model="openai/m", model_args={name: value})
        except ValidationError as error:
            assert "looks like a secret" in str(error)
            refused.add(name)
    assert refused == CREDENTIALS & set(parameters)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ('{"input_tokens":5,"output":"see https://ann:pw@example.com/x"}', "https://***@"),
        ('{"u":"https://h/x?model=a&key=abc123"}', "&key=***"),
        ('{"x-api-key":"k-123"}', '"x-api-key":"***"'),
        ('{"c":"then password=hunter2 was used"}', "password=*** was"),
        ("the header was bearer abcdefgh", "bearer ***"),
        ("the header was Baſic dXNlcjpwYXNz", "Baſic ***"),  # IGNORECASE folds ſ onto s
        ("a key sk-abcdefghijklmnop1234 in prose", "a key *** in prose"),
        ("AKIAABCDEFGHIJKLMNOP alone", "*** alone"),
    ],
)
def test_each_redaction_rule_masks_in_text_that_triggers_no_other(text: str, masked: str) -> None:
    """`redact_by_meaning` runs a pattern only on text holding what its matches need: each
    rule still masks on its own, whatever else the text holds."""
    from engine._secrets import redact_by_meaning

    assert masked in redact_by_meaning(text)


FRAGMENTS = [
    *("sk-", "AIza", "AKIA", "ASIA", "ghp_", "gho_", "hf_", "xai-", "pplx_", "gsk-", "glpat_"),
    *("xoxb-", "cookies", "cookie", "authorization", "auth", "credentials", "token", "passwd"),
    *("password", "passphrase", "pass", "secret", "key"),
    *("api_key", "Bearer ", "basic ", "https://", "u:p@h", "?key=", "&", "=", ":", '"', "'"),
    *(" ", "\n", "abcdefghij", "ABCDEFGHIJ", "0123456789", "_tokens", "${oc.env:K}"),
]


@given(st.lists(st.sampled_from(FRAGMENTS), max_size=12).map("".join))
@example("cookies=abcdefghij")
@example("pass passphrase: abcdefghij")  # the stem gate `pass`, then the word
@example('{"credentials": "abcdefghij"}')
@example("authorization=abcdefghij")
@example("token ghp_" + "abcdefghij" * 4)
@example("xoxb-abcdefghij glpat_" + "abcdefghij" * 3)
@example("AIza" + "abcdefghij" * 4 + " ASIAABCDEFGHIJ012345")
@settings(max_examples=400, deadline=None)
def test_the_quick_checks_skip_only_rules_that_could_not_match(text: str) -> None:
    """`redact_by_meaning` skips a rule when cheap checks (one pass for every key-shape start,
    credential words looked for under their gate word) say it cannot match: the result is the
    one every rule run unconditionally gives."""
    from engine import _secrets as s

    expected = s._USERINFO.sub(lambda m: f"{m.group(1)}{s.MASK}@", text)
    expected = s._QUERY_PARAM.sub(
        lambda m: (
            f"{m.group(1)}{m.group(2)}={s.MASK}"
            if s._credential_url_param(m.group(2)) and m.group(3) and not s._unresolved(m.group(3))
            else m.group(0)
        ),
        expected,
    )
    for pattern in (s._QUOTED_PAIR, s._LINE_PAIR, s._ASSIGNMENT):
        expected = pattern.sub(s._mask_pair, expected)
    expected = s._BEARER.sub(lambda m: f"{m.group(1)} {s.MASK}", expected)
    expected = s._KEY_SHAPES.sub(s.MASK, expected)
    assert s.redact_by_meaning(text) == expected
    lower = text.lower()
    assert s._has_credential_name_end(lower) == bool(s._CREDENTIAL_NAME_END.search(lower))


KEY_BODY = "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3"  # 34 letters and digits: long enough for any shape


@pytest.mark.parametrize(
    "key",
    [
        f"sk-{KEY_BODY}",
        f"sk-ant-{KEY_BODY}",
        f"AIza{KEY_BODY}",
        "AKIAABCDEFGHIJKLMNOP",
        "ASIA0123456789ABCDEF",
        *(f"gh{letter}_{KEY_BODY}" for letter in "pousr"),
        f"hf_{KEY_BODY}",
        *(f"{prefix}{sep}{KEY_BODY}" for prefix in ("xai", "pplx", "gsk", "glpat") for sep in "-_"),
        *(f"xox{letter}-{KEY_BODY[:12]}" for letter in "abpr"),
    ],
)
def test_every_key_shape_is_masked_in_a_log_sample(key: str) -> None:
    """The quick check that lets a text skip the key shapes (a literal each shape starts with)
    lets every shape through, in the JSON of a sample with nothing else to mask."""
    from engine._secrets import redact_by_meaning

    text = json.dumps({"id": 1, "output": {"content": f"your key is {key}, keep it"}})
    assert key not in redact_by_meaning(text) and "your key is ***, keep it" in redact_by_meaning(
        text
    )
