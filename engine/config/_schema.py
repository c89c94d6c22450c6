"""The one schema: every composed config is validated against `RunConfig` before anything runs.

The JSON Schemas in `schemas/` are generated from these models (see `engine.config.write_schemas`).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from engine._secrets import is_credential_name


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ResponseSchema(_Strict):
    """Structured output: a named JSON schema the reply must follow."""

    name: str
    json_schema: dict[str, Any]
    description: str | None = None
    strict: bool = True

    @field_validator("json_schema")
    @classmethod
    def _is_a_json_schema(cls, value: dict[str, Any]) -> dict[str, Any]:
        """A broken schema would fail every reply's validation: refuse it before the run."""
        import jsonschema

        try:
            jsonschema.validators.validator_for(value).check_schema(value)
        except jsonschema.exceptions.SchemaError as error:
            where = "/".join(str(p) for p in error.absolute_path)
            raise ValueError(f"not a valid JSON Schema: {error.message} (at /{where})") from None
        return value


class GenerationConfig(_Strict):
    """Settings that change what the model answers (and so belong in a cache key)."""

    temperature: Annotated[float, Field(ge=0)] | None = None
    top_p: Annotated[float, Field(gt=0, le=1)] | None = None
    top_k: Annotated[int, Field(ge=1)] | None = None
    max_tokens: Annotated[int, Field(ge=1)] | None = None
    stop_seqs: list[str] | None = None
    seed: int | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    logprobs: bool | None = None
    top_logprobs: Annotated[int, Field(ge=0, le=20)] | None = None
    num_choices: Annotated[int, Field(ge=1)] | None = None
    system_message: str | None = None
    reasoning_effort: Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"] | None = (
        None
    )
    reasoning_tokens: Annotated[int, Field(ge=0)] | None = None
    response_schema: ResponseSchema | None = None
    extra_headers: dict[str, str] | None = None
    extra_body: dict[str, Any] | None = None

    def merged(self, override: GenerationConfig) -> GenerationConfig:
        """Fields set in `override` win; the rest come from self. (Values are taken as they are:
        `model_dump` would turn a `ResponseSchema` into a plain dict.)"""
        update = {
            name: value
            for name in type(override).model_fields
            if (value := getattr(override, name)) is not None
        }
        return self.model_copy(update=update)


class ConnectionConfig(_Strict):
    """How to talk to a provider; never part of what the model answers."""

    max_connections: Annotated[int, Field(ge=1)] = 10
    max_retries: Annotated[int, Field(ge=0)] = 6
    timeout: Annotated[float, Field(gt=0)] | None = None
    attempt_timeout: Annotated[float, Field(gt=0)] | None = 120.0
    backoff_base: Annotated[float, Field(ge=0)] = 1.0
    backoff_max: Annotated[float, Field(gt=0)] = 60.0
    adaptive: bool = False
    """Halve a pool's concurrency on rate limits and grow it back as requests succeed."""
    auth_failures_stop: Annotated[int, Field(ge=0)] = 3
    """Stop the run when the first this-many requests to a provider account all fail with 401 or
    403 (a wrong key): at most this many are sent until one gets another answer. 0: never stop."""


_EXPIRY = re.compile(r"^\d+[smhDWMY]$")


class CacheConfig(_Strict):
    """Response cache: a repeated request (same model, messages, generation) is answered locally."""

    enabled: bool = False
    expiry: str | None = "1W"
    """How long an entry lives: `30m`, `12h`, `1D`, `1W`, `3M`, `1Y`; null for never."""
    per_epoch: bool = True
    """Each epoch gets its own answer (otherwise epochs repeat the first)."""
    scopes: dict[str, str] = Field(default_factory=dict)
    """Extra key parts, e.g. {prompt_version: v3}, to keep otherwise equal requests apart."""

    @field_validator("expiry")
    @classmethod
    def _expiry_format(cls, value: str | None) -> str | None:
        if value is None or value == "never" or _EXPIRY.match(value):
            return None if value == "never" else value
        raise ValueError("expected a duration like 30m, 12h, 1D, 1W, 3M, 1Y, or never")


