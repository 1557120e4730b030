"""The runner protocol: a batch of chat requests in, one completion per request out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": str}
FinishReason = Literal["stop", "length"]


@dataclass(frozen=True, slots=True)
class Sampling:
    """One request's sampling. The four options that default to None are sent only when set:
    None means off in-process (vllm, transformers) and the server's own default for openai
    (which may be the model's generation config, e.g. Qwen3's top_k=20)."""

    max_tokens: int
    temperature: float = 1.0
    top_p: float = 1.0
    seed: int | None = None  # per request, so a request's sample does not depend on its batch
    top_k: int | None = None  # keep the k most likely tokens; 0 or -1: all
    min_p: float | None = None  # drop tokens below min_p x the top token's probability
    presence_penalty: float | None = None  # subtracted from the logit of every token already generated
    repetition_penalty: float | None = None  # divides positive logits of tokens seen (prompt or output); 1: off

    def extra(self) -> dict[str, float | int]:
        """The optional options that are set, by name."""
        return {
            name: value
            for name in ("top_k", "min_p", "presence_penalty", "repetition_penalty")
            if (value := getattr(self, name)) is not None
        }


@dataclass(frozen=True, slots=True)
class ChatRequest:
    messages: tuple[Message, ...]
    sampling: Sampling


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: FinishReason


class RunnerError(RuntimeError):
    """A backend failed in a way retrying will not fix (bad model, bad request, no server)."""


@runtime_checkable
class Runner(Protocol):
    """Every backend implements this. `generate` takes the whole batch at once: backends
    that can batch (vLLM, transformers) must, and servers get concurrent requests."""

    model: str  # what the run records as the model's name
    context_window: int  # tokens, prompt and completion together

    def count_tokens(self, messages: Sequence[Message]) -> int:
        """Prompt tokens of `messages` with the chat template and generation prompt applied."""
        ...

    def generate(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        """One completion per request, in request order."""
        ...

    def close(self) -> None: ...
