"""Stand-in of vllm.sampling_params (see the package docstring): the fields the adapter sets,
with vLLM's defaults and checks."""

from __future__ import annotations


class SamplingParams:
    def __init__(
        self,
        *,
        n: int = 1,
        temperature: float = 1.0,
        top_p: float = 1.0,
        top_k: int = 0,
        seed: int | None = None,
        max_tokens: int | None = 16,
        min_p: float = 0.0,
        presence_penalty: float = 0.0,
        repetition_penalty: float = 1.0,
    ):
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}.")
        if temperature < 0:
            raise ValueError(f"temperature must be non-negative, got {temperature}.")
        if not 0.0 < top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {top_p}.")
        if max_tokens is not None and max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {max_tokens}.")
        self.n, self.temperature, self.top_p, self.top_k = n, temperature, top_p, top_k
        self.seed, self.max_tokens = seed, max_tokens
        self.min_p, self.presence_penalty, self.repetition_penalty = min_p, presence_penalty, repetition_penalty

    def __repr__(self) -> str:
        return (
            f"SamplingParams(n={self.n}, temperature={self.temperature}, top_p={self.top_p}, "
            f"seed={self.seed}, max_tokens={self.max_tokens})"
        )
