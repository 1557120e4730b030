from __future__ import annotations

import sys
from pathlib import Path

import pytest

FAKE_VLLM = Path(__file__).resolve().parents[1] / "fake_vllm"


@pytest.fixture
def fake_vllm(monkeypatch):
    """Puts the vLLM stand-in (tests/fake_vllm) on sys.path for one test; spawned children inherit it."""
    monkeypatch.syspath_prepend(str(FAKE_VLLM))
    for name in [m for m in sys.modules if m == "vllm" or m.startswith("vllm.")]:
        monkeypatch.delitem(sys.modules, name)
    import vllm

    assert vllm.__version__.endswith("+fake")
    vllm.LLM.instances.clear()
    yield vllm
    for name in [m for m in sys.modules if m == "vllm" or m.startswith("vllm.")]:
        del sys.modules[name]


@pytest.fixture(scope="session")
def tiny_tokenizer_dir(tmp_path_factory) -> Path:
    """A small real Hugging Face tokenizer (word level, with a chat template) saved to disk."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = "def solve return print x for in range if else hi hello write a program reply to seed".split()  # noqa: SIM905
    specials = ["[UNK]", "<eos>", "<|system|>", "<|user|>", "<|assistant|>"]
    vocab = {token: i for i, token in enumerate(specials + words)}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        unk_token="[UNK]",
        eos_token="<eos>",
        pad_token="<eos>",
        additional_special_tokens=specials[2:],
    )
    tokenizer.chat_template = (
        "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} <eos> {% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>{% endif %}"
    )
    path = tmp_path_factory.mktemp("tiny-tokenizer")
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def smollm_runner():
    """The real embedded model, loaded once per test session."""
    from runners import RunnerConfig, make_runner

    runner = make_runner(RunnerConfig(kind="transformers", batch_size=4))
    yield runner
    runner.close()