def _null_means_default(schema: dict[str, Any]) -> None:
    """In YAML, null leaves a batch setting at its default (`conf/batch/off.yaml` is all nulls)."""
    for prop in schema.get("properties", {}).values():
        if "anyOf" not in prop:
            default = prop.pop("default", None)
            inner = {k: prop.pop(k) for k in list(prop) if k not in ("title", "description")}
            prop["anyOf"] = [inner, {"type": "null"}]
            if default is not None:
                prop["default"] = default


class BatchConfig(_Strict):
    """Provider batch APIs: requests are queued, sent in batches and polled (about half price).

    `enabled` null (the default group) turns batching on as soon as any other setting is given,
    so `batch.size=500` alone runs in batches; null settings keep their defaults.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_null_means_default)

    enabled: bool = False
    size: Annotated[int, Field(ge=1)] = 100
    """A batch is sent as soon as this many requests are queued (Inspect's default, 100)."""
    max_size: Annotated[int, Field(ge=1)] | None = None
    """Most requests per batch (a batch waiting for a slot grows up to it); null: the provider's
    limit, as in Inspect."""
    send_delay: Annotated[float, Field(ge=0)] = 15.0
    """Seconds the oldest queued request waits before a partial batch is sent."""
    tick: Annotated[float, Field(gt=0)] = 15.0
    """Seconds between polls of each batch in flight."""
    max_batches: Annotated[int, Field(ge=1)] = 50
    """Batches in flight at once per provider connection (base URL and account)."""

    @model_validator(mode="before")
    @classmethod
    def _defaults_and_switch(cls, data: Any) -> Any:
        if isinstance(data, bool):  # Inspect's forms, for a role: `batch: true`, `batch: 500`
            return {"enabled": data}
        if isinstance(data, int):
            return {"enabled": True, "size": data}
        if not isinstance(data, dict):
            return data
        given = {key: value for key, value in data.items() if value is not None}
        if "enabled" not in given:
            given["enabled"] = bool(given)
        return given

    @model_validator(mode="after")
    def _max_size_fits(self) -> BatchConfig:
        if self.max_size is not None and self.max_size < self.size:
            raise ValueError(
                f"max_size ({self.max_size}) must be at least size ({self.size}), or null"
            )
        return self


def _check_model_args(args: dict[str, Any]) -> dict[str, Any]:
    for key, value in args.items():
        if is_credential_name(key) and value is not None and not isinstance(value, bool):
            raise ValueError(
                f"model_args.{key} looks like a secret: keys come from the environment or .env, "
                "never from config (they would be saved in the run folder)"
            )
    return args


def _or_a_model_string(schema: dict[str, Any]) -> None:
    """In YAML a role is also just a model string (`grader: openai/gpt-4o`)."""
    mapping = dict(schema)
    schema.clear()
    schema["anyOf"] = [{"type": "string", "description": "a model string provider/name"}, mapping]


class RoleConfig(_Strict):
    """A model playing a role (grader, critic, ...) with its own generation settings."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_or_a_model_string)

    model: str | None = None
    """null: the model under test (with its model_args and base URL), playing the role with the
    settings given here (`roles.grader.generation.temperature=0` on an unbound grader)."""
    generation: GenerationConfig = GenerationConfig()
    model_args: dict[str, Any] = Field(default_factory=dict)
    base_url: str | None = None
    connection: ConnectionConfig | None = None
    """This role's connection settings (keys given here win over the run's `connection`)."""
    batch: BatchConfig | None = None
    """This role's batch settings (e.g. `roles.grader.batch.enabled=false`); null: the run's."""

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"model": value}
        if not isinstance(value, dict | BaseModel):
            raise ValueError(
                "expected a model string (provider/name) or a mapping "
                "{model, generation, model_args, base_url, connection, batch}"
            )
        return value

    _secret_free = field_validator("model_args")(_check_model_args)


RoleBinding = RoleConfig | list[RoleConfig]
"""One model, or several (e.g. three graders whose verdicts a scorer takes by majority)."""


class Price(_Strict):
    """What a model's tokens cost, in US dollars per million tokens."""

    input: Annotated[float, Field(ge=0)]
    output: Annotated[float, Field(ge=0)]
    cached_input: Annotated[float, Field(ge=0)] | None = None
    """Input tokens read from the provider's prompt cache (unset: charged as `input`)."""
    batch_input: Annotated[float, Field(ge=0)] | None = None
    """Prices through the provider's batch API (unset: the same as `input` / `output`)."""
    batch_output: Annotated[float, Field(ge=0)] | None = None


