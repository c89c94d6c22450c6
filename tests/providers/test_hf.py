"""Hugging Face models in process: a tiny Llama with random weights and a real BPE tokenizer with a
chat template, built here and saved with `save_pretrained` (no hub, no download)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from engine.config import ConnectionConfig, GenerationConfig
from engine.messages import ChatMessage, ModelOutput
from engine.messages import system as system_message
from engine.messages import user as user_message
from engine.models import ModelHub
from engine.providers import ProviderConfigError, create_api
from tests.support.cli import run_cli_forked
from tests.test_cli import the_log

# One worker runs this module: loads the model once (module fixtures); slow, so it starts
# early instead of making a tail (about 13 s in all).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("test_hf")]

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}</s>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
CORPUS = [
    "Sally puts the marble in the basket and leaves the room.",
    "Anne moves the marble to the box while Sally is away.",
    "Where will Sally look for her marble when she comes back?",
    "The quick brown fox jumps over the lazy dog, twice a day.",
] * 20


def build_tiny_model(folder: Path, seed: int = 1) -> None:
    """A 2-layer Llama (random weights, fixed seed) and a byte-level BPE tokenizer trained on a
    few sentences, saved the way any transformers model folder is.

    With seed 1 the greedy answer to QUESTION runs past 24 tokens; with seed 0 it ends (the
    end-of-sequence token) after one token.
    """
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    specials = ["<pad>", "<s>", "</s>", "<|system|>", "<|user|>", "<|assistant|>"]
    trainer = trainers.BpeTrainer(
        vocab_size=320,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    bpe.train_from_iterator(CORPUS, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, bos_token="<s>", eos_token="</s>", pad_token="<pad>"
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny-llama")
    build_tiny_model(folder)
    return folder


@pytest.fixture(scope="module")
def early_ending_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny-llama-ending")
    build_tiny_model(folder, seed=0)
    return folder


def prompt_tokens(folder: Path, messages: list[dict[str, str]]) -> int:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    encoded = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_dict=True)
    return len(encoded["input_ids"])


async def generate_many(
    folder: Path, settings: Sequence[GenerationConfig], messages: list[ChatMessage]
) -> list[ModelOutput]:
    """Several calls on one loaded model, through the hub as the runner makes them."""
    hub = ModelHub(ConnectionConfig())
    try:
        model = hub.get("hf/tiny/llama", GenerationConfig(), {"path": str(folder)})
        return [await model.generate(messages, config) for config in settings]
    finally:
        await hub.aclose()


QUESTION = [system_message("Answer briefly."), user_message("Where is the marble?")]


@pytest.mark.anyio
async def test_greedy_generation_respects_max_tokens_and_counts_tokens(tiny_model: Path) -> None:
    greedy = GenerationConfig(temperature=0, max_tokens=12)

    twice = greedy.merged(GenerationConfig(num_choices=2))
    first, again, pair = await generate_many(tiny_model, [greedy, greedy, twice], QUESTION)

    assert first.completion and first.completion == again.completion  # greedy is stable
    assert [choice.message.text for choice in pair.choices] == [first.completion] * 2
    expected_prompt = prompt_tokens(
        tiny_model,
        [
            {"role": "system", "content": "Answer briefly."},
            {"role": "user", "content": "Where is the marble?"},
        ],
    )
    assert first.usage.input_tokens == expected_prompt
    assert first.usage.output_tokens == 12  # random weights: no end-of-sequence within 12
    assert first.usage.total_tokens == expected_prompt + 12
    assert first.choices[0].stop_reason == "max_tokens"
    assert first.model == "tiny/llama"


@pytest.mark.anyio
async def test_a_stop_sequence_cuts_the_reply(tiny_model: Path) -> None:
    greedy = GenerationConfig(temperature=0, max_tokens=24)
    [full] = await generate_many(tiny_model, [greedy], QUESTION)
    text = full.completion
    stop = next(text[i : i + 2] for i in range(3, len(text)) if text[i : i + 2].strip())

    [cut] = await generate_many(
        tiny_model, [greedy.merged(GenerationConfig(stop_seqs=[stop]))], QUESTION
    )

    assert cut.completion == text[: text.index(stop)]
    assert cut.choices[0].stop_reason == "stop"
    assert cut.usage.output_tokens < 24  # generation stopped, not just the text trimmed


@pytest.mark.anyio
async def test_sampling_with_a_seed_repeats_and_choices_are_counted(tiny_model: Path) -> None:
    sampled = GenerationConfig(temperature=1.0, top_p=0.95, top_k=50, seed=7, max_tokens=8)
    several = sampled.merged(GenerationConfig(num_choices=3))

    first, again, three = await generate_many(tiny_model, [sampled, sampled, several], QUESTION)

    assert first.completion == again.completion
    assert len(three.choices) == 3
    assert len({choice.message.text for choice in three.choices}) > 1  # sampled, not copied
    assert 3 <= three.usage.output_tokens <= 24


@pytest.mark.anyio
async def test_an_answer_ended_by_the_model_stops_and_counts_its_end_token(
    early_ending_model: Path,
) -> None:
    [output] = await generate_many(
        early_ending_model, [GenerationConfig(temperature=0, max_tokens=12)], QUESTION
    )

    assert output.choices[0].stop_reason == "stop"
    assert output.usage.output_tokens == 2  # one token, then </s> (not in the text)
    assert "</s>" not in output.completion


@pytest.mark.anyio
async def test_a_base_model_without_a_chat_template_continues_the_joined_texts(
    tiny_model: Path, tmp_path: Path
) -> None:
    import shutil

    from transformers import AutoTokenizer

    base = tmp_path / "base"
    shutil.copytree(tiny_model, base)
    (base / "chat_template.jinja").unlink()

    [output] = await generate_many(base, [GenerationConfig(temperature=0, max_tokens=4)], QUESTION)

    tokenizer = AutoTokenizer.from_pretrained(base)
    assert tokenizer.chat_template is None
    joined = "Answer briefly.\n\nWhere is the marble?"
    assert output.usage.input_tokens == len(tokenizer(joined)["input_ids"])
    assert output.usage.output_tokens == 4


def test_one_request_at_a_time_and_unsupported_settings(tiny_model: Path) -> None:
    api = create_api("hf/tiny/llama", {"path": str(tiny_model)}, None)

    assert api.max_connections == 1
    assert api.base_url == f"file://{tiny_model.resolve()}"
    assert api.unsupported(GenerationConfig(logprobs=True, seed=1, presence_penalty=0.5)) == [
        "presence_penalty",
        "logprobs",
    ]
    assert api.unsupported(GenerationConfig(logprobs=False)) == []


def test_the_model_name_may_be_the_folder(tiny_model: Path) -> None:
    api = create_api(f"hf/{tiny_model}", {}, None)
    assert api.base_url == f"file://{tiny_model.resolve()}"


def test_a_model_not_on_disk_or_bad_model_args_are_config_errors(
    tiny_model: Path, tmp_path: Path
) -> None:
    with pytest.raises(ProviderConfigError, match="not a model folder"):
        create_api("hf/x", {"path": str(tmp_path)}, None)
    with pytest.raises(ProviderConfigError, match="did you mean 'device'"):
        create_api("hf/x", {"devise": "cpu"}, None)
    with pytest.raises(ProviderConfigError, match="'float33' is not a torch dtype"):
        create_api("hf/x", {"path": str(tiny_model), "dtype": "float33"}, None)
    with pytest.raises(
        ProviderConfigError, match=r"model_args\.device: Invalid device string: 'gpu0'"
    ):
        create_api("hf/x", {"path": str(tiny_model), "device": "gpu0"}, None)
    with pytest.raises(ProviderConfigError, match="never downloads"):
        create_api("hf/nobody/nothing", {}, None)


def make_cache(home: Path, repo: str, folder: Path) -> None:
    """The local HF cache layout: hub/models--ORG--NAME/{refs/main, snapshots/COMMIT/…}."""
    import shutil

    commit = "0123456789abcdef0123456789abcdef01234567"
    repo_dir = home / "hub" / f"models--{repo.replace('/', '--')}"
    (repo_dir / "refs").mkdir(parents=True)
    (repo_dir / "refs" / "main").write_text(commit)
    shutil.copytree(folder, repo_dir / "snapshots" / commit)


def test_cli_runs_a_model_from_the_local_cache(tiny_model: Path, tmp_path: Path) -> None:
    home = tmp_path / "hf-home"
    make_cache(home, "tiny-org/tiny-llama", tiny_model)
    env: dict[str, Any] = {"HF_HOME": str(home)}

    done = run_cli_forked(
        "model=hf/tiny-org/tiny-llama",
        "limit=2",
        "generation.max_tokens=5",
        "generation.temperature=0",
        "fail_on_error=false",
        "display=plain",
        cwd=tmp_path,
        env=env,
        timeout=300,
    )  # a process of its own: huggingface_hub reads HF_HOME when first imported

    assert done.returncode == 0, done.stderr
    from inspect_ai.log import read_eval_log

    log = read_eval_log(str(the_log(tmp_path / "logs")))
    assert log.status == "success"
    assert log.eval.model == "hf/tiny-org/tiny-llama"
    assert log.samples is not None and len(log.samples) == 2
    for sample in log.samples:
        usage = sample.model_usage["hf/tiny-org/tiny-llama"]
        # Each sample: an answer and a grade (the grader falls back to the model), ≤ 5 tokens each.
        assert 0 < usage.output_tokens <= 10
    assert log.eval.model_base_url is not None and "snapshots" in log.eval.model_base_url

    missing = run_cli_forked("model=hf/nobody/nothing", cwd=tmp_path, env=env)
    assert missing.returncode == 2
    assert "hf/nobody/nothing: not in the local Hugging Face cache" in missing.stderr
    assert "never downloads" in missing.stderr