class BudgetConfig(_Strict):
    """A cap on what a run (or a whole sweep, `-m`) may spend; unset caps nothing. When the next
    sample would pass a cap (spend so far plus an estimate for the samples in flight), no new
    sample starts, those in flight finish, and the log is left resumable: the same command with a
    higher cap continues it."""

    cost: Annotated[float, Field(ge=0)] | None = None
    """US dollars, from the price table (`prices`): every paid model the eval uses needs a price."""
    tokens: Annotated[int, Field(ge=0)] | None = None
    """Input plus output tokens, over every model the eval uses."""


class GateConfig(_Strict):
    """Pass or fail runs on evidence (`inspect-run gate LOGS… gate=NAME`, or `gate=NAME` on a run
    or sweep): absolute checks, and a paired comparison with a baseline."""

    checks: list[str] = Field(default_factory=list)
    """`TASK.METRIC OP NUMBER`: `theory_of_mind.accuracy >= 0.8`, `*.error_rate <= 0.05`,
    `*.cost <= 2`, `*.latency_p95 <= 30`, `grader.kappa >= 0.6` (see README, Gate)."""
    baseline: str | None = None
    """Logs to compare with: a file or folder, or logs committed in git (`REF` for the same paths
    at REF, `REF:PATH` for another path), read without touching the work tree."""
    margin: Annotated[float, Field(ge=0, le=1)] = 0.02
    """Non-inferiority margin: the largest drop in mean score that still passes."""
    alpha: Annotated[float, Field(gt=0, lt=1)] = 0.05
    """The interval of the difference is 1 − alpha (two-sided)."""
    power: Annotated[float, Field(gt=0, lt=1)] = 0.8
    """For the minimum detectable effect."""
    min_samples: Annotated[int, Field(ge=1)] = 10
    """Fewer shared samples than this make a baseline comparison INCONCLUSIVE."""
    thresholds: Literal["estimate", "interval"] = "estimate"
    """`estimate`: a check holds when the measured value does; `interval`: when its whole
    interval does (FAIL when the whole interval misses, INCONCLUSIVE in between)."""
    cluster: str | None = None
    """Sample-metadata key naming the cluster, for logs whose dataset did not set `fields.cluster`."""
    human_grade: str | None = None
    """Sample-metadata key with people's grades, for logs whose dataset did not set it."""
    junit: str | None = None
    """Write JUnit XML here (one test case per check)."""
    markdown: str | None = None
    """Write the Markdown summary here (a pull-request comment)."""
    html: str | None = None
    """Write the HTML report (comparison, gate, grader reliability) here."""
    link: str = "{log}"
    """How the Markdown links a flipped sample: `{log}`, `{id}`, `{epoch}` are filled in."""

    @field_validator("checks")
    @classmethod
    def _checks_parse(cls, value: list[str]) -> list[str]:
        from engine.config._gate_checks import parse_check

        for text in value:
            parse_check(text)
        return value

    @field_validator("link")
    @classmethod
    def _link_fields(cls, value: str) -> str:
        try:
            value.format(log="", id="", epoch="")
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(f"link may use {{log}}, {{id}} and {{epoch}} only ({error})") from None
        return value


class DatasetFields(_Strict):
    """Which record fields become the sample's parts; `a.b` reaches into nested records."""

    input: str = "input"
    target: str | None = "target"
    id: str | None = "id"
    choices: str | None = None
    metadata: list[str] | None = None
    images: str | None = None
    """A field holding an image or a list of them (bytes, {bytes, path}, a file path or URL);
    they become image parts of the user message, after the input text."""
    cluster: str | None = None
    """A field naming the sample's cluster (its passage, topic, …): kept in the sample's metadata
    under this name, it makes every standard error shown clustered (Miller 2024)."""
    human_grade: str | None = None
    """A field holding a person's grade (C/I, …): kept in the sample's metadata under this name,
    it measures the grader's agreement with people (`inspect-run gate`)."""


class HubDataset(_Strict):
    """A dataset on the Hugging Face Hub, downloaded once into the Hub cache and read from there."""

    path: str
    """The repository, e.g. `allenai/ai2_arc`."""
    name: str | None = None
    """The configuration (subset), e.g. `ARC-Easy`: a config of the dataset card's `configs:`,
    else the folder its files sit in."""
    split: str = "test"
    revision: str = "main"
    data_files: str | list[str] | None = None
    """Glob(s) of repository files to read instead of finding them by `name` and `split`."""


class DatasetConfig(_Strict):
    """Local JSONL, JSON or CSV (`path`, resolved inside the task directories) or a Hub dataset."""

    path: str | None = None
    hub: HubDataset | None = None
    format: Literal["jsonl", "json", "csv", "parquet"] | None = None
    fields: DatasetFields = DatasetFields()
    record_to_sample: str | None = None
    """A Python hook `FILE.py[:FUNCTION]` (default function `record_to_sample`) in a task
    directory, for records the field mapping cannot express: record dict → Sample or dict."""
    encoding: str = "utf-8-sig"
    dialect: Literal["excel", "excel-tab", "unix"] = "excel"
    delimiter: str | None = None
    shuffle: bool = False
    seed: int | None = None
    shuffle_choices: bool = False
    """Shuffle each sample's choices (seeded by `seed` and the sample id); letter targets follow."""
    limit: Annotated[int, Field(ge=1)] | None = None
    image_max_size: Annotated[int, Field(ge=16)] = 1024
    """Images larger than this many pixels on their longer side are scaled down (aspect kept)."""
    allowed_roots: list[str] = Field(default_factory=list)
    """Folders besides the task directories that the dataset's files, its records' media and
    hooks may be read from (absolute paths are accepted inside them). Empty: only the task
    directories (a record's media: the dataset file's folder)."""
    duplicate_ids: Literal["error", "suffix"] = "error"
    """Two samples with one id (compared as text, as Inspect does): `error` (a config error naming
    both lines), or `suffix`: in file order, the second `x1` becomes `x1#2`, the third `x1#3`."""

    @model_validator(mode="after")
    def _one_source(self) -> DatasetConfig:
        if (self.path is None) == (self.hub is None):
            raise ValueError("set exactly one of dataset.path (a local file) or dataset.hub")
        if self.delimiter is not None and len(self.delimiter) != 1:
            raise ValueError(f"delimiter must be one character, got {self.delimiter!r}")
        return self

    @property
    def location(self) -> str:
        """Where the samples come from, for the log."""
        if self.hub is not None:
            parts = [self.hub.path, self.hub.name, self.hub.split]
            return "hf://" + "/".join(part for part in parts if part)
        return str(self.path)


_COMPONENT_JSON: dict[str, Any] = {
    "anyOf": [
        {
            "type": "string",
            "description": "A built-in name, an installed package's, or FILE.py:NAME",
        },
        {
            "type": "object",
            "description": "{NAME: {ARGUMENT: VALUE}}: one component with its arguments",
            "minProperties": 1,
            "maxProperties": 1,
            "additionalProperties": {
                "anyOf": [{"type": "object", "additionalProperties": True}, {"type": "null"}]
            },
        },
    ]
}

ComponentSpec = Annotated[str | dict[str, dict[str, Any] | None], WithJsonSchema(_COMPONENT_JSON)]
"""A solver, scorer, metric or reducer is named (`generate`, `my_scorers.py:keyword_overlap`) or
named with arguments (`{prompt_template: {template: …}}`)."""

Reducers = ComponentSpec | list[ComponentSpec]
"""`mean`, `[mean, pass_at_2]`, or reducers with arguments / from a user's file, as for scorers."""


class TaskConfig(_Strict):
    name: str
    description: str = ""
    dataset: DatasetConfig
    solvers: list[ComponentSpec] = Field(default_factory=lambda: list[ComponentSpec](["generate"]))
    scorers: list[ComponentSpec] = Field(default_factory=lambda: list[ComponentSpec](["match"]))
    metrics: list[ComponentSpec] = Field(
        default_factory=lambda: list[ComponentSpec](["accuracy", "stderr"])
    )
    epochs: Annotated[int, Field(ge=1)] | None = None
    """The task's default epochs (`epochs=N` on the command line wins)."""
    epochs_reducer: Reducers | None = None
    """The task's default reducers: mean, median, mode, max, pass_at_K, or your own."""
    generation: GenerationConfig = GenerationConfig()
    """The task's default generation settings; any set at the top level win, key by key."""
    roles: dict[str, RoleBinding | None] = Field(default_factory=dict)
    """The task's default roles; a role bound at the top level wins. Null declares a role the
    task's components may name without binding it (it falls back to the model under test)."""


def _role_over(task_role: Any, run_role: Any) -> Any:
    """A run's role wins over the task's; a run's role that only sets settings (no model) is laid
    over the task's binding, so the task's grader keeps its model and takes the settings."""
    if run_role is None:
        return task_role
    if not isinstance(run_role, dict) or "model" in run_role or isinstance(task_role, list):
        return run_role
    base = {"model": task_role} if isinstance(task_role, str) else dict(task_role or {})
    for key, value in run_role.items():
        below = base.get(key)
        both = isinstance(value, dict) and isinstance(below, dict)
        base[key] = {**below, **value} if both else value  # type: ignore[dict-item]
    return base


Limit = (
    Annotated[int, Field(ge=1)] | tuple[Annotated[int, Field(ge=0)], Annotated[int, Field(ge=1)]]
)


class RunConfig(_Strict):
    """The whole resolved config tree, as the runner sees it."""

    task: TaskConfig
    model: str | None = None
    model_args: dict[str, Any] = Field(default_factory=dict)
    model_base_url: str | None = None
    generation: GenerationConfig = GenerationConfig()
    connection: ConnectionConfig = ConnectionConfig()
    batch: BatchConfig = BatchConfig()
    cache: CacheConfig = CacheConfig()
    roles: dict[str, RoleBinding | None] = Field(default_factory=dict)
    gate: GateConfig | None = None
    """`gate=NAME` (conf/gate/NAME.yaml): checked when the run or sweep ends."""
    prices: dict[str, Price] = Field(default_factory=dict)
    """Keyed by model string (`openai/gpt-4o`), provider (`openai`) or glob (`*:groq`); the most
    specific key wins. Used by the comparison table; never part of a run's identity."""
    budget: BudgetConfig = BudgetConfig()
    """Caps in money and/or tokens (never part of a run's identity: a higher cap resumes)."""
    plan: bool = False
    """Print what the run or sweep would send and cost (`inspect-run plan …`), and send nothing."""
    limit: Limit | None = None
    sample_id: str | int | list[str | int] | None = None
    # YAML may leave these null (the task's default, then 1 / mean fill them before validation).
    epochs: Annotated[
        int,
        Field(ge=1),
        WithJsonSchema({"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]}),
    ] = 1
    """Unset (null): the task's `epochs`, else 1."""
    epochs_reducer: Annotated[
        Reducers,
        WithJsonSchema(
            {
                "anyOf": [
                    *_COMPONENT_JSON["anyOf"],
                    {"type": "array", "items": _COMPONENT_JSON},
                    {"type": "null"},
                ]
            }
        ),
    ] = "mean"
    """Unset (null): the task's `epochs_reducer`, else mean."""
    shuffle: bool = False
    seed: int | None = None
    retry_on_error: Annotated[int, Field(ge=0)] = 0
    """Run a failed sample again up to this many times before recording its error."""
    resume: bool = True
    """Continue an interrupted run of the same config in `log_dir` instead of starting afresh."""
    fail_on_error: bool | int | float = True
    """true: any failed sample fails the run; false: never; 0 < x < 1: a proportion; N ≥ 1: a count."""
    log_dir: str = "logs"
    log_format: Literal["eval", "json"] = "eval"
    """Inspect's `.eval` (a zip: one entry per sample, read lazily by viewers) or EvalLog JSON."""
    tags: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    display: Literal["auto", "rich", "plain", "none"] = "auto"
    shard: str | None = None
    """`I/N`: run only the I-th of N slices of the selected samples (I from 0 to N-1, the selected
    samples at positions I, I+N, I+2N, …). Unset: from a Slurm job array or a Kubernetes Indexed
    Job when run as one, else the whole eval. `inspect-run merge` joins the shards' logs."""
    shards: Annotated[int, Field(ge=1)] | None = None
    """The shard count where the environment gives only an index (`JOB_COMPLETION_INDEX`)."""
    workers: Annotated[int, Field(ge=1)] = 1
    """Run the eval as this many shard processes on this machine, merged at the end; the
    connection limits are divided between them."""

    _secret_free = field_validator("model_args")(_check_model_args)

    @model_validator(mode="before")
    @classmethod
    def _task_defaults(cls, data: Any) -> Any:
        """The task's epochs, reducers, generation and roles fill what the run leaves unset."""
        if not isinstance(data, dict) or not isinstance(data.get("task"), dict):
            return data
        task = data["task"]
        data = dict(data)
        for key, fallback in (("epochs", 1), ("epochs_reducer", "mean")):
            if data.get(key) is None:
                data[key] = task.get(key) if task.get(key) is not None else fallback
        task_generation = task.get("generation")
        if isinstance(task_generation, dict) and isinstance(data.get("generation", {}), dict):
            run_generation = data.get("generation") or {}
            data["generation"] = {
                **task_generation,
                **{k: v for k, v in run_generation.items() if v is not None},
            }
        task_roles = task.get("roles")
        if isinstance(task_roles, dict) and isinstance(data.get("roles", {}), dict):
            run_roles = data.get("roles") or {}
            data["roles"] = {
                **run_roles,
                **{k: _role_over(v, run_roles.get(k)) for k, v in task_roles.items()},
            }
        return data

    @property
    def runs_workers(self) -> bool:
        """`workers=K` in the process the user started: it runs the K shard processes."""
        return self.workers > 1 and self.shard is None

    @property
    def is_worker(self) -> bool:
        """One of `workers=K`'s shard processes (the process that runs them sets its `shard`)."""
        return self.workers > 1 and self.shard is not None

    @property
    def reducers(self) -> list[ComponentSpec]:
        return (
            list(self.epochs_reducer)
            if isinstance(self.epochs_reducer, list)
            else [self.epochs_reducer]
        )

    @field_validator("fail_on_error")
    @classmethod
    def _error_threshold(cls, value: bool | int | float) -> bool | int | float:
        if isinstance(value, bool) or (isinstance(value, int) and value >= 1) or 0 < value < 1:
            return value
        raise ValueError("expected true, false, a proportion between 0 and 1, or a count >= 1")

    @field_validator("log_dir")
    @classmethod
    def _log_dir_writable(cls, value: str) -> str:
        """`s3://…` and other fsspec URLs need their package: say so before the run starts."""
        from engine._remote_urls import remote_problem

        problem = remote_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("limit", mode="before")
    @classmethod
    def _limit_from_list(cls, value: Any) -> Any:
        if isinstance(value, list):
            return tuple(value)
        return value

    @field_validator("roles")
    @classmethod
    def _no_empty_role_list(
        cls, value: dict[str, RoleBinding | None]
    ) -> dict[str, RoleBinding | None]:
        for role, binding in value.items():
            if isinstance(binding, list) and not binding:
                raise ValueError(f"role '{role}' is bound to an empty list of models")
        return value

    @field_validator("shard")
    @classmethod
    def _shard_form(cls, value: str | None) -> str | None:
        from engine._sharding import parse_shard

        if value is not None:
            parse_shard(value)  # a ValueError saying what was expected
        return value

    @model_validator(mode="after")
    def _shard_needs_seed(self) -> RunConfig:
        """An unseeded shuffle draws its order in each process: shards would overlap."""
        sharded = self.shard is not None or self.workers > 1
        shuffled = self.shuffle or self.task.dataset.shuffle
        if sharded and shuffled and self.seed is None and self.task.dataset.seed is None:
            raise ValueError(
                "shards of a shuffled eval need a seed (seed=N), so every shard "
                "draws the same order"
            )
        return self

    @model_validator(mode="after")
    def _limit_range(self) -> RunConfig:
        if isinstance(self.limit, tuple) and self.limit[0] >= self.limit[1]:
            raise ValueError(f"limit [start, end] needs start < end, got {list(self.limit)}")
        return self
